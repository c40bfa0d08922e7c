"""Outbound webhooks: one signed JSON delivery per event and subscription, retried in place.

`queue_for_event` (inside the ticket's transaction) writes one WebhookDelivery per matching active
webhook; `attempt_delivery` (Celery) POSTs it with httpx, never following redirects, after re-checking
that the target still resolves to public addresses only. A failed attempt schedules the next one with
exponential backoff; the delivery id stays the same, so a receiver can deduplicate on X-ITSM-Delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.config_cache import ConfigCache
from core.events import Event

from . import conf
from .models import DeliveryStatus, Webhook, WebhookDelivery
from .netguard import check_target
from .tickets import ticket_models

logger = logging.getLogger(__name__)

# The events a webhook may subscribe to (SPEC §5), as patterns: "<kind>.<action>", "<kind>.*" or "*".
WEBHOOK_ACTIONS = ("created", "updated", "state_changed", "commented", "approval_requested")
SLA_EVENTS = ("sla.warning", "sla.breached")


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _json_safe(value):
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def payload_for(event: Event) -> dict:
    ticket = event.record
    record = {
        "kind": getattr(ticket, "KIND", event.kind),
        "number": getattr(ticket, "number", None),
        "short_description": getattr(ticket, "short_description", ""),
        "state": getattr(ticket, "state", None),
        "priority": getattr(ticket, "priority", None),
        "assignment_group": getattr(getattr(ticket, "assignment_group", None), "name", None),
        "assigned_to": getattr(getattr(ticket, "assigned_to", None), "username", None),
        "url": settings.SITE_URL.rstrip("/") + ticket.get_absolute_url()
        if hasattr(ticket, "get_absolute_url")
        else None,
    }
    return {
        "event": event.name,
        "occurred_at": timezone.now().isoformat(),
        "actor": getattr(event.actor, "username", None),
        "record": record,
        "data": _json_safe(event.data),
    }


def _load_active_webhooks(_key=None) -> list[Webhook]:
    return list(Webhook.objects.filter(active=True))


# Active subscriptions, per process (every ticket write asks; admins rarely change them). Any committed
# change to a Webhook row invalidates every process's copy (core.config_cache).
_active_webhooks = ConfigCache(_load_active_webhooks, models=(Webhook,))


def queue_for_event(event: Event) -> list[WebhookDelivery]:
    webhooks = [hook for hook in _active_webhooks.get() if hook.wants(event.name)]
    if not webhooks:
        return []
    payload = payload_for(event)
    return WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(webhook=hook, event=event.name, payload=payload) for hook in webhooks]
    )


def backoff_seconds(attempts: int) -> int:
    return conf.get("WEBHOOK_RETRY_BASE_SECONDS") * 2 ** max(attempts - 1, 0)


def attempt_delivery(delivery_id) -> str:
    """Make one attempt; returns "sent", "retry" (next_attempt_at set), "failed" or "skipped"."""
    with transaction.atomic():
        # Locked for the attempt so the sweep and a late task can never send it twice at once.
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("webhook")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != DeliveryStatus.PENDING:
            return "skipped"
        hook = delivery.webhook
        body = json.dumps({**delivery.payload, "delivery": str(delivery.pk)}, sort_keys=True).encode()
        delivery.attempts += 1
        try:
            check_target(hook.url)
        except ValidationError as exc:
            delivery.status = DeliveryStatus.FAILED
            delivery.last_error = "; ".join(exc.message_dict.get("url", exc.messages))
            delivery.save()
            return "failed"
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "itsm-webhooks/1",
            "X-ITSM-Event": delivery.event,
            "X-ITSM-Delivery": str(delivery.pk),
            "X-ITSM-Signature": signature(hook.secret, body),
        }
        try:
            response = httpx.post(
                hook.url,
                content=body,
                headers=headers,
                timeout=conf.get("WEBHOOK_TIMEOUT"),
                follow_redirects=False,
            )
            delivery.response_status = response.status_code
            delivery.response_excerpt = response.text[:1000]
            ok = 200 <= response.status_code < 300
            delivery.last_error = "" if ok else f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            ok = False
            delivery.response_status = None
            delivery.response_excerpt = ""
            delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        now = timezone.now()
        if ok:
            delivery.status = DeliveryStatus.SENT
            delivery.delivered_at = now
            outcome = "sent"
        elif delivery.attempts >= conf.get("WEBHOOK_MAX_ATTEMPTS"):
            delivery.status = DeliveryStatus.FAILED
            outcome = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=backoff_seconds(delivery.attempts))
            outcome = "retry"
        delivery.save()
    if outcome != "sent":
        logger.warning("webhook delivery %s to %s: %s", delivery.pk, hook.url, delivery.last_error)
    return outcome


def event_names() -> list[str]:
    """Every name a subscription may list (for the API schema's enum)."""
    kinds = sorted(model.KIND for model in ticket_models().values())
    names = ["*", *SLA_EVENTS]
    for kind in kinds:
        names += [f"{kind}.*", *(f"{kind}.{action}" for action in WEBHOOK_ACTIONS)]
    return names


def validate_events(events) -> list[str]:
    """Each entry is "*", "<kind>.*", a ticket event "<kind>.<action>", or an SLA event."""
    kinds = {model.KIND for model in ticket_models().values()}
    if not isinstance(events, list) or not events:
        raise ValidationError({"events": 'List at least one event, e.g. ["incident.created"] or ["*"].'})
    bad = []
    for name in events:
        if not isinstance(name, str):
            bad.append(repr(name))
            continue
        kind, _, action = name.partition(".")
        if (
            name == "*"
            or name in SLA_EVENTS
            or (kind in kinds and (action == "*" or action in WEBHOOK_ACTIONS))
        ):
            continue
        bad.append(name)
    if bad:
        raise ValidationError(
            {
                "events": f'Unknown event(s): {", ".join(bad)}. Use "*", "<kind>.*", '
                f'"<kind>.<{"|".join(WEBHOOK_ACTIONS)}>" (kinds: {", ".join(sorted(kinds))}) or '
                f"{' / '.join(SLA_EVENTS)}."
            }
        )
    return list(dict.fromkeys(events))


@transaction.atomic
def save_webhook(*, actor, fields: dict, webhook: Webhook | None = None) -> Webhook:
    """Create or edit a subscription; the URL must pass the SSRF guard, the events must exist."""
    webhook = webhook or Webhook(created_by=actor if actor and actor.pk else None)
    if "events" in fields:
        fields = {**fields, "events": validate_events(fields["events"])}
    if "url" in fields:
        check_target(fields["url"])
    for name, value in fields.items():
        setattr(webhook, name, value)
    if not webhook.secret:
        raise ValidationError({"secret": "A secret is required to sign deliveries."})
    webhook.full_clean()
    webhook.save()
    return webhook
