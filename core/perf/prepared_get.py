"""One row of a queryset by a unique key (or all its rows by one value), compiled once per process and run
as a prepared statement.

The transition's locked read (core.locking: the ticket under FOR UPDATE with five EXISTS subqueries) is
the same statement on every move but the record's number. Built and compiled by the ORM on every request
it cost the web process about as much as the rest of the move's Python, and PostgreSQL planned its
subqueries every time (so did the SLA engine's read of a moved ticket's timers with their events,
`prepared_filter`). Here the queryset is built and compiled once per process (and per `key`, which
must change whenever a parameter other than the looked-up value would: a content type id, a user), its
SQL is PREPAREd once per connection (core.perf.postgresql's `execute_prepared`) and each read is an
EXECUTE; the row becomes an instance the way Django's `ModelIterable` does it, with the compiler's
converters and annotations, but no select_related (the querysets given here have none).

Internals relied on (Django 5.2): `SQLCompiler.as_sql` fills `select`, `col_count`, `klass_info` and
`annotation_col_map`; `get_converters` gives the field converters, applied to each row as
`apply_converters` does (worked out once per statement here, not once per row); `Model.from_db`.
Every parameter of the compiled SQL becomes `$n` in the prepared statement, so a compiled `%%` (a
literal percent) is turned back into `%`.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable, Hashable
from typing import Any

from django.db import connections
from django.db.models import IntegerField, Model, QuerySet

# Stands in for the looked-up value while the statement is compiled, to find its parameter: a text no
# other parameter holds, or for an integer column a number none does.
_SENTINEL = f"prepared-get-{uuid.uuid4().hex}"
_INTEGER_SENTINEL = -(2**62) + 7_345_019
_PLACEHOLDER = re.compile(r"%s|%%")


class _Compiled:
    def __init__(self, queryset: QuerySet, field: str):
        integer = isinstance(queryset.model._meta.get_field(field), IntegerField)
        sentinel = _INTEGER_SENTINEL if integer else _SENTINEL
        compiler = queryset.filter(**{field: sentinel}).query.get_compiler(using=queryset.db)
        sql, params = compiler.as_sql()
        if compiler.query.select_related or list(params).count(sentinel) != 1:
            raise ValueError("prepared_get takes a queryset without select_related, keyed on one value")
        numbers = iter(range(1, len(params) + 1))
        self.sql = _PLACEHOLDER.sub(lambda m: "%" if m.group() == "%%" else f"${next(numbers)}", sql)
        self.name = "itsm_get_" + hashlib.sha256(self.sql.encode()).hexdigest()[:16]
        self.params = list(params)
        self.position = self.params.index(sentinel)
        self.compiler = compiler
        self.model = compiler.klass_info["model"]
        fields = compiler.klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in compiler.select[self.start : self.end]]
        self.annotations = dict(compiler.annotation_col_map)
        # What results_iter would work out for every row: the column converters, fixed for a statement.
        selected = [column[0] for column in compiler.select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(selected).items())


_compiled: dict[Hashable, _Compiled] = {}


def prepared_get(key: Hashable, build: Callable[[], QuerySet], field: str, value: Any) -> Model | None:
    """The row of `build()` whose `field` equals `value`, or None; `build()` is called once per `key`."""
    rows = _execute(key, build, field, value, many=False)
    return rows[0] if rows else None


def prepared_filter(key: Hashable, build: Callable[[], QuerySet], field: str, value: Any) -> list[Model]:
    """Every row of `build()` whose `field` equals `value`, in its order; `build()` is called once per
    `key`."""
    return _execute(key, build, field, value, many=True)


def _execute(
    key: Hashable, build: Callable[[], QuerySet], field: str, value: Any, *, many: bool
) -> list[Model]:
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compiled[key] = _Compiled(build(), field)
    params = list(compiled.params)
    params[compiled.position] = value
    connection = connections[compiled.compiler.using]
    with connection.cursor() as cursor:
        connection.execute_prepared(cursor, compiled.name, compiled.sql, params)
        rows = cursor.fetchall() if many else [row for row in [cursor.fetchone()] if row is not None]
    return [_instance(compiled, row, connection) for row in rows]


def _instance(compiled: _Compiled, row: tuple, connection) -> Model:
    if compiled.converters:
        row = list(row)
        for position, (converters, expression) in compiled.converters:
            value = row[position]
            for converter in converters:
                value = converter(value, expression, connection)
            row[position] = value
    record = compiled.model.from_db(
        compiled.compiler.using, compiled.init_list, row[compiled.start : compiled.end]
    )
    for name, position in compiled.annotations.items():
        setattr(record, name, row[position])
    return record
