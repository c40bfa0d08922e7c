"""Outbound email for ticket events: who gets what, rendered and threaded, stored before it is sent.

`queue_for_event` runs inside the ticket's transaction (an `on_change` listener) and writes one
OutboundEmail row per recipient; `send_outbound_email` (a Celery task after commit, or the beat sweep)
sends it through Django's email backend. Requesters only ever receive public content: work notes go to
agents only.
"""

from __future__ import annotations

import contextvars
import logging
import re
from dataclasses import dataclass
from email.utils import make_msgid

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import AGENT, has_role
from core.events import Event

from . import conf
from .models import DeliveryStatus, InboundEmail, OutboundEmail
from .tickets import requesters

logger = logging.getLogger(__name__)

# Set while an inbound mail is being processed, so the mails it causes answer it (In-Reply-To).
current_inbound_message_id: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_inbound_message_id", default=""
)

REPLY_MARKER = "##- Please type your reply above this line -##"


@dataclass
class Recipient:
    address: str
    audience: str  # "requester" (public content only) or "agent"
    name: str = ""


def clean_header(value: str, limit: int = 200) -> str:
    """One line, no control characters: a ticket title can never inject a mail header."""
    value = re.sub(r"[\x00-\x1f\x7f]+", " ", value or "")
    return re.sub(r"\s+", " ", value).strip()[:limit]


def _template_for(event: Event) -> str | None:
    action = event.action
    if event.kind == "sla":
        return "sla_breached" if action == "breached" else "sla_warning"
    if action == "created":
        return "created"
    if action == "updated":
        return "assigned" if event.data.get("assignment_changed") else None
    if action == "commented":
        return "commented" if event.data.get("public", True) else "work_note"
    if action == "state_changed":
        return "state_changed"
    if action == "approval_requested":
        return "approval_requested"
    return None


def _add(recipients: dict[str, Recipient], user, audience: str, actor=None) -> None:
    if user is None or not user.email or not user.is_active:
        return
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        return  # nobody is mailed about their own action
    key = user.email.lower()
    current = recipients.get(key)
    if current is None or (current.audience == "requester" and audience == "agent"):
        recipients[key] = Recipient(user.email, audience, user.get_full_name() or user.username)


def _add_group(recipients: dict[str, Recipient], group) -> None:
    if group is not None and group.email and group.email.lower() not in recipients:
        recipients[group.email.lower()] = Recipient(group.email, "agent", group.name)


# The ticket kinds a requester follows in the portal; the others (tasks, problems, changes) are internal.
PORTAL_PREFIXES = ("INC", "REQ")


def _requesters(ticket, actor) -> list:
    """The requesters to mail about `ticket`: nobody for internal kinds (a fulfillment task copies its
    request's opener, who hears about the request, not about each task behind it)."""
    if getattr(ticket, "NUMBER_PREFIX", "") not in PORTAL_PREFIXES:
        return []
    return requesters(ticket, known=[actor])


def _add_queue(recipients: dict[str, Recipient], ticket, actor) -> None:
    """Nobody owns the ticket: tell its group (the group's address, else its manager), so a reply on an
    unassigned (say resolved) ticket reaches someone."""
    group = ticket.assignment_group
    if group is None:
        return
    if group.email:
        _add_group(recipients, group)
    else:
        _add(recipients, group.manager, "agent", actor)


def recipients_for(template: str, event: Event) -> list[Recipient]:
    ticket, actor = event.record, event.actor
    found: dict[str, Recipient] = {}
    if template == "created":
        # The requester's confirmation (even when they opened it themselves: it carries the number).
        for user in _requesters(ticket, actor):
            _add(found, user, "requester")
        _add(found, ticket.assigned_to, "agent", actor)
        if ticket.assigned_to_id is None:
            _add_group(found, ticket.assignment_group)
    elif template == "assigned":
        _add(found, ticket.assigned_to, "agent", actor)
        if ticket.assigned_to_id is None:
            _add_group(found, ticket.assignment_group)
    elif template in ("commented", "state_changed"):
        for user in _requesters(ticket, actor):
            _add(found, user, "requester", actor)
        _add(found, ticket.assigned_to, "agent", actor)
        if template == "commented" and ticket.assigned_to_id is None:
            _add_queue(found, ticket, actor)
    elif template == "work_note":
        _add(found, ticket.assigned_to, "agent", actor)
        for user in ticket.watchers.all():
            if has_role(user, AGENT):
                _add(found, user, "agent", actor)
    elif template == "approval_requested":
        for user in User.objects.filter(username__in=event.data.get("approvers", [])):
            _add(found, user, "agent")
    elif template in ("sla_warning", "sla_breached"):
        _add(found, ticket.assigned_to, "agent")
        if ticket.assigned_to_id is None:
            _add_group(found, ticket.assignment_group)
        if template == "sla_breached" and ticket.assignment_group_id:
            _add(found, ticket.assignment_group.manager, "agent")
    # Our own mailbox never mails itself (a loop waiting to happen).
    found.pop(settings.DEFAULT_FROM_EMAIL.lower(), None)
    return list(found.values())


