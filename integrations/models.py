"""Integrations: mail out and in, outbound webhooks, monitoring alerts (SPEC §5).

Every message that crosses the suite's boundary is a row first: an OutboundEmail or WebhookDelivery is
written in the same transaction as the ticket change that caused it (so nothing is lost if the broker is
down: a beat sweep re-enqueues pending rows), and every inbound mail is kept as an InboundEmail with its
raw bytes, whatever became of it.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class TicketRef(models.Model):
    """A generic link to the ticket (of any kind) a message belongs to, with its number frozen."""

    ticket_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ticket_id = models.BigIntegerField(null=True, blank=True)
    ticket = GenericForeignKey("ticket_type", "ticket_id")
    ticket_number = models.CharField(max_length=16, blank=True, db_index=True)

    class Meta:
        abstract = True

    def set_ticket(self, ticket) -> None:
        self.ticket_type = ContentType.objects.get_for_model(ticket)
        self.ticket_id = ticket.pk
        self.ticket_number = ticket.number


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"  # written, not yet sent (or waiting for its next retry)
    SENT = "sent", "Sent"  # accepted by the mail server / receiver answered 2xx
    FAILED = "failed", "Failed"  # gave up after the last attempt, or refused (unsafe target)


class OutboundEmail(TicketRef):
    """One notification mail to one recipient; its Message-ID lets replies thread back to the ticket."""

    event = models.CharField(max_length=64)
    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    recipient = models.EmailField(max_length=254)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="outbound_status_idx"),
            models.Index(fields=["ticket_type", "ticket_id", "created_at"], name="outbound_ticket_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {self.recipient}"


class InboundStatus(models.TextChoices):
    TICKET_CREATED = "ticket_created", "Opened a ticket"
    COMMENT_ADDED = "comment_added", "Added a comment"
    IGNORED = "ignored", "Ignored (automatic, bulk or bounce)"  # kept, never opens anything, never answered
    REJECTED = "rejected", "Rejected (sender not on the ticket)"  # a stranger's reply: kept for an admin
    FAILED = "failed", "Failed"  # could not be parsed or too large: kept with the reason


def inbound_raw_path(instance: InboundEmail, filename: str) -> str:
    return f"integrations/inbound/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.eml"


class InboundEmail(TicketRef):
    """Every mail received, by its Message-ID (unique: the same mail never creates two records).

    A mail without a Message-ID gets one derived from the SHA-256 of its bytes, so re-ingesting the
    same file is still a no-op. The raw bytes are kept in file storage for every mail.
    """

    message_id = models.CharField(max_length=255, unique=True)
    in_reply_to = models.CharField(max_length=255, blank=True)
    references = models.TextField(blank=True)
    from_address = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=200, blank=True, help_text="File path, 'stdin' or 'imap:<uid>'")
    size = models.PositiveBigIntegerField(default=0)
    raw = models.FileField(upload_to=inbound_raw_path, max_length=255, blank=True)
    status = models.CharField(max_length=20, choices=InboundStatus.choices)
    reason = models.TextField(blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attachments_added = models.JSONField(default=list, blank=True)
    attachments_refused = models.JSONField(default=list, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["status", "received_at"], name="inbound_status_idx")]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.status})"


class Webhook(models.Model):
    """An admin's subscription of a URL to ticket events; deliveries are signed with `secret`."""

    name = models.CharField(max_length=120)
    url = models.URLField(max_length=500)
    events = models.JSONField(default=list, help_text='Event names, e.g. ["incident.created"], or ["*"]')
    secret = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_name: str) -> bool:
        kind = event_name.split(".", 1)[0]
        return "*" in self.events or event_name in self.events or f"{kind}.*" in self.events


class WebhookDelivery(models.Model):
    """One event for one webhook: retried in place, so a receiver that was down gets it exactly once."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(max_length=64)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_idx"),
            models.Index(fields=["webhook", "-created_at"], name="delivery_webhook_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.webhook} ({self.status})"


class AlertLink(models.Model):
    """One monitoring alert (by fingerprint) and the incident it opened: the dedup key under concurrency."""

    fingerprint = models.CharField(max_length=128, unique=True)
    source = models.CharField(max_length=32, default="alertmanager")
    incident = models.ForeignKey(
        "incidents.Incident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=16, default="firing")
    alertname = models.CharField(max_length=200, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    notifications = models.PositiveIntegerField(default=0)
    first_seen = models.DateTimeField(default=timezone.now)
    last_seen = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_seen"]

    def __str__(self) -> str:
        return f"{self.alertname or self.fingerprint} ({self.status})"
