"""Correlation over the CMDB (SPEC §7): incidents on CIs that share an upstream CI become one major incident.

When an incident is opened with CIs or gains CIs (an after-commit listener on `incident.created` and
`incident.updated`), `correlate` walks the CIs whose failure would impact its CIs (cmdb.selectors.
upstream_walk_sql, IMPACT_TYPES, at most CORRELATION_MAX_HOPS) and stores them as IncidentUpstream rows. Open
incidents opened within CORRELATION_WINDOW_SECONDS that share one of those CIs are then index lookups, in
the statement that stores the rows (_CANDIDATES_SQL). The incident joins an open group through the group's
suspected cause; else, with the ungrouped ones that share the upstream CI the most of them share (then the
nearest), it goes under a new parent marked `major`, whose `suspected_cause` is that CI. Nearest means the
smallest larger distance of the two sides, then the smaller sum, then the lower CI id, so the choice is
deterministic. A grouped alert costs four statements (README "Cost per alert").

Concurrency: the grouping takes row locks on every upstream CI of the incident (ORDER BY id, in the walk's
statement) before it reads candidates. Two incidents that share an upstream CI both lock that row, so the
second waits for the first to commit and then sees its rows and its parent: two bursts at once make one
parent, as the AlertLink row makes one incident per alert fingerprint. It runs in its own transaction after
the incident's commit, so an Alertmanager request with many alerts never holds these locks across alerts
(no deadlock).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.roles import WORKSPACE_ROLES
from cmdb.models import IMPACT_TYPES, ConfigurationItem
from cmdb.selectors import upstream_paths, upstream_walk_sql  # noqa: F401 (upstream_paths: re-exported)
from core import events
from core.choices import ActivityKind
from core.models import Activity
from core.services import activity_annotation, record_activity, require_role

from .models import Incident, IncidentUpstream
from .services import incident_create, incident_update
from .workflow import INCIDENT_WORKFLOW

logger = logging.getLogger(__name__)

OPEN_STATES = tuple(INCIDENT_WORKFLOW.open_states)


@dataclass(frozen=True)
class Match:
    """A shared upstream CI between the incident being correlated and one candidate."""

    score: tuple[int, int, int]
    candidate_id: int
    candidate_number: str
    ci_id: int
    own_path: list[int]
    other_path: list[int]


@dataclass(frozen=True)
class Group:
    """An open group one of whose members shares an upstream CI with the incident through its cause."""

    parent_id: int
    number: str
    cause_id: int
    cause_confirmed: bool
    best: Match  # the member match that ties the incident to the group (on the cause when there is one)
    names: dict[int, str]  # of the CIs on the member's path
    refined: int | None  # the CI shared by the most members once the incident joins (None: confirmed)
    members: int | None  # how many members share it


def _names(ci_ids) -> dict[int, str]:
    return dict(ConfigurationItem.objects.filter(pk__in=set(ci_ids)).values_list("pk", "name"))


def _path_text(path: list[int], names: dict[int, str]) -> str:
    return " → ".join(names.get(pk, f"#{pk}") for pk in path)


def correlate(
    incident_id: int, *, actor=None, fresh: bool = False, incident: Incident | None = None
) -> Incident | None:
    """Group the incident if it shares an upstream CI with others; returns its parent (an existing group's
    parent with only its id, number and cause loaded), or None.

    `incident`: the instance the after-commit event carries (as committed; read again when not given).
    `fresh`: it was just opened, so it has no IncidentUpstream rows to replace and its CIs are the ones
    the create remembered on it."""
    if not settings.CORRELATION_ENABLED:
        return None
    with transaction.atomic():
        if incident is None:
            incident = Incident.objects.filter(pk=incident_id).first()
        if incident is None or incident.state not in OPEN_STATES:
            return None
        if incident.correlation_detached or incident.suspected_cause_id or incident.parent_id:
            return None  # detached by an agent, a group's parent, or already in a group
        listed = getattr(incident, "_prefetched_objects_cache", {}).get("configuration_items")
        if fresh and listed is not None:
            ci_ids = sorted(ci.pk for ci in listed)
        else:
            ci_ids = sorted(incident.configuration_items.values_list("pk", flat=True))
        if not fresh:
            IncidentUpstream.objects.filter(incident=incident).delete()
        if not ci_ids:
            return None
        paths, names = _walk_and_lock(ci_ids)
        groups, loose = _candidates(incident, paths)
        if not groups and not loose:
            return None
        return _group(incident, groups, loose, paths, names, actor=actor)


def _walk_and_lock(ci_ids: list[int]) -> tuple[dict[int, list[int]], dict[int, str]]:
    """The upstream CIs of `ci_ids` with their paths and names, in one statement that also locks their rows
    (ORDER BY id): the lock that serialises two incidents sharing an upstream CI (module docstring)."""
    with connection.cursor() as cursor:
        cursor.execute(
            upstream_walk_sql(settings.CORRELATION_MAX_HOPS)  # noqa: S608 (level numbers only; values bound)
            + "SELECT w.ci_id, w.rpath, ci.name FROM upstream w"
            " JOIN cmdb_configurationitem ci ON ci.id = w.ci_id ORDER BY ci.id FOR UPDATE OF ci",
            {"start": ci_ids, "types": list(IMPACT_TYPES)},
        )
        rows = cursor.fetchall()
    return {ci: list(reversed(rpath)) for ci, rpath, _n in rows}, {ci: name for ci, _p, name in rows}


# The candidates of one incident, in the statement that stores its upstream CIs (`mine`: each with the
# incident's distance to it and the path). Open, undetached, non-parent incidents opened within the window
# that share one of them are either in an open group, joined only through the group's suspected cause (the
# cause is upstream of the incident, or lies on the member's path below the CI they share): one row per
# group, the member match on the cause first, then the nearest, with the member path's CI names and, unless
# an agent confirmed the cause, the CI shared by the most members once the incident has joined (_move_cause);
# or in none: every shared CI, for choosing the cause of a new group. It runs after the lock, so its
# snapshot sees the group another incident sharing an upstream CI has just made. The LATERAL ... OFFSET 0
# subqueries pin the plan to index probes (upstream rows by (ci, opened_at), incidents by id, members by
# parent, their upstream rows by incident) whatever the statistics say: a burst adds thousands of rows
# between two ANALYZEs, and a plan from stale statistics scanned every open incident (EXPLAIN, README).
_CANDIDATES_SQL = """
WITH mine(ci_id, own, path) AS (SELECT * FROM unnest(%(cis)s::bigint[], %(own)s::int[], %(paths)s::text[])),
stored AS (
    INSERT INTO incidents_incidentupstream (incident_id, ci_id, distance, path, opened_at)
    SELECT %(me)s, ci_id, own, path::jsonb, %(opened)s FROM mine
),
shared AS MATERIALIZED (
    SELECT u.incident_id, c.number, u.ci_id, u.distance, u.path, mine.own, c.parent_id
    FROM mine
    CROSS JOIN LATERAL (
        SELECT u.incident_id, u.ci_id, u.distance, u.path FROM incidents_incidentupstream u
        WHERE u.ci_id = mine.ci_id AND u.opened_at BETWEEN %(since)s AND %(until)s AND u.incident_id <> %(me)s
        OFFSET 0
    ) u
    CROSS JOIN LATERAL (
        SELECT c.number, c.parent_id FROM incidents_incident c
        WHERE c.id = u.incident_id AND c.state = ANY(%(open)s) AND NOT c.correlation_detached
          AND c.suspected_cause_id IS NULL
        OFFSET 0
    ) c
),
grouped AS (
    SELECT DISTINCT ON (p.id)
        p.id AS parent_id, p.number AS parent_number, p.suspected_cause_id, p.cause_confirmed,
        s.incident_id, s.number, s.ci_id, s.distance, s.path, s.own
    FROM shared s
    CROSS JOIN LATERAL (
        SELECT p.id, p.number, p.suspected_cause_id, p.cause_confirmed FROM incidents_incident p
        WHERE p.id = s.parent_id AND p.state = ANY(%(open)s) AND p.parent_id IS NULL
        OFFSET 0
    ) p
    WHERE p.suspected_cause_id = ANY(%(cis)s::bigint[]) OR s.path @> jsonb_build_array(p.suspected_cause_id)
    ORDER BY p.id, (s.ci_id = p.suspected_cause_id) DESC, GREATEST(s.own, s.distance), s.own + s.distance,
        s.ci_id, s.incident_id
)
SELECT g.parent_id, g.parent_number, g.suspected_cause_id, g.cause_confirmed,
    g.incident_id, g.number, g.ci_id, g.distance, g.path, g.own,
    ARRAY(SELECT (SELECT ci.name FROM cmdb_configurationitem ci WHERE ci.id = e.id::bigint)
          FROM jsonb_array_elements_text(g.path) WITH ORDINALITY e(id, n) ORDER BY e.n),
    r.ci_id, r.members