def thread_ids(ticket, recipient: str, *, new_ticket: bool = False) -> tuple[str, list[str]]:
    """(In-Reply-To, References) for the next mail about `ticket` to `recipient`.

    The thread's root is the mail that opened the ticket (or a stable id made from the number), and the
    reply goes under the last message this recipient saw, so every client shows one conversation.
    `new_ticket`: the ticket was opened by the current transaction (its `created` event), so no mail in
    or out can be linked to it yet and nothing is looked up.
    """
    ticket_type = ContentType.objects.get_for_model(ticket)
    first_inbound = (
        None
        if new_ticket
        else InboundEmail.objects.filter(
            ticket_type=ticket_type, ticket_id=ticket.pk, status="ticket_created"
        )
        .order_by("received_at", "id")
        .values_list("message_id", flat=True)
        .first()
    )
    root = (
        first_inbound or current_inbound_message_id.get() or f"<{ticket.number}@{conf.message_id_domain()}>"
    )
    last = current_inbound_message_id.get() or (
        None
        if new_ticket
        else OutboundEmail.objects.filter(
            ticket_type=ticket_type, ticket_id=ticket.pk, recipient__iexact=recipient
        )
        .order_by("-created_at", "-id")
        .values_list("message_id", flat=True)
        .first()
    )
    parent = last or root
    references = [root] if parent == root else [root, parent]
    return parent, references


def _state_label(ticket, state: str) -> str:
    """A state as people read it (`in_progress` → "In progress")."""
    workflow = getattr(ticket, "workflow", None)
    return workflow.label(state) if workflow is not None and state else state


def portal_url(ticket) -> str:
    """Where a requester opens the ticket: its portal page (the portal home for kinds it does not show)."""
    if getattr(ticket, "NUMBER_PREFIX", "") in PORTAL_PREFIXES:
        return reverse("portal:ticket-detail", kwargs={"number": ticket.number})
    return reverse("portal:home")


def _context(template: str, event: Event, recipient: Recipient) -> dict:
    ticket = event.record
    public_only = recipient.audience == "requester"
    url = settings.SITE_URL.rstrip("/") + (portal_url(ticket) if public_only else ticket.get_absolute_url())
    return {
        "ticket": ticket,
        "event": event,
        "recipient": recipient,
        "actor_name": getattr(event.actor, "username", None) or "the service desk",
        "comment": event.data.get("body", "") if template in ("commented", "work_note") else "",
        "state_from": event.data.get("from", ""),
        "state_to": event.data.get("to", ticket.state),
        "state_from_label": _state_label(ticket, event.data.get("from", "")),
        "state_to_label": _state_label(ticket, event.data.get("to", ticket.state)),
        "resolution_notes": getattr(ticket, "resolution_notes", ""),
        "data": event.data,
        "url": url,
        "reply_marker": REPLY_MARKER,
    }


SUBJECTS = {
    "created": "Received: {title}",
    "assigned": "Assigned to you: {title}",
    "commented": "New comment: {title}",
    "work_note": "Work note: {title}",
    "state_changed": "Now {state}: {title}",
    "approval_requested": "Approval requested: {title}",
    "sla_warning": "SLA warning: {title}",
    "sla_breached": "SLA breached: {title}",
}


def queue_for_event(event: Event) -> list[OutboundEmail]:
    """Write the OutboundEmail rows an event calls for (inside the caller's transaction)."""
    template = _template_for(event)
    if template is None or not hasattr(event.record, "number"):
        return []
    ticket = event.record
    rows = []
    for recipient in recipients_for(template, event):
        in_reply_to, references = thread_ids(ticket, recipient.address, new_ticket=event.action == "created")
        context = _context(template, event, recipient)
        title = clean_header(ticket.short_description, 150)
        subject = SUBJECTS[template].format(title=title, state=clean_header(str(context["state_to_label"])))
        row = OutboundEmail(
            event=event.name,
            message_id=make_msgid(idstring=ticket.number, domain=conf.message_id_domain()),
            in_reply_to=in_reply_to,
            references=" ".join(references),
            recipient=recipient.address,
            subject=clean_header(f"[{ticket.number}] {subject}", 250),
            body_text=render_to_string(f"integrations/email/{template}.txt", context),
            body_html=render_to_string(f"integrations/email/{template}.html", context),
        )
        row.set_ticket(ticket)
        rows.append(row)
    OutboundEmail.objects.bulk_create(rows)
    return rows


def send_outbound_email(pk: int) -> str:
    """Send one stored mail once; a failure leaves it pending for the sweep until the last attempt."""
    with transaction.atomic():
        row = OutboundEmail.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
        if row is None or row.status != DeliveryStatus.PENDING:
            return "skipped"
        message = EmailMultiAlternatives(
            subject=clean_header(row.subject, 250),
            body=row.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[row.recipient],
            headers={
                "Message-ID": row.message_id,
                "In-Reply-To": row.in_reply_to,
                "References": row.references,
                # RFC 3834: tells autoresponders not to answer us (no out-of-office ping-pong).
                "Auto-Submitted": "auto-generated",
                "X-Auto-Response-Suppress": "All",
                "X-ITSM-Ticket": row.ticket_number,
            },
        )
        if row.body_html:
            message.attach_alternative(row.body_html, "text/html")
        row.attempts += 1
        try:
            message.send()
        except Exception as exc:
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= conf.get("EMAIL_MAX_ATTEMPTS"):
                row.status = DeliveryStatus.FAILED
            row.save(update_fields=["attempts", "last_error", "status"])
            logger.warning("mail %s to %s failed: %s", row.pk, row.recipient, row.last_error)
            return "failed"
        row.status = DeliveryStatus.SENT
        row.sent_at = timezone.now()
        row.save(update_fields=["attempts", "status", "sent_at", "last_error"])
        return "sent"
