"""The subset of ServiceNow's Table API that monitoring and on-call tools use, for incidents.

Zabbix's shipped ServiceNow media type (and PagerDuty, Puppet, Grafana OnCall...) POSTs an incident to
`/api/now/table/incident`, reads `result.sys_id` and `result.number`, and later PUTs to
`/api/now/table/incident/{sys_id}`. This module maps ServiceNow's field names and codes to ours and back;
integrations.servicenow_views serves the routes. The writes go through the incident services, so the
timeline, SLAs, webhooks and permissions behave as for our own API.

- `sys_id`: 32 hex digits derived from the incident's id (stable, never reused, no extra column).
- Values are strings, as ServiceNow's are: urgency/impact "1"–"3", priority "1"–"5", state codes
  (STATE_CODES), dates "YYYY-MM-DD HH:MM:SS" in UTC.
- `comments` → a public comment, `work_notes` → a work note; `caller_id`, `assigned_to` by user name (or
  e-mail), `assignment_group` by group name, `cmdb_ci` by CI name.
- `state` moves the incident through our workflow (resolving needs `close_code` and `close_notes`, as
  in ServiceNow; on hold takes `hold_reason`).
- Fields starting with `u_` are kept on the incident (`external_fields`) and returned; any other unknown
  field is refused by name, so a typo is not silently lost.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import AssignmentGroup
from cmdb.models import ConfigurationItem
from core import services as core_services
from core.choices import ActivityKind
from core.exceptions import IllegalTransition
from core.selectors import can_see_all
from incidents import services as incident_services
from incidents.choices import HoldReason, IncidentState, ResolutionCode
from incidents.models import Incident

User = get_user_model()

STATE_CODES = {
    IncidentState.NEW: "1",
    IncidentState.IN_PROGRESS: "2",
    IncidentState.ON_HOLD: "3",
    IncidentState.RESOLVED: "6",
    IncidentState.CLOSED: "7",
    IncidentState.CANCELED: "8",
}
STATES_BY_CODE = {code: state for state, code in STATE_CODES.items()}
HOLD_REASONS = {
    "1": HoldReason.AWAITING_CALLER,
    "3": HoldReason.AWAITING_PROBLEM,
    "4": HoldReason.AWAITING_VENDOR,
    "5": HoldReason.AWAITING_CHANGE,
}
CLOSE_CODES = {
    "solved (permanently)": ResolutionCode.SOLVED,
    "solved (work around)": ResolutionCode.WORKAROUND,
    "solved remotely (permanently)": ResolutionCode.SOLVED,
    "solved remotely (work around)": ResolutionCode.WORKAROUND,
    "not solved (not reproducible)": ResolutionCode.NOT_REPRODUCIBLE,
    "not solved (too costly)": ResolutionCode.WORKAROUND,
    "closed/resolved by caller": ResolutionCode.RESOLVED_BY_CALLER,
    "duplicate": ResolutionCode.DUPLICATE,
    "user error": ResolutionCode.USER_ERROR,
    "resolved by caller": ResolutionCode.RESOLVED_BY_CALLER,
    "resolved by problem": ResolutionCode.SOLVED,
    "resolved by change": ResolutionCode.SOLVED,
}
CLOSE_CODE_NAMES = {
    ResolutionCode.SOLVED: "Solved (Permanently)",
    ResolutionCode.WORKAROUND: "Solved (Work Around)",
    ResolutionCode.NOT_REPRODUCIBLE: "Not Solved (Not Reproducible)",
    ResolutionCode.RESOLVED_BY_CALLER: "Closed/Resolved by Caller",
    ResolutionCode.DUPLICATE: "Duplicate",
    ResolutionCode.USER_ERROR: "User error",
}
# Everyone who may open an incident may send these; the rest needs an agent (as in our own API).
REQUESTER_FIELDS = {"short_description", "description", "urgency", "impact", "comments"}
AGENT_FIELDS = {
    "work_notes",
    "state",
    "caller_id",
    "assignment_group",
    "assigned_to",
    "cmdb_ci",
    "close_code",
    "close_notes",
    "hold_reason",
}
# Read-only fields a client may echo back (a GET result PUT again): accepted and ignored.
IGNORED_FIELDS = {"sys_id", "number", "priority", "sys_created_on", "sys_updated_on", "opened_at",
                  "resolved_at", "closed_at", "active", "opened_by", "sys_class_name"}  # fmt: skip


def request_schema(*, creating: bool) -> dict:
    """The OpenAPI schema of a create or update body: the fields above as ServiceNow strings, `u_*` custom
    fields, nothing else (an unknown field is refused, as ServiceNow's strict mode does)."""
    level = {
        "type": "string",
        "pattern": "^([123]( .*)?)?$",
        "description": '"1", "2", "3" or "2 - Medium"; empty or null for the default',
        "nullable": True,
    }
    # null reads as "" (empty), as ServiceNow does
    fields = {
        name: {"type": "string", "nullable": True}
        for name in sorted(REQUESTER_FIELDS | AGENT_FIELDS | IGNORED_FIELDS)
    }
    fields |= {
        "impact": level,
        "urgency": level,
        # null reads as "" (no change), as for the other fields; OpenAPI 3.0 wants null in the enum too
        "state": {"type": "string", "nullable": True, "enum": [*sorted(STATES_BY_CODE), None]},
        "hold_reason": {"type": "string", "nullable": True, "enum": [*sorted(HOLD_REASONS), None]},
        "close_code": {
            "type": "string",
            "nullable": True,
            "enum": [*sorted(CLOSE_CODE_NAMES.values()), None],
        },
    }
    schema = {
        "type": "object",
        "properties": fields,
        # OpenAPI 3.0 has no patternProperties: the custom fields are said in words.
        "description": "Also any custom field named `u_…` (a string), kept with the incident.",
        "additionalProperties": False,
    }
    if creating:
        fields["short_description"] = {"type": "string", "pattern": "\\S"}
        schema["required"] = ["short_description"]
    return schema


class SNError(Exception):
    """A refusal in ServiceNow's shape: {"error": {"message", "detail"}, "status": "failure"}."""

    def __init__(self, message: str, detail: str = "", status: int = 400):
        super().__init__(message)
        self.message, self.detail, self.status = message, detail, status


def sys_id_of(incident: Incident) -> str:
    return f"{incident.pk:032x}"


def pk_of(sys_id: str) -> int | None:
    if len(sys_id) != 32:
        return None
    try:
        return int(sys_id, 16)
    except ValueError:
        return None


def _when(value) -> str:
    return timezone.localtime(value, UTC).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def to_record(incident: Incident) -> dict[str, Any]:
    """An incident as ServiceNow answers it: string values only, plus its `u_*` fields."""
    record = {
        "sys_id": sys_id_of(incident),
        "number": incident.number,
        "short_description": incident.short_description,
        "description": incident.description,
        "state": STATE_CODES.get(incident.state, ""),
        "incident_state": STATE_CODES.get(incident.state, ""),
        "active": "false" if incident.state in (IncidentState.CLOSED, IncidentState.CANCELED) else "true",
        "urgency": str(incident.urgency),
        "impact": str(incident.impact),
        "priority": str(incident.priority),
        "caller_id": incident.caller.username if incident.caller_id else "",
        "opened_by": incident.opened_by.username if incident.opened_by_id else "",
        "assignment_group": incident.assignment_group.name if incident.assignment_group_id else "",
        "assigned_to": incident.assigned_to.username if incident.assigned_to_id else "",
        "cmdb_ci": ", ".join(ci.name for ci in incident.configuration_items.all()),
        "close_code": CLOSE_CODE_NAMES.get(incident.resolution_code, ""),
        "close_notes": incident.resolution_notes,
        "opened_at": _when(incident.opened_at),
        "resolved_at": _when(incident.resolved_at),
        "closed_at": _when(incident.closed_at),
        "sys_created_on": _when(incident.opened_at),
        "sys_updated_on": _when(getattr(incident, "updated_at", None) or incident.opened_at),
        "sys_class_name": "incident",
    }
    record.update({name: str(value) for name, value in sorted((incident.external_fields or {}).items())})
    return record


# ---- reading ServiceNow values ------------------------------------------------------------------------


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):  # ServiceNow values are strings; `false` or 2 is a client's mistake
        raise SNError("Invalid value", f"{name}: expected a string.")
    return value