FROM grouped g
LEFT JOIN LATERAL (
    SELECT x.ci_id, count(*) AS members
    FROM (
        SELECT u.ci_id, u.distance FROM incidents_incident m
        CROSS JOIN LATERAL (
            SELECT u.ci_id, u.distance FROM incidents_incidentupstream u WHERE u.incident_id = m.id OFFSET 0
        ) u
        WHERE m.parent_id = g.parent_id
        UNION ALL SELECT ci_id, own FROM mine
    ) x
    GROUP BY x.ci_id ORDER BY count(*) DESC, max(x.distance), x.ci_id LIMIT 1
) r ON NOT g.cause_confirmed
UNION ALL
SELECT NULL, NULL, NULL, NULL, s.incident_id, s.number, s.ci_id, s.distance, s.path, s.own, NULL, NULL, NULL
FROM shared s WHERE s.parent_id IS NULL
"""


def _candidates(incident: Incident, paths: dict[int, list[int]]) -> tuple[list[Group], list[Match]]:
    window = timedelta(seconds=settings.CORRELATION_WINDOW_SECONDS)
    cis = list(paths)
    params = {
        "cis": cis,
        "own": [len(paths[ci]) - 1 for ci in cis],
        "paths": [json.dumps(paths[ci]) for ci in cis],
        "me": incident.pk,
        "opened": incident.opened_at,
        "since": incident.opened_at - window,
        "until": incident.opened_at + window,
        "open": list(OPEN_STATES),
    }
    groups, loose = [], []
    with connection.cursor() as cursor:
        cursor.execute(_CANDIDATES_SQL, params)
        rows = cursor.fetchall()
    for row in rows:
        parent_id, parent_number, cause_id, confirmed, candidate_id, number, ci_id, distance, path, own = row[
            :10
        ]
        path = json.loads(path) if isinstance(path, str) else path
        match = Match(
            (max(own, distance), own + distance, ci_id), candidate_id, number, ci_id, paths[ci_id], path
        )
        if parent_id is None:
            loose.append(match)
        else:
            names, refined, members = row[10:]
            groups.append(
                Group(
                    parent_id,
                    parent_number,
                    cause_id,
                    confirmed,
                    match,
                    {pk: name for pk, name in zip(path, names, strict=True) if name is not None},
                    refined,
                    members,
                )
            )
    loose.sort(key=lambda m: (m.score, m.candidate_id))
    return groups, loose


def _group(
    incident: Incident,
    groups: list[Group],
    loose: list[Match],
    paths: dict,
    names: dict[int, str],
    *,
    actor,
) -> Incident | None:
    # An existing group is joined only through its suspected cause, or a CI upstream of it on a member's
    # path (the cause then moves up, _move_cause): sharing some other upstream CI with one member is
    # the coincidence a dense CMDB makes likely (bench/correlation_bench.py).
    group = None
    if groups:
        group = min(groups, key=lambda g: (len(paths.get(g.cause_id, ())) or 99, g.parent_id))
        parent = Incident(
            pk=group.parent_id,
            number=group.number,
            suspected_cause_id=group.cause_id,
            cause_confirmed=group.cause_confirmed,
        )
        cause_id, best = group.cause_id, group.best
        names = {**group.names, **names}
        joining: dict[int, Match] = {}
    else:
        # A new group: the upstream CI shared by the most ungrouped incidents, then the nearest.
        sharing: dict[int, dict[int, Match]] = {}
        for m in loose:
            sharing.setdefault(m.ci_id, {}).setdefault(m.candidate_id, m)
        cause_id = min(
            sharing, key=lambda ci: (-len(sharing[ci]), min(m.score for m in sharing[ci].values()))
        )
        joining = sharing[cause_id]
        if len(joining) + 1 < settings.CORRELATION_MIN_INCIDENTS:
            return None
        best = min(joining.values(), key=lambda m: (m.score, m.candidate_id))
        parent = None
        names = {**_names({pk for m in joining.values() for pk in m.other_path} - set(names)), **names}
    cause_name = names.get(cause_id, f"#{cause_id}")
    others = {}
    if parent is None:
        others = {c.pk: c for c in Incident.objects.filter(pk__in=joining, parent__isnull=True)}
        members = [incident, *(others[pk] for pk in sorted(others))]
        parent = incident_create(
            actor=actor or incident.opened_by,  # the parent is opened on behalf of whoever opened this one
            short_description=f"Major incident: {cause_name} suspected ({len(members)} incidents on CIs "
            f"that depend on it)"[:200],
            description=(
                f"Opened by correlation: {len(members)} incidents opened within "
                f"{settings.CORRELATION_WINDOW_SECONDS // 60} minutes on CIs that depend on {cause_name} "
                f"(within {settings.CORRELATION_MAX_HOPS} hops). Suspected cause: {cause_name}."
            ),
            impact=min(m.impact for m in members),
            urgency=min(m.urgency for m in members),
            assignment_group=incident.assignment_group,
            major=True,
        )
        parent.suspected_cause_id = cause_id
        parent.correlation_reason = f"Suspected cause {cause_name}: the members' CIs all depend on it."
        Incident.objects.filter(pk=parent.pk).update(
            suspected_cause_id=cause_id, correlation_reason=parent.correlation_reason
        )
    to_attach = [(incident, best.own_path, best.candidate_number, best.other_path)]
    to_attach += [
        (others[pk], m.other_path, incident.number, m.own_path)
        for pk, m in sorted(joining.items())
        if pk in others
    ]
    attached = False
    for child, path, other_number, other_path in to_attach:
        reason = (
            f"Grouped under {parent.number}: {child.number} and {other_number} share the upstream CI "
            f"{names.get(best.ci_id)} ({_path_text(path, names)}; {_path_text(other_path, names)})."
        )
        data = {
            "correlation": {
                "parent": parent.number,
                "child": child.number,
                "upstream_ci": best.ci_id,
                "path": path,
                "other": other_number,
                "other_path": other_path,
            }
        }
        attached |= _attach(child, parent, reason=reason, data=data, actor=actor)
    if group is not None and attached and group.refined and group.refined != parent.suspected_cause_id:
        _move_cause(parent, group.refined, group.members, actor=actor)
    return parent


def _attach(child: Incident, parent: Incident, *, reason: str, data: dict, actor) -> bool:
    """Put `child` under `parent` as incident_update(changes={"parent": parent}) would, in two round trips:
    one guarded UPDATE (version bumped; nothing happens if the child gained a parent or left the open states
    meanwhile) and one INSERT of the timeline rows (the child's field change and reason, the parent's
    reason); then the same `incident.updated` event (rules, SLA, webhooks)."""
    updated = Incident.objects.filter(pk=child.pk, parent__isnull=True, state__in=OPEN_STATES).update(
        parent_id=parent.pk,
        correlation_reason=reason,
        version=F("version") + 1,
        updated_at=timezone.now(),
    )
    if not updated:
        logger.warning("correlation could not attach %s to %s", child.number, parent.number)
        return False
    child.parent_id, child.correlation_reason, child.version = parent.pk, reason, child.version + 1
    changes = [{"field": "parent", "old": None, "new": parent.number}]
    content_type = ContentType.objects.get_for_model(Incident)
    annotation = activity_annotation.get() or {}

    def row(record, kind, body="", data=None):
        return Activity(
            content_type=content_type,
            object_id=record.pk,
            kind=kind,
            actor=actor if actor is not None and actor.pk else None,
            actor_name=actor.username if actor is not None and actor.pk else "system",
            public=False,
            body=body,
            data={**data, **annotation},
        )

    Activity.objects.bulk_create(
        [
            row(child, ActivityKind.FIELD_CHANGE, data={"changes": changes}),
            row(child, ActivityKind.SYSTEM, reason, data),
            row(parent, ActivityKind.SYSTEM, reason, data),
        ]
    )
    events.publish(
        "incident.updated",
        record=child,
        actor=actor,
        data={"changes": changes, "assignment_changed": False},
    )
    return True


def _move_cause(parent: Incident, cause_id: int, members: int, *, actor) -> None:
    """As a group grows, the suspected cause becomes the upstream CI shared by the most members (then the
    nearest; computed by _CANDIDATES_SQL): the first two alerts of an outage may share a CI closer than the
    real cause. An agent's confirmed cause is never changed."""
    names = _names([cause_id, parent.suspected_cause_id])
    Incident.objects.filter(pk=parent.pk).update(suspected_cause_id=cause_id)
    record_activity(
        parent,
        kind=ActivityKind.SYSTEM,
        actor=actor,
        public=False,
        body=f"Suspected cause now {names.get(cause_id)} (upstream of {members} members), "
        f"was {names.get(parent.suspected_cause_id)}.",
    )
    parent.suspected_cause_id = cause_id


