"""Every permission-scoped read of the CMDB, and the graph traversals (impact, dependencies, neighbours).

The traversals run in PostgreSQL as recursive CTEs. They are cycle-safe and polynomial without carrying a
path array per row: the recursive part produces `(ci, depth)` rows combined with UNION (not UNION ALL), so
a row already produced is never expanded again, each level holds at most one row per CI, and the depth
limit ends the recursion even in a cyclic graph. The shortest path of each CI is rebuilt in Python from
one parent per CI chosen one level closer to the start.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypedDict

from django.db import connection
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Collate, Upper
from django.shortcuts import get_object_or_404

from accounts.roles import is_workspace_user
from core.models import TicketBase
from core.numbers import parse_id
from core.pg import has_extension
from core.selectors import visible_tickets

from .models import IMPACT_TYPES, CIChange, CIClass, ConfigurationItem, Relationship, RelationshipType

if TYPE_CHECKING:
    from accounts.models import User

# Requesters (no workspace role) may read only these classes: what they pick in the portal when they
# report a problem ("the online shop is down"), never the servers and databases behind them.
REQUESTER_VISIBLE_CLASSES = ("business_service", "application")
BUSINESS_SERVICE = "business_service"
MAX_DEPTH_LIMIT = 20


class ImpactRow(TypedDict):
    ci: ConfigurationItem
    distance: int
    path: list[int]
    relationship_types: list[str]
    is_business_service: bool


def _base_queryset() -> QuerySet[ConfigurationItem]:
    return ConfigurationItem.objects.select_related("ci_class", "owner", "support_group")


def visible_cis(user: User) -> QuerySet[ConfigurationItem]:
    """The CIs `user` may read: all of them with a workspace role, business services and applications
    for a plain requester, none for an anonymous user."""
    qs = _base_queryset()
    if user is None or not user.is_authenticated:
        return qs.none()
    if is_workspace_user(user):
        return qs
    return qs.filter(ci_class__name__in=REQUESTER_VISIBLE_CLASSES)


def get_visible_ci(user: User, pk) -> ConfigurationItem:
    """The CI or Http404: a CI the user may not see does not exist for them."""
    return get_object_or_404(visible_cis(user), pk=pk)


def visible_relationships(user: User) -> QuerySet[Relationship]:
    """Relationships whose two ends the user may both see."""
    qs = Relationship.objects.select_related("source__ci_class", "target__ci_class")
    if user is None or not user.is_authenticated:
        return qs.none()
    if is_workspace_user(user):
        return qs
    return qs.filter(
        source__ci_class__name__in=REQUESTER_VISIBLE_CLASSES,
        target__ci_class__name__in=REQUESTER_VISIBLE_CLASSES,
    )


AUTOCOMPLETE_LIMIT = 20
# pg_trgm extracts no trigram from a shorter text, so a substring search would scan the whole table.
SUBSTRING_MIN_LENGTH = 3


def autocomplete_cis(
    user: User, text: str, *, ci_class: str | None = None, limit: int = AUTOCOMPLETE_LIMIT
) -> list[ConfigurationItem]:
    """CIs to offer for `text` in a ticket form's CI picker, best first, at most `limit`, fast on 100,000 CIs.

    Three index-backed tries, each only while the list is not full: an exact serial number (or id), then
    names starting with `text` (case-insensitive, a range scan of `ci_name_prefix_idx` in display order,
    so LIMIT stops early however many names match), then, for a text of 3 characters or more and only
    where pg_trgm exists (core.pg), names containing it through the trigram index. Without pg_trgm (the
    embedded PostgreSQL of `make run`) the picker offers exact and prefix matches only.
    """
    text = (text or "").strip()[:100]
    if not text or limit <= 0:
        return []
    queryset = visible_cis(user)
    if ci_class:
        queryset = queryset.filter(ci_class__name=ci_class)
    exact = Q(serial_number=text)
    ci_id = parse_id(text)
    if ci_id is not None:
        exact |= Q(pk=ci_id)
    found = list(queryset.filter(exact).order_by("name", "id")[:limit])
    # upper() on both sides in SQL, so the case folding is PostgreSQL's own (Python's differs, e.g. "ß").
    prefix = (
        queryset.alias(name_key=Collate(Upper("name"), "C"))
        .filter(name_key__startswith=Collate(Upper(Value(text)), "C"))
        .exclude(pk__in=[ci.pk for ci in found])
        .order_by("name_key", "id")
    )
    found.extend(prefix[: limit - len(found)])
    if len(found) < limit and len(text) >= SUBSTRING_MIN_LENGTH and has_extension("pg_trgm"):
        substring = (
            queryset.filter(name__icontains=text)
            .exclude(pk__in=[ci.pk for ci in found])
            .order_by("name", "id")
        )
        found.extend(substring[: limit - len(found)])
    return found


def _clamp_depth(max_depth: int) -> int:
    return max(1, min(int(max_depth), MAX_DEPTH_LIMIT))


# One hop: for impact from a failing CI to what uses it (edge target = current CI, the next CI is the
# edge's source); for dependencies the other way round. The LATERAL subquery makes PostgreSQL probe the
# edge index once per frontier row instead of hash-joining the whole edge table at every level. The walk
# keeps only (ci, depth), so UNION bounds each level by the number of CIs; `best` keeps each CI's
# shallowest depth, and one parent per CI is picked among neighbours exactly one level closer.
#
# The parent pick is fenced on purpose. PostgreSQL estimates a recursive CTE at a few dozen rows whatever
# it holds, and with one flat join (best b, edges, best p) it once joined b and p first on `depth` alone:
# ~1,000 CIs at depth 6 made ~200,000 (b, p) pairs, each probed in the edge index, 1.0-1.4 s per query
# (EXPLAIN ANALYZE on 100,000 CIs / 300,000 edges). `steps` (MATERIALIZED) first takes each CI's edges
# back toward the start through the index, then joins best on (ci, depth) together: linear in the result.
_WALK_SQL = """
WITH RECURSIVE walk(ci_id, depth) AS (
    SELECT %(start)s::bigint, 0
  UNION
    SELECT n.next_id, w.depth + 1
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT r.{next_col} AS next_id FROM cmdb_relationship r
        WHERE r.{this_col} = w.ci_id AND r.type = ANY(%(types)s)
    ) n
    WHERE w.depth < %(max_depth)s AND n.next_id <> %(start)s
),
best AS MATERIALIZED (SELECT ci_id, min(depth) AS depth FROM walk GROUP BY ci_id),
steps AS MATERIALIZED (
    SELECT b.ci_id, b.depth, r.{this_col} AS parent_id, r.type
    FROM best b
    JOIN cmdb_relationship r ON r.{next_col} = b.ci_id AND r.type = ANY(%(types)s)
    WHERE b.depth > 0
)
SELECT DISTINCT ON (s.ci_id) s.ci_id, s.depth, s.parent_id, s.type
FROM steps s
JOIN best p ON p.ci_id = s.parent_id AND p.depth = s.depth - 1
ORDER BY s.ci_id, s.parent_id, s.type
"""


def _walk(
    ci_id: int, max_depth: int, *, direction: str, user: User | None, types: Iterable[str]
) -> list[ImpactRow]:
    this_col, next_col = ("target_id", "source_id") if direction == "impact" else ("source_id", "target_id")
    sql = _WALK_SQL.format(this_col=this_col, next_col=next_col)
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"start": int(ci_id), "max_depth": _clamp_depth(max_depth), "types": [str(t) for t in types]}
        )
        rows = cursor.fetchall()
    parents = {row[0]: (row[1], row[2], row[3]) for row in rows}
    # A walk can reach a thousand CIs: load them without joins (the class joined onto each row would
    # decode its JSON Schema a thousand times) and attach the few classes from one small query.
    qs = visible_cis(user) if user is not None else ConfigurationItem.objects.all()
    classes = {c.pk: c for c in CIClass.objects.all()} if parents else {}
    cis = {}
    for ci in qs.select_related(None).filter(pk__in=parents).order_by():
        ci.ci_class = classes[ci.ci_class_id]
        cis[ci.pk] = ci
    result: list[ImpactRow] = []
    for pk, (depth, _parent, _type) in parents.items():
        if pk not in cis:
            continue
        path, types_on_path, node = [pk], [], pk
        while node in parents:
            _d, parent, rel_type = parents[node]
            types_on_path.append(rel_type)
            path.append(parent)
            node = parent
        path.reverse()
        types_on_path.reverse()
        ci = cis[pk]
        result.append(
            {
                "ci": ci,
                "distance": depth,
                "path": path,
                "relationship_types": types_on_path,
                "is_business_service": ci.ci_class.name == BUSINESS_SERVICE,
            }
        )
    result.sort(key=lambda row: (row["distance"], row["ci"].name, row["ci"].pk))
    return result


def impact(ci_id: int, max_depth: int = 6, *, user: User | None = None) -> list[ImpactRow]:
    """Every CI a failure of `ci_id` impacts, transitively up to `max_depth` hops.

    "A depends_on / runs_on / contains B" means B failing impacts A, so the walk goes from an edge's
    target to its source; `connected_to` carries no impact. Each row has the shortest `distance`, one
    shortest `path` of CI ids from `ci_id` to the impacted CI, and `is_business_service`. With `user`, CIs
    the user may not see are left out.
    """
    return _walk(ci_id, max_depth, direction="impact", user=user, types=IMPACT_TYPES)


def dependencies(ci_id: int, max_depth: int = 6, *, user: User | None = None) -> list[ImpactRow]:
    """Every CI whose failure would impact `ci_id` (the other direction of `impact`)."""
    return _walk(ci_id, max_depth, direction="dependencies", user=user, types=IMPACT_TYPES)


_NEIGHBOUR_SQL = """
WITH RECURSIVE walk(ci_id, depth) AS (
    SELECT unnest(%(start)s::bigint[]), 0
  UNION
    SELECT n.other, w.depth + 1
    FROM walk w
    CROSS JOIN LATERAL (
        SELECT r.target_id AS other FROM cmdb_relationship r WHERE r.source_id = w.ci_id
        UNION ALL
        SELECT r.source_id FROM cmdb_relationship r WHERE r.target_id = w.ci_id
    ) n
    WHERE w.depth < %(max_hops)s
)
SELECT ci_id, min(depth) FROM walk GROUP BY ci_id
"""


def neighbour_ci_ids(ci_ids: Iterable[int], max_hops: int = 2) -> dict[int, int]:
    """CI id → hop distance for every CI within `max_hops` of any of `ci_ids`, in any direction and
    through any relationship type (the change-conflict detector's "CIs within two hops").

    The given CIs themselves are included at distance 0, so a caller can test one membership.
    """
    start = sorted({int(pk) for pk in ci_ids})
    if not start:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(_NEIGHBOUR_SQL, {"start": start, "max_hops": max(0, int(max_hops))})
        return {row[0]: row[1] for row in cursor.fetchall()}


def neighbourhood_graph(ci: ConfigurationItem, *, user: User, max_hops: int = 1, limit: int = 150) -> dict:
    """Nodes and edges around `ci` in cytoscape's element format, limited to what `user` may see."""
    distances = neighbour_ci_ids([ci.pk], max_hops=max_hops)
    nearest = sorted(distances, key=lambda pk: (distances[pk], pk))[:limit]
    cis = {c.pk: c for c in visible_cis(user).filter(pk__in=nearest)}
    edges = Relationship.objects.filter(source_id__in=cis, target_id__in=cis).values_list(
        "id", "source_id", "target_id", "type"
    )
    nodes = [
        {
            "data": {
                "id": str(pk),
                "label": c.name,
                "ci_class": c.ci_class.name,
                "status": c.status,
                "distance": distances[pk],
                "url": c.get_absolute_url(),
                "focus": pk == ci.pk,
            }
        }
        for pk, c in cis.items()
    ]
    links = [
        # `label` is what the graph draws ("Runs on"), `type` the code its styles key on.
        {
            "data": {
                "id": f"e{pk}",
                "source": str(s),
                "target": str(t),
                "type": rel_type,
                "label": RelationshipType(rel_type).label
                if rel_type in RelationshipType.values
                else rel_type,
            }
        }
        for pk, s, t, rel_type in edges
    ]
    return {"nodes": nodes, "edges": links}


def ci_relationships(ci: ConfigurationItem, *, user: User) -> tuple[list[Relationship], list[Relationship]]:
    """The CI's outgoing and incoming relationships whose other end the user may see."""
    rels = list(visible_relationships(user).filter(Q(source=ci) | Q(target=ci)))
    return [r for r in rels if r.source_id == ci.pk], [r for r in rels if r.target_id == ci.pk]


def ci_history(ci: ConfigurationItem) -> QuerySet[CIChange]:
    return CIChange.objects.filter(ci=ci).order_by("-changed_at", "-id")


def open_tickets_for_ci(ci: ConfigurationItem, *, user: User, limit: int = 50) -> list:
    """Open tickets of every kind (not final, not resolved) that reference `ci` and that `user` may see,
    newest first; one query per ticket kind."""
    tickets: list = []
    for model in ticket_models():
        closed = set(model.workflow.final_states) | set(model.workflow.done_states)
        qs = visible_tickets(model, user).filter(configuration_items=ci).exclude(state__in=closed)
        tickets.extend(qs.select_related("assignment_group", "assigned_to").order_by("-opened_at")[:limit])
    tickets.sort(key=lambda t: t.opened_at, reverse=True)
    return tickets


def open_tickets_for_ci_any_user(ci: ConfigurationItem) -> list:
    """Every ticket of any kind in a non-final state (a resolved one may reopen) that references `ci`,
    unscoped: the delete guard."""
    tickets: list = []
    for model in ticket_models():
        final = set(model.workflow.final_states)
        tickets.extend(
            model.objects.filter(configuration_items=ci).exclude(state__in=final).order_by("number")
        )
    return tickets


def ticket_models() -> list:
    """Every concrete TicketBase subclass that links CIs, found through ConfigurationItem's reverse M2M
    relations, so a new ticket app needs no change here."""
    found = []
    for rel in ConfigurationItem._meta.related_objects:
        model = rel.related_model
        if rel.many_to_many and isinstance(model, type) and issubclass(model, TicketBase):
            found.append(model)
    return found


def upstream_walk_sql(max_hops: int) -> str:
    """One statement that walks the CIs whose failure impacts `%(start)s` (bigint[]) over edges of
    `%(types)s` (text[]) breadth-first, `max_hops` levels, as the CTE `upstream(ci_id, rpath)`: each CI once,
    at its shortest distance, with `rpath` its path reversed (the CI first, a start CI last).

    One CTE per level (the levels are few: CORRELATION_MAX_HOPS, at most MAX_DEPTH_LIMIT): a level keeps
    each new CI once (DISTINCT ON, reached from the lowest-id CI of the level before, as the one-query-per-
    level walk did) and leaves out every CI of the earlier levels, so a cyclic CMDB ends and the rows never
    multiply with the paths. Each level is index ranges on rel_source_type_idx.
    """
    levels = _clamp_depth(max_hops) if max_hops > 0 else 0
    parts = ["l0 AS (SELECT s AS ci_id, ARRAY[s] AS rpath FROM unnest(%(start)s::bigint[]) s)"]
    for level in range(1, levels + 1):
        # Only level numbers are interpolated; the CI ids and types are bound parameters.
        seen = " UNION ALL ".join(f"SELECT ci_id FROM l{k}" for k in range(level))  # noqa: S608
        parts.append(
            f"l{level} AS (SELECT DISTINCT ON (r.target_id) r.target_id AS ci_id,"  # noqa: S608
            f" r.target_id || l.rpath AS rpath"
            f" FROM l{level - 1} l JOIN cmdb_relationship r ON r.source_id = l.ci_id"
            f" AND r.type = ANY(%(types)s::text[])"
            f" WHERE r.target_id NOT IN ({seen}) ORDER BY r.target_id, r.source_id)"
        )
    union = " UNION ALL ".join(f"SELECT ci_id, rpath FROM l{k}" for k in range(levels + 1))  # noqa: S608
    parts.append(f"upstream AS ({union})")
    return "WITH " + ",\n".join(parts) + "\n"


def upstream_paths(ci_ids: Iterable[int], max_hops: int = 3) -> dict[int, list[int]]:
    """CI id → shortest path (CI ids, from one of `ci_ids` to it) for every CI whose failure impacts any
    of `ci_ids` within `max_hops`, the CIs themselves included with a one-element path.

    The same direction as `dependencies` (IMPACT_TYPES, from an edge's source to its target), in one
    statement (upstream_walk_sql) from all the start CIs at once: incident correlation needs the upstream
    CIs of a few CIs quickly, not the rows and visibility of the impact page. Each level leaves out the
    CIs already reached and the depth is limited, so a cyclic CMDB never loops. Ties between equally short
    paths go to the lowest CI ids (the lowest-id CI one level nearer, at every level).
    """
    start = sorted({int(pk) for pk in ci_ids})
    if not start:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            upstream_walk_sql(max_hops) + "SELECT ci_id, rpath FROM upstream",  # noqa: S608
            {"start": start, "types": list(IMPACT_TYPES)},
        )
        return {ci_id: list(reversed(rpath)) for ci_id, rpath in cursor.fetchall()}
