"""Every write to a ticket goes through here: create, update, transition, comment, attach, watch, link CIs.

Each service is keyword-only, takes the acting user explicitly (never a request), runs in one transaction,
writes its timeline row before anything else fires, and announces an Event (see core.events) whose
after-commit listeners send webhooks, mail and Celery tasks only once the write has landed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from accounts.roles import has_role
from core.limits import TEXT_MAX_LENGTH

from . import events, locking
from .attachments import clean_filename, validate_upload
from .choices import ActivityKind
from .exceptions import StaleVersion
from .models import Activity, Attachment, TicketBase
from .perf.orm import full_clean_trusting_loaded as _full_clean
from .perf.orm import remember_related
from .perf.prepared_writes import Insert, Update, save_together

# Keys merged into the data of every timeline row written while set: the automation engine names the rule
# or macro on whose behalf a service writes, so each effect on the timeline says where it came from.
activity_annotation: ContextVar[dict | None] = ContextVar("activity_annotation", default=None)


def _annotated(data: dict | None) -> dict:
    extra = activity_annotation.get()
    return {**(data or {}), **extra} if extra else data or {}


def record_activity(
    record: models.Model,
    *,
    kind: str,
    actor=None,
    body: str = "",
    public: bool = True,
    data: dict | None = None,
) -> Activity:
    """Append one row to a record's timeline (tickets, CIs and articles alike)."""
    activity = activity_row(record, kind=kind, actor=actor, body=body, public=public, data=data)
    activity.save(force_insert=True)
    return activity


def activity_row(
    record: models.Model,
    *,
    kind: str,
    actor=None,
    body: str = "",
    public: bool = True,
    data: dict | None = None,
) -> Activity:
    """The timeline row `record_activity` appends, not yet saved (for a caller that writes it together with
    other rows, core.perf.prepared_writes)."""
    return Activity(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        kind=kind,
        actor=actor if actor is not None and actor.pk else None,
        actor_name=_actor_name(actor),
        public=public,
        body=body,
        data=_annotated(data),
    )


def record_activities(record: models.Model, entries: list[dict[str, Any]]) -> list[Activity]:
    """Append several timeline rows to one record in one INSERT, in order; each entry takes the keyword
    arguments of `record_activity` (kind, actor, body, public, data)."""
    if not entries:
        return []
    content_type = ContentType.objects.get_for_model(record)
    rows = [
        Activity(
            content_type=content_type,
            object_id=record.pk,
            kind=entry["kind"],
            actor=entry.get("actor") if entry.get("actor") is not None and entry["actor"].pk else None,
            actor_name=_actor_name(entry.get("actor")),
            public=entry.get("public", True),
            body=entry.get("body", ""),
            data=_annotated(entry.get("data")),
        )
        for entry in entries
    ]
    return Activity.objects.bulk_create(rows)


def _actor_name(actor) -> str:
    if actor is None or not getattr(actor, "pk", None):
        return "system"
    return actor.username