ONLY_AGENTS = "Only agents can change a major incident's group."


def detach(child: Incident, *, actor) -> Incident:
    """Take a child out of its group by hand: it keeps no parent and is never grouped again."""
    require_role(actor, *WORKSPACE_ROLES, message=ONLY_AGENTS)
    if not child.parent_id:
        raise ValidationError({"parent": f"{child.number} is not part of a major incident."})
    with transaction.atomic():
        parent = child.parent
        child = incident_update(child, actor=actor, changes={"parent": None})
        Incident.objects.filter(pk=child.pk).update(correlation_detached=True)
        child.correlation_detached = True
        body = (
            f"{child.number} detached from major incident {parent.number} by hand; it will not be regrouped."
        )
        record_activity(child, kind=ActivityKind.SYSTEM, actor=actor, public=False, body=body)
        record_activity(parent, kind=ActivityKind.SYSTEM, actor=actor, public=False, body=body)
    return child


def set_cause(parent: Incident, *, actor, ci: ConfigurationItem | None = None) -> Incident:
    """Confirm the suspected cause (`ci` None or the same CI) or replace it with another CI."""
    require_role(actor, *WORKSPACE_ROLES, message=ONLY_AGENTS)
    if not parent.major or not parent.children.exists():
        raise ValidationError({"suspected_cause": f"{parent.number} is not the parent of a group."})
    with transaction.atomic():
        old = parent.suspected_cause
        new = ci or old
        if new is None:
            raise ValidationError({"suspected_cause": "Pick the CI that caused the outage."})
        Incident.objects.filter(pk=parent.pk).update(suspected_cause=new, cause_confirmed=True)
        parent.suspected_cause, parent.cause_confirmed = new, True
        if old is not None and old.pk == new.pk:
            body = f"Suspected cause {new.name} confirmed."
        else:
            body = f"Suspected cause replaced: {old.name if old else 'none'} → {new.name} (confirmed)."
        record_activity(parent, kind=ActivityKind.SYSTEM, actor=actor, public=False, body=body)
    return parent


