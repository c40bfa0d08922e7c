# ruff: noqa: S608  (the SQL is put together from models' quoted table and column names; values are bound)
"""Several single-row writes of one transaction sent as one prepared statement.

A move writes two rows whose results nobody reads before the transaction goes on: the ticket's UPDATE and
its timeline row's INSERT (the SLA engine, likewise, a timer's event, the timer and its timeline row).
Through `Model.save()` each is built and compiled by the ORM, sent, parsed and planned on its own. Here
the writes of one call become data-modifying CTEs of a single statement,

    WITH w0 AS (UPDATE ... SET ... WHERE pk = $n RETURNING 1),
         w1 AS (INSERT INTO ... VALUES (...) RETURNING pk)
    SELECT (SELECT count(*) FROM w0), (SELECT pk FROM w1)

whose text depends only on the models, the columns and the order of the writes: it is built once per
process and shape and PREPAREd once per connection (core.perf.postgresql's `execute_prepared`), and each
call is one EXECUTE. PostgreSQL runs every data-modifying CTE to completion whether or not the main query
reads it, all with one snapshot, so the writes must not touch the same row twice, and two INSERTs into one
table in one call get their ids in no promised order (callers keep a ticket's timeline rows in separate
calls).

What `save()` does that this keeps: the values are the ones `save()` would send (`Field.pre_save`, so
`auto_now` columns are stamped and set on the instance, then `Field.get_db_prep_save`); an update that
matched no row raises DatabaseError as `save(update_fields=...)` does; an inserted instance gets its
primary key and is marked saved (`_state.adding`, `_state.db`). What it skips: the pre_save/post_save
signals, so a model that has any receiver for them is saved through `save()` instead (checked on every
call), as is any write with a value that is an expression, a field with its own placeholder SQL
(`get_placeholder`), or an unset database default.

Internals relied on (Django 5.2): `Model._state` (`adding`, `db`), `Options.local_concrete_fields`,
`Field.generated`, `Field.pre_save(instance, add)`, `Field.get_db_prep_save`, `Field.has_db_default`,
`ModelSignal.has_listeners`; this package's `execute_prepared`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, connections, router
from django.db.models import Model
from django.db.models.signals import post_save, pre_save


@dataclass(frozen=True)
class Update:
    """Write `fields` (names or attnames) of the saved `instance`, as `save(update_fields=fields)`."""

    instance: Model
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Insert:
    """Insert the unsaved `instance`, as `save(force_insert=True)`."""

    instance: Model


Write = Update | Insert


class _Unsupported(Exception):
    """A write this module does not take: it goes through `save()`."""


@dataclass(frozen=True)
class _Part:
    sql: str  # with `{}` for each parameter, numbered when the statement is put together
    fields: tuple  # the fields whose values fill the placeholders, in order (the pk last for an update)
    returning: str | None  # an insert's quoted primary key column


_parts: dict[tuple, _Part] = {}
_statements: dict[tuple, tuple[str, str]] = {}


def _update_part(model: type[Model], names: tuple[str, ...], quote) -> _Part:
    meta = model._meta
    fields = tuple(
        f
        for f in meta.local_concrete_fields
        if not f.primary_key and not f.generated and (f.name in names or f.attname in names)
    )
    if len(fields) != len(set(names)):
        raise _Unsupported(f"not all of {names} are concrete fields of {model.__name__}")
    sets = ", ".join(f"{quote(f.column)} = {{}}" for f in fields)
    sql = f"UPDATE {quote(meta.db_table)} SET {sets} WHERE {quote(meta.pk.column)} = {{}} RETURNING 1"
    return _Part(sql, (*fields, meta.pk), None)


def _insert_part(model: type[Model], with_pk: bool, quote) -> _Part:
    meta = model._meta
    fields = tuple(
        f for f in meta.local_concrete_fields if not f.generated and (with_pk or not f.primary_key)
    )
    columns = ", ".join(quote(f.column) for f in fields)
    values = ", ".join("{}" for _ in fields)
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({values}) RETURNING {quote(meta.pk.column)}"
    )
    return _Part(sql, fields, quote(meta.pk.column))


def _part(write: Write, quote) -> tuple[tuple, _Part]:
    model = type(write.instance)
    if isinstance(write, Update):
        key = ("update", model, write.fields)
    else:
        key = ("insert", model, write.instance.pk is not None)
    part = _parts.get(key)
    if part is None:
        if key[0] == "update":
            part = _update_part(model, write.fields, quote)
        else:
            part = _insert_part(model, key[2], quote)
        if any(hasattr(f, "get_placeholder") for f in part.fields):
            raise _Unsupported(f"{model.__name__} has a field with its own placeholder SQL")
        _parts[key] = part
    return key, part


def _statement(keys: tuple, parts: list[_Part]) -> tuple[str, str]:
    found = _statements.get(keys)
    if found is not None:
        return found
    numbers = iter(range(1, 1 + sum(len(p.fields) for p in parts)))
    ctes, results = [], []
    for index, part in enumerate(parts):
        ctes.append(f"w{index} AS ({part.sql.format(*(f'${next(numbers)}' for _ in part.fields))})")
        if part.returning is None:
            results.append(f"(SELECT count(*) FROM w{index})")
        else:
            results.append(f"(SELECT {part.returning} FROM w{index})")
    sql = f"WITH {', '.join(ctes)} SELECT {', '.join(results)}"
    found = _statements[keys] = ("itsm_write_" + hashlib.sha256(sql.encode()).hexdigest()[:16], sql)
    return found


def _values(write: Write, part: _Part, connection) -> list[Any]:
    instance, adding = write.instance, isinstance(write, Insert)
    fields = part.fields[:-1] if not adding else part.fields
    values = []
    for field in fields:
        value = field.pre_save(instance, adding)
        if hasattr(value, "resolve_expression"):  # F(), Now(), an unset db_default...
            raise _Unsupported(f"{type(instance).__name__}.{field.name} is an expression")
        values.append(field.get_db_prep_save(value, connection))
    if not adding:
        values.append(part.fields[-1].get_db_prep_save(instance.pk, connection))
    return values


def _save_one_by_one(writes: Sequence[Write], using: str) -> None:
    for write in writes:
        if isinstance(write, Update):
            write.instance.save(update_fields=list(write.fields), using=using)
        else:
            write.instance.save(force_insert=True, using=using)


def save_together(writes: Sequence[Write], *, using: str | None = None) -> None:
    """Run `writes` (each an Update of a saved instance or an Insert of a new one) as one statement, on
    `using` (by default the database the first instance was read from, else the router's choice)."""
    first = writes[0].instance
    using = using or first._state.db or router.db_for_write(type(first), instance=first)
    connection = connections[using]
    if any(
        pre_save.has_listeners(type(w.instance)) or post_save.has_listeners(type(w.instance)) for w in writes
    ):
        _save_one_by_one(writes, using)
        return
    try:
        shaped = [_part(write, connection.ops.quote_name) for write in writes]
        params = [
            value
            for write, (_, part) in zip(writes, shaped, strict=True)
            for value in _values(write, part, connection)
        ]
    except _Unsupported:
        _save_one_by_one(writes, using)
        return
    name, sql = _statement(tuple(key for key, _ in shaped), [part for _, part in shaped])
    with connection.cursor() as cursor:
        connection.execute_prepared(cursor, name, sql, params)
        row = cursor.fetchone()
    for write, value in zip(writes, row, strict=True):
        instance = write.instance
        if isinstance(write, Update):
            if value != 1:
                raise DatabaseError("Save with update_fields did not affect any rows.")
            continue
        setattr(instance, instance._meta.pk.attname, value)
        instance._state.adding = False
        instance._state.db = using
