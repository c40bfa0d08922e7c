"""Schemathesis hooks for the suite's fuzz run (tests/security/test_api_fuzz.py): test data that exists.

`positive_data_acceptance` expects every schema-valid request to succeed. A schema can say that
`assignment_group` is a group's name, not which groups exist, nor that a change's planned end follows its
start; so a generated "valid" body names group "0", and the API rightly answers 400. Schemathesis' advice is to
seed known identifiers: this hook does, for schema-valid (positive) requests only, replacing each reference
with a record the test created (FUZZ_KNOWN, JSON, set by the test) and putting dates in an order the API
accepts; as the requester, it keeps only the fields a requester may set (the schema is the same for every
role). Requests meant to be invalid (negative) are sent as generated, so `negative_data_rejection` still
sees every invalid value refused. What stays state-dependent (which moves a record's state allows) is listed in
tests/security/schemathesis.toml with its reason.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import schemathesis

KNOWN: dict = json.loads(os.environ.get("FUZZ_KNOWN", "{}"))
_RENEWALS: list[str] = []


def _future(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _category(path: str) -> str | None:
    """Incidents, articles and catalog items each have their own categories."""
    if "/kb/" in path:
        return KNOWN.get("kb_category")
    if "/catalog/" in path:
        return KNOWN.get("catalog_category")
    return KNOWN.get("category")


def _macro(path: str) -> int | None:
    """The macro for the kind of record at `path` (/api/v1/<kinds>/<number>/apply_macro/)."""
    kinds = {
        "incidents": "incident",
        "requests": "request",
        "tasks": "task",
        "problems": "problem",
        "changes": "change",
    }
    return KNOWN.get("macros", {}).get(kinds.get(path.split("/")[3], ""))


def _unique(text: str) -> str:
    return f"{text[:40]}-{uuid.uuid4().hex[:10]}"


def _names(method: str, path: str, path_parameters: dict, body: dict) -> None:
    """Names are unique: a new record gets one nobody has; an update keeps the record's own (a CI class,
    for one, cannot be renamed). A user that the run updates stays active under their own name, so the
    records the other requests name keep existing."""
    for field in ("name", "username"):
        if field in body and isinstance(body[field], str):
            if method == "POST":
                body[field] = _unique(body[field])
            elif method == "PATCH":
                del body[field]
    if isinstance(body.get("serial_number"), str) and body["serial_number"]:
        body["serial_number"] = _unique(body["serial_number"])
    if path.startswith("/api/v1/users/{username}"):
        body["is_active"] = True
        if "username" in body:
            body["username"] = path_parameters.get("username", body["username"])


def _rules(method: str, body: dict) -> None:
    """Rules the API checks across fields: a standard change comes from a template, a known error has a
    workaround, an overridden risk a reason, a time rule conditions, a change without a template its
    short description."""
    if body.get("type") == "standard":
        body["template"] = KNOWN.get("change_template")
    if body.get("known_error") is True and not str(body.get("workaround", "")).strip():
        body["workaround"] = "Restart the service."
    if body.get("trigger") == "time" and not (body.get("conditions") or {}).get("all"):
        body["conditions"] = {"all": [{"field": "opened_at", "op": "older_than", "value": 3600}]}
    if body.get("short_description") == "" and (method != "POST" or not body.get("template")):
        body["short_description"] = (
            "Checked by the fuzz run"  # blank only when a new change's template fills it
        )
    # A PATCH that leaves `risk_override` out keeps the stored one, which an earlier request may have set:
    # blanking the reason is then refused, so the run gives one whenever the override may stand.
    keeps_stored_override = (
        method == "PATCH" and "risk_override" not in body and "risk_override_reason" in body
    )
    if (body.get("risk_override") or keeps_stored_override) and not str(
        body.get("risk_override_reason") or ""
    ).strip():
        body["risk_override_reason"] = "Assessed by the change manager."


def _references(path: str) -> dict:
    """Body field → a value that exists, for the operation at `path` (a few names mean different things in
    different resources)."""
    group, agent = KNOWN.get("group"), KNOWN.get("agent")
    values = {
        "assignment_group": group,
        "support_group": group,
        "assigned_to": agent,
        "owner": agent,
        "caller": agent,
        "requested_for": agent,
        "cab_approvers": [KNOWN.get("cab_member")],
        "members": [agent],
        "parent": KNOWN.get("incident"),
        "problem": KNOWN.get("problem"),
        "configuration_items": [KNOWN.get("ci")],
        "ci": KNOWN.get("ci"),
        "cis": [KNOWN.get("ci")],
        "catalog_item": KNOWN.get("catalog_item"),
        "variables": {},
        "attributes": {},
        "template": None,
        "ci_class": KNOWN.get("ci_class"),
        "vendor": KNOWN.get("vendor"),
        "software": KNOWN.get("software"),
        "calendar": None,
        "conditions": {},
        "actions": [{"type": "comment", "body": "Checked by the fuzz run."}],
        "macro": _macro(path),
        "record": KNOWN.get("incident"),  # an article linked to a ticket
        "incidents": [KNOWN.get("incident")],  # a problem's incidents
        "expires_at": None,
        "category": _category(path),
        "manager": agent,
        "approval_group": group,
        "fulfillment_group": group,
        "source": KNOWN.get("ci"),
        "target": KNOWN.get("other_ci"),
        "contract": KNOWN.get("contract"),
        "users": [agent],
        "groups": [group],
        "time_zone": "Europe/Paris",
        "password": "Fuzzing-is-a-long-passphrase-26",
        "website": "https://vendor.example.com",
        "pause_states": [],
        "warning_thresholds": [50],
        "escalations": [],
        # the ServiceNow subset names the same things its own way
        "caller_id": agent,
        "cmdb_ci": KNOWN.get("ci_name"),
    }
    return {name: value for name, value in values.items() if value is not None or name in NULLABLE}


NULLABLE = ("template", "calendar", "expires_at")  # null is the valid choice here: no template, never expires


def _dates(body: dict) -> None:
    """Windows the API checks for order: planned start before end, contract start before end."""
    for start, end in (
        ("planned_start", "planned_end"),
        ("start_date", "end_date"),
        ("starts_at", "ends_at"),
        ("start", "end"),
    ):
        if (start in body) != (end in body):  # one end of a stored window: whether it fits is the record's
            body.pop(start, None)
            body.pop(end, None)
        if start in body and end in body and body[start] is not None and body[end] is not None:
            date_only = isinstance(body[start], str) and len(body[start]) == 10
            body[start], body[end] = _future(1), _future(2)
            if date_only:
                body[start], body[end] = body[start][:10], body[end][:10]


def _hours(body: dict) -> None:
    """A calendar's working-hour ranges end after they start (00:00 is the end of the day)."""
    for row in body.get("hours") or []:
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) for k in ("start", "end")):
            continue
        if row["end"] not in ("00:00", "00:00:00") and row["end"] <= row["start"]:
            row["start"], row["end"] = "09:00", "17:00"


@schemathesis.hook
def before_call(ctx, case, kwargs):
    meta = case.meta
    if meta is None or not meta.generation.mode.is_positive or not isinstance(case.body, dict):
        return
    path = case.operation.path
    for name, value in _references(path).items():
        if name in case.body:
            case.body[name] = value
    if KNOWN.get("role") == "requester":
        for prefix, writable in KNOWN.get("requester_writable", {}).items():
            if path.startswith(prefix) and path.count("/") <= prefix.count("/") + 1:  # the record, not below
                for name in set(case.body) - set(writable):
                    del case.body[name]
        if path.endswith("/comments/"):
            case.body["public"] = True  # work notes are the desk's
    if path.startswith("/api/now/"):
        # a move through `state` depends on the record's state; the native transition endpoint is fuzzed
        for name in ("state", "close_code", "hold_reason"):
            case.body.pop(name, None)
    if path.endswith("/renew/") and "end_date" in case.body:
        _RENEWALS.append(path)  # each renewal ends after the one before
        case.body["end_date"] = _future(3650 + 400 * len(_RENEWALS))[:10]
    _dates(case.body)
    _hours(case.body)
    _rules(case.method.upper(), case.body)
    _names(case.method.upper(), path, case.path_parameters or {}, case.body)
