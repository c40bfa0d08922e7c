"""The one read a write starts from: a ticket row under SELECT ... FOR UPDATE, with what its move needs to
know about the rows around it, in that same statement.

Every write locks its ticket first (`core.services.lock`). The locked read also answers, as EXISTS
subqueries, whether the ticket has watchers, CIs and SLA timers (and whatever its model adds in
`lock_annotations()`, say an incident's open children), so a listener or the API's answer need not read
an empty set back: a set known empty is marked as prefetched (`remember_related`).

Those answers are trusted only when the row locked is the row the statement's snapshot saw. Under READ
COMMITTED, a lock that had to wait returns the newest version of the ticket row, but the subqueries still
see the statement's older snapshot; the `lock_snapshot_version` subquery reads the ticket's version in
that same snapshot, and when it differs from the locked row's (another write committed while we waited)
nothing is marked and the sets are read as before. Writers that add CIs or start SLA timers lock and
update the ticket row, so they are caught by this check.

The API's transition reads its ticket here already (`core.selectors.get_visible_ticket(..., lock=True)`), so the move's service uses that row
instead of re-reading it (`take_locked`): one read of the ticket per move, not two.
"""

from __future__ import annotations

from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, QuerySet, Subquery

from .models import TicketBase
from .perf.orm import remember_loaded_relations, remember_related
from .perf.prepared_get import prepared_get
from .perf.transactions import current_transaction_token

# The related sets of every ticket a locked read checks for emptiness.
CHECKED_SETS = ("watchers", "configuration_items", "sla_timers")


def _exists(model: type[TicketBase], name: str) -> Exists:
    field = model._meta.get_field(name)
    if isinstance(field, GenericRelation):
        rows = field.related_model._base_manager.filter(
            **{
                field.content_type_field_name: ContentType.objects.get_for_model(model),
                field.object_id_field_name: OuterRef("pk"),
            }
        )
    else:
        through = field.remote_field.through
        rows = through._base_manager.filter(**{field.m2m_field_name(): OuterRef("pk")})
    return Exists(rows)


def locked(queryset: QuerySet) -> QuerySet:
    """`queryset` (of one ticket model) read under FOR UPDATE of the ticket row, with the lock's facts.
    The stored search vector is left out: no write reads it."""
    model = queryset.model
    own_version = model._base_manager.filter(pk=OuterRef("pk")).values("version")
    return (
        queryset.defer("search_vector")
        .select_for_update(of=("self",))
        .annotate(
            lock_snapshot_version=Subquery(own_version),
            **{f"lock_has_{name}": _exists(model, name) for name in CHECKED_SETS},
            **model.lock_annotations(),
        )
    )


def get_locked(model: type[TicketBase], number: str) -> TicketBase | None:
    """`locked(model.objects.all())`'s row numbered `number`, or None: the same statement every time but
    the number, so it is compiled once per process and prepared (core.perf.prepared_get)."""
    key = ("locked", model, ContentType.objects.get_for_model(model).pk)
    return prepared_get(key, lambda: locked(model.objects.all()), "number", number)


def note_locked(record: TicketBase, *, trusted_once: bool = False) -> TicketBase:
    """Remember what the locked read of `record` told: its foreign keys (for full_clean), its empty sets,
    and its model's `lock_annotations` (in `record.lock_facts`; empty when not trusted). With
    `trusted_once` (a read by the API before the move), the next `take_locked` in this same transaction uses the record as it is."""
    remember_loaded_relations(record)
    facts: dict = {}
    if record.lock_snapshot_version == record.version:
        for name in CHECKED_SETS:
            if not getattr(record, f"lock_has_{name}"):
                remember_related(record, name)
        facts = {name: getattr(record, name) for name in _annotation_names(type(record))}
    record.lock_facts = facts
    record.locked_in = current_transaction_token() if trusted_once else None
    return record


_names: dict[type[TicketBase], tuple[str, ...]] = {}


def _annotation_names(model: type[TicketBase]) -> tuple[str, ...]:
    """The names of `model.lock_annotations()`, built once per model (building the expressions is the
    dear part, and only the names are needed after the read)."""
    names = _names.get(model)
    if names is None:
        names = _names[model] = tuple(model.lock_annotations())
    return names


def take_locked(record: TicketBase) -> bool:
    """True (once) when `record` was read with `trusted_once` in the current transaction and not used since."""
    token = getattr(record, "locked_in", None)
    if token is None or token is not current_transaction_token():
        return False
    record.locked_in = None
    return True