def _display(value: Any) -> Any:
    """A JSON-safe, human-readable value for field diffs."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, models.Model):
        return getattr(value, "username", None) or getattr(value, "number", None) or str(value)
    return str(value)


def require_role(actor, *roles: str, message: str) -> None:
    """The role gate of a service that not everyone may call: a person must hold one of `roles`, else
    PermissionDenied with `message`. A None actor is the system (Celery, imports, approval handlers),
    which the gate lets through: who started that work was checked when it was started."""
    if actor is not None and not has_role(actor, *roles):
        raise PermissionDenied(message)


def validate_assignment(ticket: TicketBase) -> None:
    """The assignee must belong to the assignment group (SPEC: agents work their group's tickets)."""
    if not (ticket.assigned_to_id and ticket.assignment_group_id):
        return
    if not ticket.assignment_group.members.filter(pk=ticket.assigned_to_id).exists():
        raise ValidationError(
            {
                "assigned_to": f"{ticket.assigned_to.username} is not a member of group "
                f"{ticket.assignment_group.name}; pick a member or change the group."
            }
        )


def lock(ticket: TicketBase) -> TicketBase:
    """Re-read the ticket row under SELECT ... FOR UPDATE (core.locking); every write starts here. A
    ticket the caller has just read under lock in this transaction (get_visible_ticket with `lock`) is used
    as it is."""
    if locking.take_locked(ticket):
        return ticket
    return locking.note_locked(locking.locked(type(ticket).objects.all()).get(pk=ticket.pk))


@transaction.atomic
def create_ticket(
    model: type[TicketBase],
    *,
    actor,
    fields: dict[str, Any],
    configuration_items: Iterable = (),
    watchers: Iterable = (),
) -> TicketBase:
    """Open a record of `model` in its workflow's initial state; the INSERT takes the next number of its
    sequence (core.numbering.number_field) and returns it."""
    ticket = model(**fields)
    ticket.state = model.workflow.initial
    ticket.opened_by = ticket.opened_by if ticket.opened_by_id else actor
    ticket.refresh_derived_fields()
    _full_clean(ticket, exclude=["number", "search_vector", "opened_by"])
    validate_assignment(ticket)
    ticket.save()
    cis = list(configuration_items)
    watchers = list(watchers)
    if cis:
        ticket.configuration_items.set(cis)
    else:
        remember_related(ticket, "configuration_items")
    if watchers:
        ticket.watchers.set(watchers)
    else:
        remember_related(ticket, "watchers")
    record_activity(ticket, kind=ActivityKind.CREATED, actor=actor, body=ticket.short_description)
    events.publish(f"{model.KIND}.created", record=ticket, actor=actor)
    return ticket


@transaction.atomic
def update_ticket(
    ticket: TicketBase,
    *,
    actor,
    changes: dict[str, Any],
    expected_version: int | None = None,
    configuration_items: Iterable | None = None,
) -> TicketBase:
    """Write editable fields; refuse with StaleVersion when `expected_version` (If-Match) is behind.

    Field diffs and assignment changes go to the timeline as one row each; an update that changes
    nothing writes nothing and keeps the version.
    """
    ticket = lock(ticket)
    if expected_version is not None and ticket.version != expected_version:
        raise StaleVersion(ticket.version)
    unknown = sorted(set(changes) - set(ticket.EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})

    before = {name: getattr(ticket, name) for name in ticket.EDITABLE_FIELDS + ("priority",)}
    for name, value in changes.items():
        setattr(ticket, name, value)
    ticket.refresh_derived_fields()
    _full_clean(ticket, exclude=["number", "search_vector"])
    validate_assignment(ticket)

    diffs = [
        {"field": name, "old": _display(old), "new": _display(getattr(ticket, name))}
        for name, old in before.items()
        if getattr(ticket, name) != old
    ]
    ci_change = _ci_change(ticket, configuration_items)
    if not diffs and not ci_change:
        return ticket

    ticket.version += 1
    ticket.save()
    assignment = [d for d in diffs if d["field"] in ("assignment_group", "assigned_to")]
    others = [d for d in diffs if d not in assignment]
    if assignment:
        record_activity(ticket, kind=ActivityKind.ASSIGNMENT, actor=actor, data={"changes": assignment})
    if others:
        record_activity(
            ticket, kind=ActivityKind.FIELD_CHANGE, actor=actor, public=False, data={"changes": others}
        )
    if ci_change:
        _apply_ci_change(ticket, actor, ci_change)
    events.publish(
        f"{ticket.KIND}.updated",
        record=ticket,
        actor=actor,
        data={
            "changes": diffs,
            "assignment_changed": bool(assignment),
            **({"cis": ci_change} if ci_change else {}),
        },
    )
    return ticket


def _ci_change(ticket: TicketBase, configuration_items: Iterable | None) -> dict | None:
    if configuration_items is None:
        return None
    wanted = {ci.pk for ci in configuration_items}
    current = set(ticket.configuration_items.values_list("pk", flat=True))
    if wanted == current:
        return None
    return {"added": sorted(wanted - current), "removed": sorted(current - wanted)}


def _apply_ci_change(ticket: TicketBase, actor, change: dict) -> None:
    ConfigurationItem = ticket.configuration_items.model  # noqa: N806  (cmdb's model; cmdb builds on core)
    ticket.configuration_items.add(*change["added"])
    ticket.configuration_items.remove(*change["removed"])
    names = dict(
        ConfigurationItem.objects.filter(pk__in=change["added"] + change["removed"]).values_list("pk", "name")
    )
    record_activity(
        ticket,
        kind=ActivityKind.CI_LINK,
        actor=actor,
        data={
            "added": [{"id": pk, "name": names.get(pk)} for pk in change["added"]],
            "removed": [{"id": pk, "name": names.get(pk)} for pk in change["removed"]],
        },
    )


def transition(
    ticket: TicketBase,
    *,
    to: str,
    actor,
    fields: dict[str, Any] | None = None,
    note: str = "",
    expected_version: int | None = None,
    before_apply: Callable[[TicketBase], None] | None = None,
    after_apply: Callable[[TicketBase], None] | None = None,
) -> TicketBase:
    """Move a ticket to state `to` if its workflow allows it, setting the fields the move carries.

    Locks the row, checks the move (the workflow's rules, moves, required fields and guards), runs the
    caller's `before_apply(locked)` check, sets the fields and the workflow's stamps (resolved_at,
    closed_at...) in the same UPDATE, writes the state_change timeline row, publishes
    `<kind>.state_changed` (the SLA engine pauses/stops timers in the same transaction), then runs the
    app's follow-ups, `after_apply(moved)` (resolve child incidents, start a CAB round...), still inside
    this one transaction: an app's `<kind>_transition` opens none of its own, so a move is BEGIN ...
    COMMIT with no savepoint between. A ticket its caller read under lock in its own transaction
    (the API: core.selectors.get_visible_ticket with `lock`) is neither read again nor given a savepoint: the caller's
    transaction is the move's, and an error rolls it back.
    """
    pre_locked = locking.take_locked(ticket)
    with transaction.atomic(savepoint=not pre_locked):
        return _transition(
            ticket if pre_locked else lock(ticket),
            to=to,
            actor=actor,
            fields=dict(fields or {}),
            note=note,
            expected_version=expected_version,
            before_apply=before_apply,
            after_apply=after_apply,
        )


def _transition(
    ticket: TicketBase,
    *,
    to: str,
    actor,
    fields: dict[str, Any],
    note: str,
    expected_version: int | None,
    before_apply: Callable[[TicketBase], None] | None,
    after_apply: Callable[[TicketBase], None] | None,
) -> TicketBase:
    if expected_version is not None and ticket.version != expected_version:
        raise StaleVersion(ticket.version)
    workflow = ticket.workflow
    workflow.check_record(ticket, to, fields)
    allowed_fields = workflow.fields_for(to)
    extra = sorted(set(fields) - set(allowed_fields))
    if extra:
        raise ValidationError({name: f"Not set by a move to {to!r}." for name in extra})
    if before_apply is not None:
        before_apply(ticket)

    previous = ticket.state
    # The state read under the lock, for apps' follow-ups (a reopen is "resolved → in_progress").
    ticket.state_before_transition = previous
    columns = [f for f in ticket._meta.concrete_fields if f.attname in ticket.__dict__ and not f.generated]
    before = {f.attname: getattr(ticket, f.attname) for f in columns}
    for name, value in fields.items():
        setattr(ticket, name, value)
    for name, value in workflow.after_move(previous, to, timezone.now()).items():
        setattr(ticket, name, value)
    ticket.state = to
    ticket.refresh_derived_fields()
    _full_clean(ticket, exclude=["number", "search_vector"])
    ticket.version += 1
    # The row is locked: writing only the columns the move changed leaves it as a full save would. The
    # UPDATE and the move's timeline row go to the database as one statement.
    changed = [f.name for f in columns if getattr(ticket, f.attname) != before[f.attname]]
    entry = activity_row(
        ticket,
        kind=ActivityKind.STATE_CHANGE,
        actor=actor,
        body=note,
        data={"from": previous, "to": to, **{k: _display(v) for k, v in fields.items()}},
    )
    save_together([Update(ticket, (*changed, "updated_at")), Insert(entry)])
    events.publish(
        f"{ticket.KIND}.state_changed",
        record=ticket,
        actor=actor,
        data={"from": previous, "to": to, "fields": {k: _display(v) for k, v in fields.items()}},
    )
    if after_apply is not None:
        after_apply(ticket)
    return ticket


@transaction.atomic
def add_comment(ticket: TicketBase, *, actor, body: str, public: bool = True) -> Activity:
    """A public comment or (public=False) a work note; requesters may only write public ones."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": "A comment cannot be empty."})
    if len(body) > TEXT_MAX_LENGTH:
        raise ValidationError({"body": f"A comment is limited to {TEXT_MAX_LENGTH:,} characters."})
    ticket = lock(ticket)
    ticket.version += 1
    ticket.save(update_fields=["version", "updated_at"])
    activity = record_activity(ticket, kind=ActivityKind.COMMENT, actor=actor, body=body, public=public)
    events.publish(
        f"{ticket.KIND}.commented",
        record=ticket,
        actor=actor,
        data={"activity_id": activity.pk, "public": public, "body": body},
    )
    return activity


@transaction.atomic
def add_attachment(record: models.Model, *, actor, uploaded_file, public: bool = True) -> Attachment:
    """Store an uploaded file on any record after checking its size and extension."""
    filename, content_type = validate_upload(uploaded_file)
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        filename=filename,
        size=uploaded_file.size,
        content_type_name=content_type,
        uploaded_by=actor if actor and actor.pk else None,
        uploaded_at=timezone.now(),
        public=public,
    )
    attachment.file.save(filename, uploaded_file, save=False)
    attachment.save()
    record_activity(
        record,
        kind=ActivityKind.ATTACHMENT,
        actor=actor,
        public=public,
        data={"id": attachment.pk, "filename": filename, "size": attachment.size},
    )
    return attachment


QUARANTINE_TYPE_NOT_ALLOWED = "type not allowed"


def add_quarantined_attachment(record: models.Model, *, actor, uploaded_file, reason: str) -> Attachment:
    """Keep a file the upload policy refused (a mail part with no or a disallowed extension), so nothing a
    sender sent is lost: stored like any attachment but internal (`public` false: requesters never see
    it), typed application/octet-stream whatever its name says, and downloadable by agents only (the
    download view checks `quarantined`). The size limit still applies: a file over it raises
    ValidationError like add_attachment. The timeline says the file was quarantined and why."""
    filename = clean_filename(uploaded_file.name)
    if uploaded_file.size > settings.ATTACHMENT_MAX_BYTES:
        validate_upload(uploaded_file)  # raises the size error
    attachment = Attachment(
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        filename=filename,
        size=uploaded_file.size,
        content_type_name="application/octet-stream",
        uploaded_by=actor if actor and actor.pk else None,
        uploaded_at=timezone.now(),
        public=False,
        quarantine_reason=reason,
    )
    attachment.file.save(filename, uploaded_file, save=False)
    attachment.save()
    record_activity(
        record,
        kind=ActivityKind.ATTACHMENT,
        actor=actor,
        public=False,
        body=f"Attachment “{filename}” quarantined: {reason}. Agents may download it as a plain file.",
        data={"id": attachment.pk, "filename": filename, "size": attachment.size, "quarantined": reason},
    )
    return attachment


@transaction.atomic
def set_watching(ticket: TicketBase, *, actor, user, watching: bool) -> TicketBase:
    """Add or remove a watcher; watchers receive public updates and may see the record."""
    is_watching = ticket.watchers.filter(pk=user.pk).exists()
    if watching and not is_watching:
        ticket.watchers.add(user)
        record_activity(
            ticket, kind=ActivityKind.WATCHER, actor=actor, public=False, data={"added": user.username}
        )
    elif not watching and is_watching:
        ticket.watchers.remove(user)
        record_activity(
            ticket, kind=ActivityKind.WATCHER, actor=actor, public=False, data={"removed": user.username}
        )
    return ticket