def _level(body: dict, name: str) -> int:
    text = _text(body, name).strip()
    code = text.split(" ", 1)[0]  # "2 - Medium" → "2"
    if code not in ("1", "2", "3"):
        raise SNError("Invalid value", f"{name}: {text!r} is not one of 1, 2, 3.")
    return int(code)


def _user(body: dict, name: str):
    text = _text(body, name).strip()
    if not text:
        return None
    user = User.objects.filter(Q(username=text) | Q(email__iexact=text), is_active=True).first()
    if user is None:
        raise SNError("Invalid value", f"{name}: no active user {text!r}.")
    return user


def _group(body: dict, name: str):
    text = _text(body, name).strip()
    if not text:
        return None
    group = AssignmentGroup.objects.filter(name=text, active=True).first()
    if group is None:
        raise SNError("Invalid value", f"{name}: no assignment group {text!r}.")
    return group


def _cis(body: dict, name: str) -> list[ConfigurationItem]:
    text = _text(body, name).strip()
    if not text:
        return []
    found = list(ConfigurationItem.objects.filter(name=text)[:2])
    if len(found) != 1:
        reason = "no configuration item" if not found else "more than one configuration item"
        raise SNError("Invalid value", f"{name}: {reason} named {text!r}.")
    return found


def _check_fields(body: dict, user, *, creating: bool) -> None:
    if not isinstance(body, dict):
        raise SNError("Invalid request body", "The body must be a JSON object of field names to values.")
    unknown = sorted(
        k
        for k in body
        if k not in REQUESTER_FIELDS | AGENT_FIELDS | IGNORED_FIELDS and not k.startswith("u_")
    )
    if unknown:
        raise SNError("Invalid field", f"{unknown[0]}: not a field of incident this service knows.")
    for name in sorted(body):
        # every value is a string (or null), checked up front: a field read only by some writes (close_notes
        # when resolving) or echoed back and ignored is still refused when it is not one
        _text(body, name)
    if not can_see_all(Incident, user):
        refused = sorted(k for k in body if k in AGENT_FIELDS and body[k] not in (None, ""))
        if refused:
            raise SNError("Operation Failed", f"{refused[0]}: only agents can set this field.", status=403)
    if creating and not _text(body, "short_description").strip():
        raise SNError("Invalid value", "short_description: required to create an incident.")
    # Checked whether or not this write moves the incident to the state that uses them: an unknown code is
    # a client's mistake either way, and ignoring it would hide it until the move.
    hold_reason = _text(body, "hold_reason").strip()
    if hold_reason and hold_reason not in HOLD_REASONS:
        raise SNError(
            "Invalid value", f"hold_reason: {hold_reason!r} is not one of {', '.join(HOLD_REASONS)}."
        )
    close_code = _text(body, "close_code").strip()
    if close_code and not _resolution_code(close_code):
        raise SNError(
            "Invalid value", f"close_code: {close_code!r} is not a close code (e.g. Solved (Permanently))."
        )


