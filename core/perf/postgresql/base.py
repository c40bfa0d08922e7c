"""Django's PostgreSQL backend with a connection health check that costs no round trip, and prepared
statements for the project's own hot queries.

Health check.
With CONN_HEALTH_CHECKS (itsm.settings.base) Django checks a persistent connection before the first
query of every request, so a connection the server has dropped is replaced instead of failing the
request. Django's check is a `SELECT 1`: a round trip through PostgreSQL on every request, as much as
any real query of an API create.

A connection that is idle between requests has nothing to read. When the server ends the session
(restart, failover, `pg_terminate_backend`, `idle_session_timeout`) it sends a FATAL message and
closes the socket, so the socket becomes readable. This backend asks the kernel whether the socket is
readable (a zero-timeout poll) and only falls back to Django's `SELECT 1` when it is, or when the
connection is not idle (an open or failed transaction), or when the poll itself fails.

Neither check can tell a peer that vanished without closing (a cut cable) from a quiet one without
waiting for TCP to give up: Django's `SELECT 1` would block for as long, so nothing is lost by this.

Prepared statements. Django binds parameters on the client and never prepares (so that poolers such as
PgBouncer in transaction mode work), so PostgreSQL parses and plans every statement anew. For a short
query that is most of its cost: the token lookup that every API request makes spends about 0.25 ms of
server CPU planned each time and 0.06 ms prepared (pgbench, this machine). `execute_prepared` runs such a
statement of ours with SQL's own PREPARE (once per connection) and EXECUTE, through Django's cursor like
any other query. Use it only for statements whose best plan does not depend on the values (a lookup by a
unique key), as PostgreSQL may settle on one generic plan, and name the columns a statement returns: a
prepared `SELECT *` fails once its table gains a column ("cached plan must not change result type").
The ORM's statements keep Django's client-side binding: binding every statement on the server changes
how some expressions with parameters are grouped (Django ticket #34255) and caps a statement at 65,535
parameters. A pooler between the app and PostgreSQL must therefore keep sessions (PgBouncer's session
mode); the deployment in docker-compose.yml connects directly.
"""

from __future__ import annotations

import select
import weakref
from collections.abc import Sequence
from typing import Any

from django.db.backends.postgresql import base
from psycopg.pq import TransactionStatus


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        connection = self.connection
        if connection is None or connection.closed:
            return False
        try:
            idle = connection.info.transaction_status == TransactionStatus.IDLE
            readable, _, _ = select.select([connection.fileno()], [], [], 0)
        except (OSError, ValueError, base.Database.Error):
            return False
        if idle and not readable:
            return True
        # Something arrived unasked (a termination notice, a NOTIFY) or a transaction is open: let the
        # server answer.
        return super().is_usable()

    def execute_prepared(self, cursor, name: str, sql: str, params: Sequence[Any]) -> None:
        """Execute `sql` (parameters written $1, $2, ...) as the prepared statement `name` of this
        connection, preparing it on first use; `cursor` (a cursor of this connection) holds the result."""
        # Statements belong to a server session, so the names are kept per driver connection: a
        # reconnect starts with none. PREPARE outlives a rolled-back transaction, as it does here.
        prepared = _prepared_statements.setdefault(self.connection, set())
        if name not in prepared:
            cursor.execute(f"PREPARE {name} AS {sql}")
            prepared.add(name)
        placeholders = ", ".join(["%s"] * len(params))
        cursor.execute(f"EXECUTE {name}({placeholders})", params)


_prepared_statements: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
