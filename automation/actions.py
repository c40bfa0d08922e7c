"""Running one action of a rule or macro against one record.

Every write goes through the kind's own services (so workflow moves keep their required fields and
follow-ups, and each change is a timeline row); notifications and webhook calls are stored as outbox rows
in the same transaction and sent by Celery after commit, with a timeline row saying what was sent.
Each function returns the record as it is after the action (services re-read it under lock).
"""

from __future__ import annotations

from email.utils import make_msgid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.template import Context

from accounts.models import AssignmentGroup, User
from core import services as core_services
from core.choices import ActivityKind
from core.events import Event
from integrations import conf
from integrations.models import OutboundEmail, Webhook, WebhookDelivery
from integrations.notifications import clean_header
from integrations.tasks import deliver_webhook, enqueue_many, send_email
from integrations.webhooks import payload_for

from .kinds import kind_of
from .models import RoundRobinCursor
from .validation import TEMPLATE_ENGINE


class ActionError(Exception):
    """An action that cannot be carried out on this record (named in the timeline entry)."""


_LOOK_UP = object()


def template_context(record, extra: dict | None = None, *, caller=_LOOK_UP) -> dict[str, Any]:
    """What comment and notification templates see; `caller` may be passed when the caller already read
    it (the bulk firing of time rules reads the callers of a whole batch in one query)."""
    if caller is _LOOK_UP:
        caller_id = kind_of(record).caller_id(record)
        caller = User.objects.filter(pk=caller_id).first() if caller_id else None
    return {
        "number": record.number,
        "short_description": record.short_description,
        "description": record.description,
        "state": record.workflow.label(record.state),
        "priority": record.get_priority_display(),
        "caller": caller.username if caller else "",
        "caller_name": caller.display_name if caller else "",
        "assignment_group": record.assignment_group.name if record.assignment_group_id else "",
        "assigned_to": record.assigned_to.username if record.assigned_to_id else "",
        "url": settings.SITE_URL.rstrip("/") + record.get_absolute_url(),
        **(extra or {}),
    }


def render(text: str, record, extra: dict | None = None) -> str:
    return TEMPLATE_ENGINE.from_string(text).render(Context(template_context(record, extra)))


def _resolve_value(spec, value):
    if value in (None, "") or spec.type not in ("user", "group", "ref"):
        return value
    found = spec.related._default_manager.filter(**{spec.key: value}).first()
    if found is None:
        raise ActionError(f"{spec.name}: {value!r} no longer exists.")
    return found


def run_set(record, action: dict, *, actor):
    kind = kind_of(record)
    if action["field"] == "state":
        to = action["value"]
        if record.state == to:
            return record
        fields = dict(action.get("fields") or {})
        for name, value in list(fields.items()):
            spec = kind.fields.get(name)
            if spec is not None:
                fields[name] = _resolve_value(spec, value)
        return kind.transition(record, actor=actor, to=to, fields=fields)
    spec = kind.fields[action["field"]]
    value = _resolve_value(spec, action["value"])
    return kind.update(record, actor=actor, changes={action["field"]: value})


def choose_member(group: AssignmentGroup, strategy: str, model) -> User | None:
    """The group's next assignee: round robin over its active members (by id, a cursor row locked while
    choosing), the active member with the fewest open records of this kind, or nobody."""
    if strategy == "none":
        return None
    members = active_members(group)
    if not members:
        return None
    if strategy == "round_robin":
        cursor = locked_cursor(group)
        chosen = next_in_turn(members, cursor.last_user_id)
        cursor.last_user_id = chosen.pk
        cursor.save(update_fields=["last_user_id"])
        return chosen
    counts = open_counts(members, model)
    return least_loaded(members, counts)


def active_members(group: AssignmentGroup) -> list[User]:
    return list(group.members.filter(is_active=True).order_by("pk"))


def locked_cursor(group: AssignmentGroup) -> RoundRobinCursor:
    RoundRobinCursor.objects.get_or_create(group=group)
    return RoundRobinCursor.objects.select_for_update().get(group=group)


def next_in_turn(members: list[User], last_user_id: int | None) -> User:
    """Round robin: the first member (by id) after the last one chosen, wrapping around."""
    return next((m for m in members if last_user_id and m.pk > last_user_id), members[0])


def open_counts(members: list[User], model) -> dict[int, int]:
    """Open records of `model` per member (done and final states do not count)."""
    closed = [*model.workflow.final_states, *model.workflow.done_states]
    return dict(
        model.objects.filter(assigned_to__in=members)
        .exclude(state__in=closed)
        .values("assigned_to")
        .annotate(n=Count("pk"))
        .values_list("assigned_to", "n")
    )


