"""The problem and change pages: list query budgets, detail panels, CAB decisions, calendar."""

import pytest
from django.urls import reverse

from changes import services as change_services
from changes.models import BlackoutWindow
from core.approvals import Approval
from problems import services as problem_services

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_pages_query_budget(client, manager, cab, window, django_assert_max_num_queries, page_size):
    for i in range(8):
        start, end = window(offset=24 + i)
        change_services.change_create(
            actor=manager, short_description=f"c{i}", planned_start=start, planned_end=end, cab_approvers=cab
        )
        problem_services.problem_create(actor=manager, short_description=f"p{i}")
    client.force_login(manager)
    for name in ("change-list", "problem-list"):
        with django_assert_max_num_queries(25):
            response = client.get(reverse(name), {"page_size": page_size, "view": "all"})
        assert response.status_code == 200
        assert response.content.count(b"data-number=") == min(page_size, 8)


def test_change_page_shows_conflicts_and_cab_decision(client, manager, cab, make_ci, window):
    ci = make_ci("srv1")
    start, end = window()
    BlackoutWindow.objects.create(name="Quarter close", start=start, end=end)
    change = change_services.change_create(
        actor=manager,
        short_description="Patch",
        planned_start=start,
        planned_end=end,
        cab_approvers=cab,
        configuration_items=[ci],
    )
    change_services.change_transition(change, to="assess", actor=manager)
    change_services.change_transition(change, to="authorize", actor=manager)
    client.force_login(cab[0])
    page = client.get(change.get_absolute_url()).content.decode()
    assert 'data-conflict="Quarter close"' in page and 'data-action="approve"' in page
    response = client.post(
        reverse("change-decide", kwargs={"number": change.number, "decision": "reject"}),
        {"comment": "Too risky"},
    )
    assert response.status_code == 302
    change.refresh_from_db()
    assert change.state == "new"
    assert Approval.objects.get(object_id=change.pk, approver=cab[0]).comment == "Too risky"


def test_calendar_week_and_month(client, manager, make_ci, window):
    from changes.models import ChangeTemplate

    ci = make_ci("srv1")
    start, end = window(offset=1)
    template = ChangeTemplate.objects.create(name="t", short_description="Routine restart")
    change = change_services.change_create(
        actor=manager, template=template, planned_start=start, planned_end=end, configuration_items=[ci]
    )
    change_services.change_transition(change, to="scheduled", actor=manager)
    BlackoutWindow.objects.create(name="Freeze", start=start, end=end)
    client.force_login(manager)
    for mode in ("week", "month"):
        page = client.get(
            reverse("change-calendar"), {"view": mode, "date": start.date().isoformat()}
        ).content.decode()
        assert f'data-calendar-change="{change.number}"' in page and 'data-blackout="Freeze"' in page
    page = client.get(
        reverse("change-calendar"), {"date": start.date().isoformat(), "risk": "high"}
    ).content.decode()
    assert change.number not in page
    page = client.get(
        reverse("change-calendar"), {"date": start.date().isoformat(), "ci": ci.pk}
    ).content.decode()
    assert change.number in page


def test_problem_page_links_incidents(client, agent):
    from incidents.services import incident_create

    problem = problem_services.problem_create(actor=agent, short_description="p")
    incident = incident_create(actor=agent, short_description="i")
    client.force_login(agent)
    response = client.post(
        reverse("problem-link-incidents", kwargs={"number": problem.number}), {"incidents": "INC9999999"}
    )
    assert response.status_code == 400 and b"INC9999999" in response.content
    response = client.post(
        reverse("problem-link-incidents", kwargs={"number": problem.number}), {"incidents": incident.number}
    )
    assert response.status_code == 302
    assert (
        f'data-linked-incident="{incident.number}"' in client.get(problem.get_absolute_url()).content.decode()
    )
