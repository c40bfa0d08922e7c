"""The admins' integrations page and inbound-mail pages: admin-only, fixed query count."""

import pytest

from integrations.inbound import ingest
from integrations.models import Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("count", [5, 50])
def test_home_lists_webhooks_and_failed_mails_in_fixed_queries(
    admin_client, count, django_assert_max_num_queries
):
    for index in range(count):
        hook = Webhook.objects.create(
            name=f"hook{index}", url="https://hooks.example/x", events=["*"], secret="s"
        )
        WebhookDelivery.objects.create(
            webhook=hook, event="incident.created", payload={}, status="failed", last_error="HTTP 500"
        )
        ingest(f"Message-ID: <bad{index}@x>\nSubject: broken\n\nno sender\n".encode())
    with django_assert_max_num_queries(14):
        response = admin_client.get("/integrations/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "hook0" in body and "HTTP 500" in body
    assert "no sender address in From" in body


def test_inbound_pages_are_for_admins_only(admin_client, client, agent, mail_bytes):
    row, _ = ingest(mail_bytes("12_broken_mime.eml"))
    assert admin_client.get(f"/integrations/inbound/{row.pk}/").status_code == 200
    raw = admin_client.get(f"/integrations/inbound/{row.pk}/raw/")
    assert b"".join(raw.streaming_content) == mail_bytes("12_broken_mime.eml")
    client.force_login(agent)
    assert client.get("/integrations/").status_code == 404
    assert client.get(f"/integrations/inbound/{row.pk}/").status_code == 404