def least_loaded(members: list[User], counts: dict[int, int]) -> User:
    return min(members, key=lambda m: (counts.get(m.pk, 0), m.username))


def run_assign(record, action: dict, *, actor):
    kind = kind_of(record)
    name = action["group"]
    category = getattr(record, "category", None) if action.get("by_category") else None
    if category is not None:
        name = action["by_category"].get(category.name, name)
    group = AssignmentGroup.objects.filter(name=name, active=True).first()
    if group is None:
        raise ActionError(f"There is no active group {name!r}.")
    member = choose_member(group, action.get("strategy", "none"), kind.model)
    changes: dict[str, Any] = {"assignment_group": group, "assigned_to": member}
    return kind.update(record, actor=actor, changes=changes)


def run_comment(record, action: dict, *, actor, extra: dict | None = None):
    body = render(action["body"], record, extra)
    if not body.strip():
        raise ActionError("The comment template rendered empty.")
    core_services.add_comment(record, actor=actor, body=body, public=bool(action.get("public")))
    return type(record).objects.get(pk=record.pk)


def _recipients(record, to: str) -> list[str]:
    kind = kind_of(record)
    if to == "assignee":
        users = [record.assigned_to] if record.assigned_to_id else []
    elif to == "caller":
        caller_id = kind.caller_id(record)
        users = list(User.objects.filter(pk=caller_id)) if caller_id else []
    elif to == "group":
        if not record.assignment_group_id:
            return []
        group = record.assignment_group
        if group.email:
            return [group.email]
        users = list(group.members.filter(is_active=True))
    else:
        users = list(User.objects.filter(username=to, is_active=True))
    return sorted({u.email for u in users if u.email})


def run_notify(record, action: dict, *, actor, extra: dict | None = None):
    addresses = _recipients(record, action["to"])
    if not addresses:
        raise ActionError(f"Nobody to notify: {action['to']} has no e-mail address on {record.number}.")
    subject = clean_header(f"[{record.number}] " + render(action["subject"], record, extra), 250)
    body = render(action.get("body") or "", record, extra)
    rows = []
    for address in addresses:
        row = OutboundEmail(
            event=f"{record.KIND}.automation",
            message_id=make_msgid(idstring=record.number, domain=conf.message_id_domain()),
            recipient=address,
            subject=subject,
            body_text=body,
        )
        row.set_ticket(record)
        rows.append(row)
    OutboundEmail.objects.bulk_create(rows)
    core_services.record_activity(
        record,
        kind=ActivityKind.EMAIL,
        actor=actor,
        public=False,
        body=f"Notified {', '.join(addresses)}: {subject}",
        data={"to": action["to"], "recipients": addresses},
    )

    def enqueue() -> None:
        enqueue_many([(send_email, row.pk) for row in rows])

    transaction.on_commit(enqueue)
    return record


def run_webhook(record, action: dict, *, actor, extra: dict | None = None):
    hook = Webhook.objects.filter(pk=action["webhook"]).first()
    if hook is None or not hook.active:
        raise ActionError(f"Webhook {action['webhook']} does not exist or is inactive.")
    name = f"{record.KIND}.automation"
    payload = payload_for(Event(name=name, record=record, actor=actor, data=dict(extra or {})))
    delivery = WebhookDelivery.objects.create(webhook=hook, event=name, payload=payload)
    core_services.record_activity(
        record,
        kind=ActivityKind.SYSTEM,
        actor=actor,
        public=False,
        body=f"Called webhook {hook.name}.",
        data={"webhook": hook.pk, "delivery": str(delivery.pk)},
    )

    def enqueue() -> None:
        enqueue_many([(deliver_webhook, str(delivery.pk))])

    transaction.on_commit(enqueue)
    return record


def run_action(record, action: dict, *, actor, extra: dict | None = None):
    """Carry out one validated action; raises ActionError, ValidationError or a service's refusal."""
    action_type = action["type"]
    if action_type == "set":
        return run_set(record, action, actor=actor)
    if action_type == "assign":
        return run_assign(record, action, actor=actor)
    if action_type == "comment":
        return run_comment(record, action, actor=actor, extra=extra)
    if action_type == "notify":
        return run_notify(record, action, actor=actor, extra=extra)
    if action_type == "webhook":
        return run_webhook(record, action, actor=actor, extra=extra)
    raise ActionError(f"Unknown action {action_type!r}.")


def describe_error(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        if hasattr(exc, "error_dict"):
            return "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        return " ".join(exc.messages)
    return str(exc) or type(exc).__name__
