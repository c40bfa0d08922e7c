"""Monitoring alerts (Prometheus Alertmanager webhook, version 4) → one incident per alert fingerprint.

Firing opens an incident, or annotates the open one, or reopens a resolved one; resolved resolves it
(resolution "solved", notes from the alert). Dedup holds under concurrency because every alert first
takes its AlertLink row (unique fingerprint) with get_or_create + SELECT ... FOR UPDATE inside the
transaction that creates the incident: two workers receiving the same alert serialise on that row.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import AssignmentGroup
from cmdb.models import ConfigurationItem
from core.choices import ActivityKind
from core.perf.orm import remember_related
from core.services import record_activity
from incidents.choices import IncidentState as S
from incidents.models import Incident
from incidents.services import incident_create, incident_transition
from incidents.workflow import INCIDENT_WORKFLOW

from . import conf
from .models import AlertLink

OPEN_STATES = INCIDENT_WORKFLOW.open_states


@dataclass
class Alert:
    status: str
    labels: dict[str, str]
    annotations: dict[str, str]
    fingerprint: str
    starts_at: str = ""
    ends_at: str = ""
    generator_url: str = ""

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "") or "alert"


@dataclass
class Outcome:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    ignored: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "resolved": self.resolved,
            "ignored": self.ignored,
        }


def fingerprint_of(labels: dict[str, str]) -> str:
    """Alertmanager's own fingerprint is used when present; otherwise a stable hash of the labels."""
    return hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]


def _string_map(value: Any, path: str, errors: dict[str, str]) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        errors[path] = "Must be an object of string values."
        return {}
    return value


_STRINGS = {"type": "object", "additionalProperties": {"type": "string"}}
# What parse_payload accepts, for the OpenAPI schema; Alertmanager's other fields (receiver, groupLabels, …)
# are allowed and not read.
PAYLOAD_SCHEMA = {
    "type": "object",
    "properties": {
        "version": {"type": "string", "enum": ["4"]},
        "alerts": {
            "type": "array",
            "minItems": 1,
            "maxItems": 1000,
            "items": {
                "type": "object",
                "properties": {
                    "status": {"type": "string", "enum": ["firing", "resolved"]},
                    "labels": {**_STRINGS, "minProperties": 1},
                    "annotations": {**_STRINGS, "nullable": True},
                    "fingerprint": {"type": "string", "maxLength": 128},
                    "startsAt": {"type": "string"},
                    "endsAt": {"type": "string"},
                    "generatorURL": {"type": "string"},
                },
                "required": ["status", "labels"],
            },
        },
    },
    "required": ["version", "alerts"],
}


def parse_payload(data: Any) -> list[Alert]:
    """Validate an Alertmanager webhook body; ValidationError names every bad field."""
    if not isinstance(data, dict):
        raise ValidationError(
            {"non_field_errors": "The body must be a JSON object (an Alertmanager webhook)."}
        )
    errors: dict[str, str] = {}
    if str(data.get("version", "")) != "4":
        errors["version"] = (
            f'Only Alertmanager webhook version "4" is supported, got {data.get("version")!r}.'
        )
    raw_alerts = data.get("alerts")
    if not isinstance(raw_alerts, list) or not raw_alerts:
        errors["alerts"] = "Must be a non-empty list of alerts."
        raise ValidationError(errors)
    if len(raw_alerts) > 1000:
        raise ValidationError({"alerts": "At most 1000 alerts per request."})
    alerts = []
    for index, raw in enumerate(raw_alerts):
        path = f"alerts[{index}]"
        if not isinstance(raw, dict):
            errors[path] = "Must be an object."
            continue
        status = raw.get("status")
        if status not in ("firing", "resolved"):
            errors[f"{path}.status"] = f'Must be "firing" or "resolved", got {status!r}.'
        labels = _string_map(raw.get("labels"), f"{path}.labels", errors)
        if not labels and f"{path}.labels" not in errors:
            errors[f"{path}.labels"] = "An alert needs labels (at least alertname)."
        annotations = _string_map(raw.get("annotations"), f"{path}.annotations", errors)
        for name in ("startsAt", "endsAt", "generatorURL", "fingerprint"):
            if not isinstance(raw.get(name, ""), str):
                errors[f"{path}.{name}"] = "Must be a string."
        fingerprint = raw.get("fingerprint") or (fingerprint_of(labels) if labels else "")
        if not isinstance(fingerprint, str) or len(fingerprint) > 128:
            errors[f"{path}.fingerprint"] = "Must be a string of at most 128 characters."
        alerts.append(
            Alert(
                status=status or "",
                labels=labels,
                annotations=annotations,
                fingerprint=str(fingerprint),
                starts_at=str(raw.get("startsAt", "")),
                ends_at=str(raw.get("endsAt", "")),
                generator_url=str(raw.get("generatorURL", "")),
            )
        )
    if errors:
        raise ValidationError(errors)
    return alerts


