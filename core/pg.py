"""PostgreSQL extensions that some servers lack: create them where offered, work without them elsewhere.

`make run` on a machine without PostgreSQL migrates an embedded server (PyPI `pgserver`, SPEC section 1),
which ships no contrib extensions: no pg_trgm, no btree_gist, no citext. Django's `CreateExtension`
(`TrigramExtension()`) fails there and stops the whole `migrate`, so a fresh machine cannot start the
suite. Extensions that only make things faster or friendlier (trigram indexes for `ILIKE '%q%'`, typo
tolerance in search) therefore go through this module instead:

- `CreateExtensionIfAvailable("pg_trgm")`, a migration operation, runs `CREATE EXTENSION IF NOT EXISTS`
  only when `pg_available_extensions` lists the extension, and does nothing otherwise.
- `RunSQLIfExtension("pg_trgm", sql=..., reverse_sql=...)` runs SQL (a trigram index) only when the
  extension is installed in the database. Such indexes live in migrations only, not in a model's
  `Meta.indexes`, so the model state never claims an index that may not exist and
  `makemigrations --check` stays clean on every server.
- `has_extension("pg_trgm")` tells code at run time whether it may use the extension's operators, so a
  code path (trigram similarity) can fall back to plain full-text search or `icontains`. It is cached per
  database (one catalog query per process and database), and the operations above clear the cache.

Neither operation drops the extension when reversed: several apps share one extension, and dropping it
would break the others' indexes.
"""

from __future__ import annotations

from django.db import connections, migrations, router
from django.db.migrations.operations.base import Operation

_cache: dict[tuple[str, str, str], bool] = {}


def _is_postgres(connection) -> bool:
    return connection.vendor == "postgresql"


def extension_available(connection, name: str) -> bool:
    """Whether the server offers `name` (its files are installed), whether or not it is created."""
    if not _is_postgres(connection):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = %s", [name])
        return cursor.fetchone() is not None


def extension_installed(connection, name: str) -> bool:
    """Whether `name` is created in the connection's database (its types and operators usable)."""
    if not _is_postgres(connection):
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = %s", [name])
        return cursor.fetchone() is not None


def has_extension(name: str, using: str = "default") -> bool:
    """Cached `extension_installed` for code paths that use an optional extension (see module docstring)."""
    connection = connections[using]
    key = (using, str(connection.settings_dict.get("NAME")), name)
    if key not in _cache:
        _cache[key] = extension_installed(connection, name)
    return _cache[key]


def clear_extension_cache() -> None:
    """Forget what `has_extension` found (after creating or dropping an extension, and in tests)."""
    _cache.clear()


class CreateExtensionIfAvailable(Operation):
    """`CREATE EXTENSION IF NOT EXISTS <name>` where the server offers it; a no-op where it does not.

    Deliberately not a subclass of Django's CreateExtension: that one is mandatory, this one is not
    (tests/test_tooling.py checks that every mandatory extension exists in the embedded PostgreSQL).
    """

    reversible = True

    def __init__(self, name: str) -> None:
        self.name = name

    def deconstruct(self):
        return (self.__class__.__qualname__, [self.name], {})

    def state_forwards(self, app_label, state) -> None:
        pass

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        connection = schema_editor.connection
        if not _is_postgres(connection) or not router.allow_migrate(connection.alias, app_label):
            return
        if not extension_installed(connection, self.name) and extension_available(connection, self.name):
            schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {schema_editor.quote_name(self.name)}")
        clear_extension_cache()

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        """Leave the extension in place: other apps' indexes may use it."""

    def describe(self) -> str:
        return f"Create extension {self.name} if the server offers it"

    @property
    def migration_name_fragment(self) -> str:
        return f"create_extension_{self.name}_if_available"


class RunSQLIfExtension(migrations.RunSQL):
    """RunSQL that runs (either way) only when extension `extension` is installed in the database.

    For objects that need the extension, such as `CREATE INDEX ... USING gin (title gin_trgm_ops)`; write
    the SQL idempotently (`IF NOT EXISTS` / `IF EXISTS`), since a server may gain the extension later.
    """

    def __init__(self, extension: str, sql, reverse_sql=None, **kwargs) -> None:
        self.extension = extension
        super().__init__(sql, reverse_sql=reverse_sql, **kwargs)

    def deconstruct(self):
        _, args, kwargs = super().deconstruct()
        return (self.__class__.__qualname__, [self.extension], kwargs)

    def database_forwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if extension_installed(schema_editor.connection, self.extension):
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state) -> None:
        if extension_installed(schema_editor.connection, self.extension):
            super().database_backwards(app_label, schema_editor, from_state, to_state)

    def describe(self) -> str:
        return f"Raw SQL needing extension {self.extension} (skipped without it)"
