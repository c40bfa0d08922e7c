"""Catalog fixtures shared by the request tests: a Laptop needing manager approval, items approved by a
group and by manager-then-group, and an item without approval."""

import pytest

from requests_app.models import CatalogCategory, CatalogItem, CatalogTaskTemplate, CatalogVariable


@pytest.fixture
def manager(make_user):
    return make_user("manager1", first_name="Mary")


@pytest.fixture
def requester(make_user, manager):
    return make_user("requester1", first_name="Rita", manager=manager)


@pytest.fixture
def other_requester(make_user, manager):
    return make_user("requester2", first_name="Sam", manager=manager)


@pytest.fixture
def approvers(make_user, make_group):
    first, second = make_user("approver1"), make_user("approver2")
    return make_group("finance-approvers", members=[first, second])


@pytest.fixture
def category(db):
    return CatalogCategory.objects.create(name="Hardware", icon="device-laptop")


def _item(category, name, approval, group=None, tasks=(), variables=()):
    item = CatalogItem.objects.create(
        name=name, category=category, approval=approval, approval_group=group, description=f"Order a {name}"
    )
    for order, (short, assignment_group) in enumerate(tasks, start=1):
        CatalogTaskTemplate.objects.create(
            item=item, short_description=short, assignment_group=assignment_group, order=order
        )
    for order, fields in enumerate(variables, start=1):
        CatalogVariable.objects.create(item=item, order=order, **fields)
    return item


LAPTOP_VARIABLES = [
    {
        "name": "model",
        "label": "Model",
        "type": "choice",
        "required": True,
        "choices": ["Standard", "Developer"],
    },
    {"name": "justification", "label": "Justification", "type": "text", "required": True},
    {"name": "needed_by", "label": "Needed by", "type": "date", "required": True},
    {"name": "screens", "label": "Extra screens", "type": "number"},
    {"name": "colleague", "label": "Colleague", "type": "user"},
    {"name": "server", "label": "Server", "type": "ci"},
    {"name": "extras", "label": "Extras", "type": "multi_choice", "choices": ["Bag", "Mouse"]},
    {"name": "urgent", "label": "Urgent", "type": "boolean"},
]

GOOD_LAPTOP = {"model": "Developer", "justification": "New hire", "needed_by": "2027-01-15"}


@pytest.fixture
def laptop(category, service_desk):
    return _item(
        category,
        "Laptop",
        "manager",
        tasks=[("Prepare laptop", service_desk), ("Hand over", service_desk)],
        variables=LAPTOP_VARIABLES,
    )


@pytest.fixture
def group_item(category, approvers, service_desk):
    return _item(category, "Software licence", "group", approvers, tasks=[("Assign licence", service_desk)])


@pytest.fixture
def two_stage_item(category, approvers, service_desk):
    return _item(category, "Server", "manager_then_group", approvers, tasks=[("Build server", service_desk)])


@pytest.fixture
def vpn(category, service_desk):
    return _item(category, "VPN access", "none", tasks=[("Grant VPN", service_desk)])