def _impact_urgency(alert: Alert) -> tuple[int, int]:
    mapping = conf.get("ALERT_SEVERITY_MAP")
    impact, urgency = mapping.get(
        alert.labels.get("severity", "").lower(), conf.get("ALERT_DEFAULT_IMPACT_URGENCY")
    )
    return int(impact), int(urgency)


class Lookups:
    """The assignment groups and CIs a request's alerts name, read in one query each (not per alert),
    and only once an alert opens an incident (repeats and resolutions need neither)."""

    def __init__(self, alerts: list[Alert]):
        self._alerts = alerts
        self._loaded: tuple[dict[str, Any], list] | None = None

    @property
    def groups(self) -> dict[str, Any]:
        return self._load()[0]

    @property
    def cis(self) -> list:
        return self._load()[1]

    @classmethod
    def load(cls, alerts: list[Alert]) -> Lookups:
        return cls(alerts)

    def _load(self) -> tuple[dict[str, Any], list]:
        if self._loaded is None:
            self._loaded = self._read(self._alerts)
        return self._loaded

    @staticmethod
    def _read(alerts: list[Alert]) -> tuple[dict[str, Any], list]:
        firing = [alert for alert in alerts if alert.status == "firing"]
        group_names = {name for alert in firing for name in _group_names(alert)}
        ci_names = {name for alert in firing for name in _ci_names(alert)}
        groups = (
            {g.name: g for g in AssignmentGroup.objects.filter(name__in=group_names, active=True)}
            if group_names
            else {}
        )
        cis = (
            list(ConfigurationItem.objects.filter(name__in=ci_names).exclude(status="retired"))
            if ci_names
            else []
        )
        return groups, cis


def _group_names(alert: Alert) -> list[str]:
    return [alert.labels[label] for label in conf.get("ALERT_GROUP_LABELS") if alert.labels.get(label)]


def _ci_names(alert: Alert) -> list[str]:
    names = []
    for label in conf.get("ALERT_CI_LABELS"):
        value = alert.labels.get(label, "")
        if value:
            names += [value, value.rsplit(":", 1)[0]]  # "db1:9100" → also "db1"
    return names


def _group(alert: Alert, lookups: Lookups | None = None):
    """The first group label naming an active group."""
    lookups = lookups or Lookups.load([alert])
    for name in _group_names(alert):
        if name in lookups.groups:
            return lookups.groups[name]
    return None


def _cis(alert: Alert, lookups: Lookups | None = None) -> list:
    """The non-retired CIs (at most five) named by the first CI label that names any (SPEC §7: `ci`, else
    `service`, else `instance` without its port; ALERT_CI_LABELS sets the labels and their order per
    installation). A label naming nothing falls through to the next; no match leaves the incident without
    CIs, so it is never correlated."""
    names = set(_ci_names(alert))
    if not names:
        return []
    lookups = lookups or Lookups.load([alert])
    for label in conf.get("ALERT_CI_LABELS"):
        value = alert.labels.get(label, "")
        if not value:
            continue
        wanted = {value, value.rsplit(":", 1)[0]}
        found = [ci for ci in lookups.cis if ci.name in wanted]
        if found:
            return found[:5]
    return []


def _describe(alert: Alert) -> str:
    lines = [alert.annotations.get("description", "")]
    lines += [f"{key}: {value}" for key, value in sorted(alert.annotations.items()) if key != "description"]
    lines += ["", "Labels:"] + [f"  {key}={value}" for key, value in sorted(alert.labels.items())]
    lines += [
        f"Started: {alert.starts_at}",
        f"Source: {alert.generator_url}",
        f"Fingerprint: {alert.fingerprint}",
    ]
    return "\n".join(lines).strip()


