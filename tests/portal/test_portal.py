"""Portal pages doing their job: ordering with errors next to fields, approving, rating, searching."""

import pytest
from django.urls import reverse

from core import approvals
from incidents.services import incident_create, incident_transition
from portal.models import SatisfactionSurvey
from requests_app import services
from requests_app.models import Request
from tests.requests_app.conftest import GOOD_LAPTOP


@pytest.mark.django_db
def test_order_form_shows_errors_next_to_fields_then_orders(client, requester, laptop):
    client.force_login(requester)
    url = reverse("portal:catalog-item", args=[laptop.pk])
    page = client.get(url).content.decode()
    assert 'name="model"' in page and 'type="date"' in page
    bad = client.post(url, {"model": "Gaming", "justification": "", "needed_by": "31/12/2026"})
    assert bad.status_code == 200
    html = bad.content.decode()
    assert 'id="id_model_errors"' in html and 'id="id_justification_errors"' in html
    assert "Enter a date as YYYY-MM-DD." in html
    assert not Request.objects.exists()
    good = client.post(url, {**GOOD_LAPTOP, "extras": ["Bag"], "urgent": "on"})
    request = Request.objects.get()
    assert good.status_code == 302 and good.url == reverse("portal:ticket-detail", args=[request.number])
    assert request.variables["extras"] == ["Bag"] and request.variables["urgent"] is True
    detail = client.get(good.url).content.decode()
    assert "Pending approval" in detail and "2027-01-15" in detail


@pytest.mark.django_db
def test_manager_approves_from_the_portal_with_htmx(client, requester, manager, laptop):
    request = services.request_create(actor=requester, catalog_item=laptop, variables=GOOD_LAPTOP)
    approval = approvals.pending_for(manager).get()
    client.force_login(manager)
    inbox = client.get(reverse("portal:approvals")).content.decode()
    assert request.number in inbox
    url = reverse("portal:approval-decide", args=[approval.pk])
    refused = client.post(url, {"decision": "reject", "comment": ""}, HTTP_HX_REQUEST="true")
    assert "Say why you reject it" in refused.content.decode()
    done = client.post(url, {"decision": "approve", "comment": "ok"}, HTTP_HX_REQUEST="true")
    assert "You approved" in done.content.decode()
    again = client.post(url, {"decision": "reject", "comment": "changed my mind"}, HTTP_HX_REQUEST="true")
    assert "You approved" in again.content.decode()
    request.refresh_from_db()
    assert request.state == "in_fulfillment"


@pytest.mark.django_db
def test_survey_offered_once_when_resolved(client, requester, agent):
    incident = incident_create(actor=requester, short_description="Printer jam")
    client.force_login(requester)
    url = reverse("portal:ticket-detail", args=[incident.number])
    assert 'data-testid="survey-form"' not in client.get(url).content.decode()
    assert (
        client.post(reverse("portal:ticket-survey", args=[incident.number]), {"rating": 5}).status_code == 400
    )
    incident_transition(
        incident,
        to="resolved",
        actor=agent,
        fields={"resolution_code": "solved", "resolution_notes": "Cleared"},
    )
    assert 'data-testid="survey-form"' in client.get(url).content.decode()
    survey_url = reverse("portal:ticket-survey", args=[incident.number])
    assert client.post(survey_url, {"rating": 9}).status_code == 400
    assert client.post(survey_url, {"rating": 4, "comment": "Quick"}).status_code == 302
    assert client.post(survey_url, {"rating": 1}).status_code == 400
    survey = SatisfactionSurvey.objects.get()
    assert (survey.rating, survey.comment, survey.respondent) == (4, "Quick", requester)
    assert "You rated this 4/5" in client.get(url).content.decode()


@pytest.mark.django_db
def test_search_suggests_catalog_items_and_report_shows_major_incident(client, requester, agent, laptop):
    client.force_login(requester)
    html = client.get(reverse("portal:search"), {"q": "lapt"}).content.decode()
    assert "Laptop" in html and reverse("portal:catalog-item", args=[laptop.pk]) in html
    incident_create(actor=agent, short_description="Email service outage", major=True, impact=1, urgency=1)
    suggest = client.get(reverse("portal:report-suggest"), {"short_description": "my email is down"})
    assert "Email service outage" in suggest.content.decode()
    unrelated = client.get(reverse("portal:report-suggest"), {"short_description": "printer jammed"})
    assert "Email service outage" not in unrelated.content.decode()
    created = client.post(reverse("portal:report"), {"short_description": "Cannot print", "urgency": 2})
    assert created.status_code == 302
    assert client.post(reverse("portal:report"), {"short_description": "", "urgency": 2}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("page_size", [5, 50])
def test_portal_lists_have_a_fixed_query_count(
    client, requester, manager, vpn, laptop, django_assert_max_num_queries, page_size
):
    for _ in range(page_size // 5 + 1):
        services.request_create(actor=requester, catalog_item=vpn, variables={})
        services.request_create(actor=requester, catalog_item=laptop, variables=GOOD_LAPTOP)
    client.force_login(requester)
    for url in ("portal:home", "portal:tickets", "portal:catalog"):
        with django_assert_max_num_queries(14):
            assert client.get(reverse(url)).status_code == 200
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        assert client.get(reverse("portal:approvals")).status_code == 200
