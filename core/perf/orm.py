"""ORM shortcuts that lean on Django's private attributes (checked against the Django in core/perf/README.md).

- `full_clean_trusting_loaded`: Model.full_clean without one existence query per foreign key whose value
  the database already vouches for (read under the row lock, or attached as a row read from the
  database). Uses `Field.is_cached` / `get_cached_value` and `Model._state.adding`.
- `remember_related`: mark a just-created record's related set as prefetched with what this transaction
  wrote, so listeners and serializers do not read it back. Sets `QuerySet._result_cache`,
  `_prefetch_done` and `Model._prefetched_objects_cache`, as Django's own prefetch does.
- `prefetched_rows`: the queryset a prefetch or `remember_related` left for a related set, for the API's
  answer to render without building the related manager (`_prefetched_objects_cache`).
- `known_empty`: whether a related set is marked as prefetched and empty (`_prefetched_objects_cache`,
  `QuerySet._result_cache`), so the SLA engine skips reading the timers of a ticket that has none.
- `carry_loaded_relations`: hand a re-read record the related rows an earlier read loaded, so the API
  renders a moved ticket without reading it a third time. Uses `Field.is_cached` / `get_cached_value` /
  `set_cached_value` and `_prefetched_objects_cache`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models


def remember_loaded_relations(record: models.Model) -> None:
    """Note the foreign keys a row was read with (under its lock), so `full_clean_trusting_loaded` can
    trust them."""
    record._loaded_relations = {
        f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields if f.many_to_one
    }


def _trusted_relations(ticket: models.Model) -> list[str]:
    """Foreign keys whose target is known to exist, so full_clean need not query for each one.

    Either the value is the one the locked row was read with (the database's FK constraint vouches for
    it, and PROTECT keeps it), or the related object is attached and was itself read from the database
    (the serializers and services resolve names and numbers to rows before calling us). A key set to a
    bare id, or with `limit_choices_to`, is still checked by full_clean.
    """
    loaded = getattr(ticket, "_loaded_relations", {})
    trusted = []
    for field in ticket._meta.concrete_fields:
        if not field.many_to_one or field.remote_field.limit_choices_to:
            continue
        value = getattr(ticket, field.attname)
        if value is None:
            continue
        if field.attname in loaded and loaded[field.attname] == value:
            trusted.append(field.name)
        elif field.is_cached(ticket):
            related = field.get_cached_value(ticket)
            if related is not None and not related._state.adding and related.pk == value:
                trusted.append(field.name)
    return trusted


def full_clean_trusting_loaded(ticket: models.Model, *, exclude: list[str]) -> None:
    """Model.full_clean(exclude=...) without the per-foreign-key existence queries of trusted keys.

    Same steps and error aggregation as Django's full_clean: field checks, clean(), then unique and
    constraint checks for the fields that passed; only the field checks skip `_trusted_relations`.
    """
    errors: dict = {}
    try:
        ticket.clean_fields(exclude=[*exclude, *_trusted_relations(ticket)])
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        ticket.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    failed = {*exclude, *errors}
    try:
        ticket.validate_unique(exclude=failed)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    try:
        ticket.validate_constraints(exclude=failed)
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def remember_related(record: models.Model, name: str, rows: Iterable = ()) -> None:
    """Note that a just-created record's related set `name` (many-to-many or reverse relation) holds
    exactly `rows`, as a prefetch would, so the listeners and serializers that read it don't query for
    what this transaction itself wrote. Any later add/set/remove through the manager drops this cache, as
    it drops a real prefetch.

    An empty set is held by an empty queryset (`none()`) of the related model, copied from one built once
    per relation: building the related manager's own filtered queryset costs more than the rest of this
    (a generic relation's resolves its content-type join every time), and a set known to be empty stays
    empty under any further filter, so nothing chained on it needs that filter. A generic relation's
    rows (a ticket's SLA timers) get the manager's filter, chained on one by content type built once."""
    rows = list(rows)
    if not rows:
        queryset = _empty_set(type(record), name)
    elif isinstance(record._meta.get_field(name), GenericRelation):
        queryset = _generic_set(record, name)
    else:
        queryset = getattr(record, name).get_queryset()
    queryset._result_cache = rows
    queryset._prefetch_done = True
    record.__dict__.setdefault("_prefetched_objects_cache", {})[name] = queryset


_empty_sets: dict[tuple[type[models.Model], str], models.QuerySet] = {}


_generic_sets: dict[tuple[type[models.Model], str], tuple[models.QuerySet, str]] = {}


def _generic_set(record: models.Model, name: str) -> models.QuerySet:
    """The rows of the generic relation `name` of `record`, filtered as its related manager filters them
    (content type, object id), from a queryset filtered by the content type once per relation: the
    manager resolves the content type join on every access."""
    model = type(record)
    found = _generic_sets.get((model, name))
    if found is None:
        field = model._meta.get_field(name)
        content_type = ContentType.objects.get_for_model(model, for_concrete_model=field.for_concrete_model)
        prototype = field.related_model._default_manager.filter(
            **{f"{field.content_type_field_name}__pk": content_type.pk}
        )
        found = _generic_sets[(model, name)] = (prototype, field.object_id_field_name)
    prototype, object_id = found
    return prototype.filter(**{object_id: record.pk})


def _empty_set(model: type[models.Model], name: str) -> models.QuerySet:
    prototype = _empty_sets.get((model, name))
    if prototype is None:
        related = model._meta.get_field(name).related_model
        prototype = _empty_sets[(model, name)] = related._default_manager.none()
    return prototype.all()


def prefetched_rows(record: models.Model, name: str) -> models.QuerySet | None:
    """The queryset a prefetch (or `remember_related`) left for the related set `name` of `record`, or None:
    what `getattr(record, name).all()` returns then, without building the related manager."""
    return getattr(record, "_prefetched_objects_cache", {}).get(name)


def known_empty(record: models.Model, name: str) -> bool:
    """Whether the related set `name` of `record` is marked as prefetched and empty (remember_related, or
    a prefetch that found nothing), so a reader may skip its query."""
    queryset = getattr(record, "_prefetched_objects_cache", {}).get(name)
    return queryset is not None and queryset._result_cache == []


def carry_loaded_relations(
    source: models.Model, target: models.Model, *, keep_empty: tuple[str, ...] = ()
) -> None:
    """Give `target` (the same row, read again and written by a service) the related objects `source`
    had loaded, so rendering it costs no query: foreign keys still pointing at the same row, and the
    prefetched sets a write cannot have changed. A set the service itself remembered on `target`
    (remember_related) wins. Sets named in `keep_empty` are carried only when they were empty (a move
    may change the rows of a non-empty one, never add to an empty one: a ticket's SLA timers)."""
    for field in source._meta.concrete_fields:
        if not field.many_to_one or not field.is_cached(source) or field.is_cached(target):
            continue
        related = field.get_cached_value(source)
        if getattr(target, field.attname) == (related.pk if related is not None else None):
            field.set_cached_value(target, related)
    prefetched = getattr(source, "_prefetched_objects_cache", {})
    if not prefetched:
        return
    cache = target.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, queryset in prefetched.items():
        if name in keep_empty and queryset._result_cache:
            continue
        cache.setdefault(name, queryset)


def is_loaded(record: models.Model, name: str) -> bool:
    """Whether the foreign key `name` of `record` already holds its related object (no query to read it)."""
    return record._meta.get_field(name).is_cached(record)