def _title(alert: Alert) -> str:
    summary = alert.annotations.get("summary", "")
    return (f"[{alert.name}] {summary}" if summary else f"[{alert.name}] alert firing")[:200]


def _ensure_links(alerts: list[Alert]) -> None:
    """Insert the missing AlertLink rows of a request's alerts in one statement, in fingerprint order.

    INSERT ... ON CONFLICT DO NOTHING: a fingerprint another transaction is inserting makes this one
    wait for it to commit, then skip it, so each fingerprint still has exactly one row; the sorted order
    keeps two requests from deadlocking, as the sorted row locks of process_alert do.
    """
    AlertLink.objects.bulk_create(
        [
            AlertLink(fingerprint=alert.fingerprint, alertname=alert.name[:200], labels=alert.labels)
            for alert in sorted(alerts, key=lambda alert: alert.fingerprint)
        ],
        ignore_conflicts=True,
    )


def process_alert(alert: Alert, *, actor, outcome: Outcome, lookups: Lookups | None = None) -> None:
    """Handle one alert inside the caller's transaction, holding its AlertLink row locked."""
    link = AlertLink.objects.select_for_update().filter(fingerprint=alert.fingerprint).first()
    if link is None:  # called without _ensure_links
        link, _created = AlertLink.objects.select_for_update().get_or_create(
            fingerprint=alert.fingerprint, defaults={"alertname": alert.name[:200], "labels": alert.labels}
        )
    link.notifications += 1
    link.last_seen = timezone.now()
    link.labels = alert.labels
    incident = Incident.objects.filter(pk=link.incident_id).first() if link.incident_id else None
    if alert.status == "firing":
        if incident is not None and incident.state in OPEN_STATES:
            # A repeat is one timeline row, not a comment: no version bump, no mail, no webhook storm.
            record_activity(
                incident,
                kind=ActivityKind.SYSTEM,
                actor=actor,
                public=False,
                body=f"Alert {alert.name} still firing (notification {link.notifications}).",
                data={"alert": alert.fingerprint, "notifications": link.notifications},
            )
            outcome.updated.append(incident.number)
        elif incident is not None and incident.state == S.RESOLVED:
            incident_transition(
                incident, to=S.IN_PROGRESS, actor=actor, note=f"Alert {alert.name} is firing again."
            )
            outcome.updated.append(incident.number)
        else:
            impact, urgency = _impact_urgency(alert)
            cis = _cis(alert, lookups)
            incident = incident_create(
                actor=actor,
                short_description=_title(alert),
                description=_describe(alert),
                impact=impact,
                urgency=urgency,
                assignment_group=_group(alert, lookups),
                configuration_items=cis,
            )
            # The incident's CIs are these: correlation (after commit, on this instance) needs no query.
            remember_related(incident, "configuration_items", cis)
            link.incident = incident
            outcome.created.append(incident.number)
    elif incident is not None and incident.state in OPEN_STATES:
        notes = alert.annotations.get("summary") or alert.annotations.get("description") or ""
        incident_transition(
            incident,
            to=S.RESOLVED,
            actor=actor,
            fields={
                "resolution_code": "solved",
                "resolution_notes": f"Alert {alert.name} resolved at {alert.ends_at or 'an unknown time'}."
                + (f" {notes}" if notes else ""),
            },
        )
        outcome.resolved.append(incident.number)
    else:
        outcome.ignored += 1
    link.status = alert.status
    link.save()


def receive_alertmanager(data: Any, *, actor) -> Outcome:
    """Validate the whole payload first (a 400 changes nothing), then handle its alerts in one transaction.

    One commit per request rather than per alert; alerts are taken in fingerprint order so two requests
    sharing fingerprints lock their AlertLink rows in the same order and cannot deadlock.
    """
    alerts = parse_payload(data)
    latest: dict[str, Alert] = {}
    for alert in alerts:
        latest[alert.fingerprint] = alert  # the same alert twice in one payload: the last word counts
    outcome = Outcome()
    lookups = Lookups.load(list(latest.values()))
    with transaction.atomic():
        _ensure_links(list(latest.values()))
        for fingerprint in sorted(latest):
            process_alert(latest[fingerprint], actor=actor, outcome=outcome, lookups=lookups)
    return outcome
