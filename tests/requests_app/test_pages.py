"""Agent pages: request and task lists (query budget), details, the approvals inbox, the survey report."""

import pytest
from django.urls import reverse

from core import approvals
from portal.services import survey_submit
from requests_app import services

from .conftest import GOOD_LAPTOP


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [5, 50])
def test_lists_have_a_fixed_query_count(
    client, agent, requester, vpn, django_assert_max_num_queries, page_size
):
    for _ in range(page_size // 5 + 1):
        services.request_create(actor=requester, catalog_item=vpn, variables={})
    client.force_login(agent)
    for name in ("request-list", "task-list", "approval-list"):
        with django_assert_max_num_queries(20):
            response = client.get(reverse(name), {"page_size": page_size, "view": "all"})
        assert response.status_code == 200, name


@pytest.mark.django_db
def test_details_offer_only_manual_moves_and_tasks_complete_the_request(
    client, agent, requester, manager, laptop
):
    request = services.request_create(actor=requester, catalog_item=laptop, variables=GOOD_LAPTOP)
    client.force_login(agent)
    page = client.get(reverse("request-detail", args=[request.number])).content.decode()
    assert "Developer" in page and "manager1" in page
    assert reverse("request-transition", args=[request.number, "approved"]) not in page
    assert client.post(reverse("request-transition", args=[request.number, "approved"])).status_code == 400
    approvals.decide(approvals.pending_for(manager).get(), actor=manager, approve=True)
    for task in request.tasks.order_by("order"):
        detail = client.get(reverse("task-detail", args=[task.number])).content.decode()
        assert request.number in detail
        moved = client.post(reverse("task-transition", args=[task.number, "done"]), {"version": task.version})
        assert moved.status_code == 302, moved.content.decode()[:2000]
    request.refresh_from_db()
    assert request.state == "fulfilled"


@pytest.mark.django_db
def test_approval_inbox_decides_with_htmx(client, requester, manager, laptop):
    request = services.request_create(actor=requester, catalog_item=laptop, variables=GOOD_LAPTOP)
    approval = approvals.pending_for(manager).get()
    client.force_login(manager)
    assert request.number in client.get(reverse("approval-list")).content.decode()
    response = client.post(
        reverse("approval-decide", args=[approval.pk]),
        {"decision": "reject", "comment": "Not this year"},
        HTTP_HX_REQUEST="true",
    )
    assert "You rejected" in response.content.decode()
    request.refresh_from_db()
    assert request.state == "rejected"


@pytest.mark.django_db
def test_survey_report_for_agents_only(client, agent, requester, vpn):
    request = services.request_create(actor=requester, catalog_item=vpn, variables={})
    for task in request.tasks.all():
        services.task_transition(task, to="done", actor=agent)
    request.refresh_from_db()
    survey_submit(request, actor=requester, rating=2, comment="Took a while")
    client.force_login(requester)
    assert client.get(reverse("survey-report")).status_code == 404
    client.force_login(agent)
    page = client.get(reverse("survey-report")).content.decode()
    assert "2.00 / 5" in page and "Took a while" in page
