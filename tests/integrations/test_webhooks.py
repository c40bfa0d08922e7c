"""Outbound webhooks against a real HTTP receiver on loopback; SSRF targets refused without traffic."""

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import override_settings

from incidents.services import incident_create
from integrations.models import DeliveryStatus, Webhook, WebhookDelivery

pytestmark = pytest.mark.django_db

SECRET = "s3cret-for-tests"


class Receiver:
    """A loopback HTTP server answering the statuses queued in `answers` (then 200)."""

    def __init__(self, answers=()):
        self.answers = list(answers)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                status = receiver.answers.pop(0) if receiver.answers else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"temporarily broken")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def subscribe(api_client, admin_user, url, events=("incident.created",)):
    return api_client(admin_user).post(
        "/api/v1/webhooks/",
        {"name": "ops", "url": url, "events": list(events), "secret": SECRET},
        format="json",
    )


@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=True)
def test_signed_delivery_lands_on_the_third_attempt(
    api_client, admin_user, requester, django_capture_on_commit_callbacks
):
    with Receiver(answers=[500, 503]) as receiver:
        response = subscribe(api_client, admin_user, receiver.url)
        assert response.status_code == 201, response.json()
        assert "secret" not in response.json()
        with django_capture_on_commit_callbacks(execute=True):
            incident = incident_create(actor=requester, short_description="Disk full on db1")
    assert len(receiver.requests) == 3
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.SENT, 3, 200)
    assert delivery.response_excerpt == "ok"
    for headers, body in receiver.requests:
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-ITSM-Signature"] == expected
        assert headers["X-ITSM-Event"] == "incident.created"
        assert headers["X-ITSM-Delivery"] == str(delivery.pk)
    payload = json.loads(receiver.requests[-1][1])
    assert payload["event"] == "incident.created" and payload["delivery"] == str(delivery.pk)
    assert payload["record"]["number"] == incident.number
    assert payload["record"]["short_description"] == "Disk full on db1"


@override_settings(WEBHOOK_ALLOW_PRIVATE_TARGETS=True, WEBHOOK_MAX_ATTEMPTS=3)
def test_a_receiver_that_stays_down_gets_one_failed_delivery(
    admin_user, requester, django_capture_on_commit_callbacks
):
    with Receiver() as receiver:
        url = receiver.url  # the port is closed once the receiver is gone
    Webhook.objects.create(name="down", url=url, events=["*"], secret=SECRET)
    with django_capture_on_commit_callbacks(execute=True):
        incident_create(actor=requester, short_description="x")
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_status) == (DeliveryStatus.FAILED, 3, None)
    assert "ConnectError" in delivery.last_error


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/",
        "http://127.0.0.1:9/",
        "http://169.254.169.254/latest/meta-data/",
        "http://localhost:8080/x",
    ],
)
def test_internal_targets_are_refused_at_subscription(api_client, admin_user, url):
    response = subscribe(api_client, admin_user, url)
    assert response.status_code == 400
    assert "WEBHOOK_ALLOW_PRIVATE_TARGETS is false" in response.json()["url"][0]
    assert not Webhook.objects.exists()


def test_internal_targets_are_refused_at_delivery(requester, django_capture_on_commit_callbacks):
    with Receiver() as receiver:
        Webhook.objects.create(name="sneaky", url=receiver.url, events=["incident.*"], secret=SECRET)
        with django_capture_on_commit_callbacks(execute=True):
            incident_create(actor=requester, short_description="x")
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and "127.0.0.1" in delivery.last_error


def test_events_are_validated_and_webhooks_are_admin_only(api_client, admin_user, agent):
    response = api_client(admin_user).post(
        "/api/v1/webhooks/",
        {"name": "x", "url": "http://127.0.0.1/", "events": ["incident.exploded"], "secret": "x"},
        format="json",
    )
    assert response.status_code == 400 and "incident.exploded" in response.json()["events"][0]
    assert api_client(agent).get("/api/v1/webhooks/").status_code == 404