def correlation_of(incident: Incident) -> dict:
    """The SPEC §7 answer: parent number, suspected cause id, reason, member numbers; plus the paths that tie
    each member to the cause, for the incident page."""
    parent = incident.parent if incident.parent_id else None
    head = parent or (incident if incident.suspected_cause_id else None)
    if head is None:
        return {"parent": None, "suspected_cause": None, "reason": "", "members": [], "paths": []}
    members = list(head.children.order_by("number").values_list("pk", "number"))
    paths = []
    if head.suspected_cause_id:
        rows = dict(
            IncidentUpstream.objects.filter(
                incident_id__in=[pk for pk, _n in members], ci_id=head.suspected_cause_id
            ).values_list("incident_id", "path")
        )
        names = _names({pk for path in rows.values() for pk in path} | {head.suspected_cause_id})
        paths = [
            {"incident": number, "path": _path_text(rows[pk], names)} for pk, number in members if pk in rows
        ]
    return {
        "parent": parent.number if parent else None,
        "suspected_cause": head.suspected_cause_id,
        "reason": incident.correlation_reason or head.correlation_reason,
        "members": [number for _pk, number in members],
        "paths": paths,
        "head": head,
    }


def on_incident_event(event) -> None:
    """After-commit listener: correlate an incident opened with CIs or whose CIs changed; note a parent
    removed by hand (the edit form or the API) as a detachment."""
    if event.kind != "incident":
        return
    record = event.record
    if event.action == "updated":
        changes = event.data.get("changes", [])
        if any(d["field"] == "parent" and d["old"] and not d["new"] for d in changes):
            Incident.objects.filter(pk=record.pk).update(correlation_detached=True)
            return
        if not event.data.get("cis", {}).get("added"):
            return
    elif event.action != "created":
        return
    if record.parent_id or record.major:
        return
    listed = getattr(record, "_prefetched_objects_cache", {}).get("configuration_items")
    if event.action == "created" and listed is not None and not list(listed):
        return  # opened without CIs (remember_related): nothing to correlate, no query spent
    correlate(record.pk, actor=event.actor, fresh=event.action == "created", incident=record)
