"""The close code and notes: asked at `review`, accepted at `closed` when review did not set them."""

import pytest

from changes import services
from changes.models import ChangeTemplate
from tests.api_tokens import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def in_review(manager, window):
    """`in_review(**review_fields)`: a standard change moved to review through the API; (client, url)."""

    def _make(**review_fields):
        start, end = window()
        template = ChangeTemplate.objects.create(name="certs", short_description="Rotate certs")
        change = services.change_create(
            actor=manager,
            short_description="Rotate certs",
            template=template,
            planned_start=start,
            planned_end=end,
        )
        client = token_client(manager)
        url = f"/api/v1/changes/{change.number}/transition/"
        for to, fields in (("scheduled", {}), ("implement", {}), ("review", review_fields)):
            response = client.post(url, {"to": to, **fields}, format="json")
            assert response.status_code == 200, response.content
        return client, url, change

    return _make


def test_closing_takes_the_close_code_when_review_did_not(in_review):
    client, url, change = in_review()
    response = client.post(url, {"to": "closed", "review_notes": "Done"}, format="json")
    assert response.status_code == 400 and "close_code" in response.json()
    response = client.post(
        url, {"to": "closed", "review_notes": "Done", "close_code": "bogus"}, format="json"
    )
    assert response.status_code == 400 and "close_code" in response.json()
    response = client.post(
        url,
        {
            "to": "closed",
            "review_notes": "Done",
            "close_code": "successful_with_issues",
            "close_notes": "1 retry",
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = client.get(f"/api/v1/changes/{change.number}/").json()
    assert (body["state"], body["close_code"], body["close_notes"]) == (
        "closed",
        "successful_with_issues",
        "1 retry",
    )


def test_a_close_code_set_at_review_stays(in_review):
    client, url, change = in_review(close_code="successful", close_notes="Clean")
    response = client.post(
        url, {"to": "closed", "review_notes": "Ok", "close_code": "unsuccessful"}, format="json"
    )
    assert response.status_code == 400 and "already set" in str(response.json()["close_code"]).lower()
    response = client.post(
        url,
        {"to": "closed", "review_notes": "Ok", "close_code": "successful", "close_notes": ""},
        format="json",
    )
    assert response.status_code == 200, response.content
    change.refresh_from_db()
    assert (change.state, change.close_code, change.close_notes) == ("closed", "successful", "Clean")
