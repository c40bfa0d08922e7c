"""A contract every ticket resource must honour, checked once here (in the spirit of NetBox's APIViewTestCases).

A resource's test declares only its data:

    class TestIncidentContract(TicketAPIContract):
        base_url = "/api/v1/incidents/"

        @pytest.fixture
        def make_record(self, ...):  # returns a callable(owner) -> record opened by `owner`
            ...

        update_payload = {"description": "changed"}

and inherits the checks of authentication, requester scoping (404, absent from lists), brief mode, ETag and
If-Match, and the audit rows written for create and update.
"""

from __future__ import annotations

import pytest

from core.models import Activity


@pytest.mark.django_db
class TicketAPIContract:
    base_url: str
    update_payload: dict

    def detail_url(self, record) -> str:
        return f"{self.base_url}{record.number}/"

    def test_anonymous_is_refused(self, api_client, make_record, requester):
        record = make_record(requester)
        client = api_client(None)
        assert client.get(self.base_url).status_code in (401, 403)
        assert client.get(self.detail_url(record)).status_code in (401, 403)

    def test_owner_sees_it_and_another_requester_gets_404(
        self, api_client, make_record, requester, other_requester
    ):
        record = make_record(requester)
        assert api_client(requester).get(self.detail_url(record)).status_code == 200
        stranger = api_client(other_requester)
        for suffix in ("", "timeline/", "comments/", "attachments/"):
            assert stranger.get(self.detail_url(record) + suffix).status_code == 404, suffix
        assert (
            stranger.post(
                self.detail_url(record) + "transition/", {"to": "canceled"}, format="json"
            ).status_code
            == 404
        )
        numbers = [row["number"] for row in stranger.get(self.base_url).json()["results"]]
        assert record.number not in numbers
        assert stranger.get(f"{self.base_url}?search={record.number}").json()["count"] == 0

    def test_agent_sees_everything(self, api_client, make_record, requester, agent):
        record = make_record(requester)
        numbers = [row["number"] for row in api_client(agent).get(self.base_url).json()["results"]]
        assert record.number in numbers

    def test_brief_mode_returns_only_brief_fields(self, api_client, make_record, requester, agent):
        make_record(requester)
        row = api_client(agent).get(f"{self.base_url}?brief=1").json()["results"][0]
        assert set(row) == {"number", "url", "short_description", "state", "priority"}

    def test_create_writes_the_created_audit_row(self, make_record, requester):
        record = make_record(requester)
        created = Activity.objects.filter(
            object_id=record.pk, kind="created", content_type__model=record._meta.model_name
        )
        assert created.count() == 1
        assert created.get().actor_name == requester.username

    def test_update_with_etag_then_stale_etag_gets_412(self, api_client, make_record, requester, agent):
        record = make_record(requester)
        client = api_client(agent)
        etag = client.get(self.detail_url(record))["ETag"]
        first = client.patch(self.detail_url(record), self.update_payload, format="json", HTTP_IF_MATCH=etag)
        assert first.status_code == 200, first.json()
        assert first["ETag"] != etag
        stale = client.patch(
            self.detail_url(record), {"short_description": "lost"}, format="json", HTTP_IF_MATCH=etag
        )
        assert stale.status_code == 412
        assert client.get(self.detail_url(record)).json()["short_description"] != "lost"
        audit = Activity.objects.filter(object_id=record.pk, content_type__model=record._meta.model_name)
        assert audit.filter(kind__in=["field_change", "assignment"]).count() == 1