def _resolution_code(close_code: str) -> str:
    """Our resolution code for a ServiceNow close code (any case) or one of ours; "" when neither."""
    return CLOSE_CODES.get(close_code.lower()) or (close_code if close_code in ResolutionCode.values else "")


def _u_fields(body: dict) -> dict[str, str]:
    return {k: _text(body, k) for k in body if k.startswith("u_")}


def _keep_u_fields(incident: Incident, values: dict[str, str], actor) -> None:
    if not values:
        return
    merged = {**(incident.external_fields or {}), **values}
    if merged == incident.external_fields:
        return
    Incident.objects.filter(pk=incident.pk).update(external_fields=merged)
    incident.external_fields = merged
    core_services.record_activity(
        incident, kind=ActivityKind.FIELD_CHANGE, actor=actor, public=False, data={"external_fields": values}
    )


def _validation_detail(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{name}: {' '.join(messages)}" for name, messages in exc.message_dict.items())
    return " ".join(exc.messages)


# ---- the writes ---------------------------------------------------------------------------------------


@transaction.atomic
def create_incident(body: dict, *, actor) -> Incident:
    """POST /api/now/table/incident: open the incident, then its comment, work note, u_ fields and state."""
    _check_fields(body, actor, creating=True)
    fields: dict[str, Any] = {
        "short_description": _text(body, "short_description").strip()[:200],
        "description": _text(body, "description"),
    }
    for name in ("urgency", "impact"):
        if _text(body, name).strip():
            fields[name] = _level(body, name)
    caller = _user(body, "caller_id")
    if caller:
        fields["caller"] = caller
    for ours, theirs, read in (
        ("assignment_group", "assignment_group", _group),
        ("assigned_to", "assigned_to", _user),
    ):
        value = read(body, theirs)
        if value:
            fields[ours] = value
    cis = _cis(body, "cmdb_ci")
    try:
        incident = incident_services.incident_create(actor=actor, configuration_items=cis, **fields)
        _after_write(incident, body, actor)
    except ValidationError as exc:
        raise SNError("Invalid value", _validation_detail(exc)) from exc
    return incident


@transaction.atomic
def update_incident(incident: Incident, body: dict, *, actor) -> Incident:
    """PUT/PATCH /api/now/table/incident/{sys_id}: change the given fields only (ServiceNow's PUT is a
    partial update too), add the comment / work note, keep the u_ fields, then move the state."""
    _check_fields(body, actor, creating=False)
    changes: dict[str, Any] = {}
    for name in ("short_description", "description"):
        if name in body:
            changes[name] = _text(body, name)[:200] if name == "short_description" else _text(body, name)
    for name in ("urgency", "impact"):
        if _text(body, name).strip():
            changes[name] = _level(body, name)
    if "caller_id" in body and _text(body, "caller_id").strip():
        changes["caller"] = _user(body, "caller_id")
    if "assignment_group" in body:
        changes["assignment_group"] = _group(body, "assignment_group")
    if "assigned_to" in body:
        changes["assigned_to"] = _user(body, "assigned_to")
    cis = _cis(body, "cmdb_ci") if _text(body, "cmdb_ci").strip() else None
    changes = {k: v for k, v in changes.items() if getattr(incident, k) != v}
    try:
        if changes or cis is not None:
            incident = incident_services.incident_update(
                incident, actor=actor, changes=changes, configuration_items=cis
            )
        _after_write(incident, body, actor)
    except ValidationError as exc:
        raise SNError("Invalid value", _validation_detail(exc)) from exc
    return incident


def _after_write(incident: Incident, body: dict, actor) -> None:
    if _text(body, "comments").strip():
        core_services.add_comment(incident, actor=actor, body=_text(body, "comments"), public=True)
    if _text(body, "work_notes").strip():
        core_services.add_comment(incident, actor=actor, body=_text(body, "work_notes"), public=False)
    _keep_u_fields(incident, _u_fields(body), actor)
    code = _text(body, "state").strip()
    if not code:
        return
    to = STATES_BY_CODE.get(code.split(" ", 1)[0])
    if to is None:
        raise SNError("Invalid value", f"state: {code!r} is not one of {', '.join(STATES_BY_CODE)}.")
    if to == incident.state:
        return
    fields: dict[str, Any] = {}
    if to == IncidentState.ON_HOLD:
        fields["hold_reason"] = HOLD_REASONS.get(
            _text(body, "hold_reason").strip(), HoldReason.AWAITING_CALLER
        )
    if to == IncidentState.RESOLVED:
        resolution = _resolution_code(_text(body, "close_code").strip())
        if not resolution:
            raise SNError("Invalid value", "close_code: required to resolve (e.g. Solved (Permanently)).")
        fields.update(resolution_code=resolution, resolution_notes=_text(body, "close_notes"))

    try:
        incident_services.incident_transition(incident, to=to, actor=actor, fields=fields)
    except IllegalTransition as exc:
        raise SNError("Invalid value", f"state: {exc}") from exc
