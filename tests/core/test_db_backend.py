"""The project's database backend (core/perf/postgresql/base.py).

The per-request connection health check: a quiet idle connection passes without a round trip, one the
server ended fails, and anything unexpected is asked of the server.

Each test opens its own connection (outside the test's transaction, which would never look idle) and
checks it the way Django does at the start of a request. End to end, tests/security/
test_database_recovery.py kills a real gunicorn worker's connections and expects the next requests to
succeed."""

import time

import pytest
from django.db import connection, connections
from django.db.backends.postgresql.base import DatabaseWrapper as DjangoWrapper
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fresh():
    """A new connection to the test database, with health checks on, used once like a request's."""
    wrapper = connections.create_connection("default")
    wrapper.connect()
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        wrapper.backend_pid = cursor.fetchone()[0]
    yield wrapper
    wrapper.close()


@pytest.fixture
def no_select_one(monkeypatch):
    """Make Django's own check (a SELECT 1 round trip) fail loudly, to show it was not needed."""

    def refuse(self):
        raise AssertionError("the health check asked the server")

    monkeypatch.setattr(DjangoWrapper, "is_usable", refuse)


def test_the_project_uses_its_backend():
    assert type(connections["default"]).__module__ == "core.perf.postgresql.base"
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_quiet_idle_connection_passes_without_a_round_trip(fresh, no_select_one):
    assert fresh.is_usable() is True


def test_a_connection_the_server_ended_fails_and_is_replaced(fresh):
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [fresh.backend_pid])
    deadline = time.monotonic() + 5
    while fresh.is_usable() and time.monotonic() < deadline:
        time.sleep(0.05)  # the termination notice reaches the socket a moment later
    assert fresh.is_usable() is False
    # Django's request-start check closes it; the next cursor opens a new session that works.
    fresh.health_check_done = False
    fresh.close_if_health_check_failed()
    with fresh.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != fresh.backend_pid


def test_unexpected_input_on_a_healthy_connection_is_asked_of_the_server(fresh):
    with fresh.cursor() as cursor:
        cursor.execute("LISTEN health_check_probe")
    with connection.cursor() as cursor:
        cursor.execute("NOTIFY health_check_probe")
    time.sleep(0.2)  # the notification is now waiting on the socket: readable, yet healthy
    assert fresh.is_usable() is True


def test_an_open_transaction_is_asked_of_the_server(fresh, no_select_one):
    fresh.connection.execute("BEGIN")
    with pytest.raises(AssertionError, match="asked the server"):
        fresh.is_usable()
    fresh.connection.execute("ROLLBACK")


# --- prepared statements ------------------------------------------------------------------------------
LOOKUP = "SELECT username, is_active FROM accounts_user WHERE username = $1"


def prepared_statements(wrapper) -> list[str]:
    with wrapper.cursor() as cursor:
        cursor.execute("SELECT name FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def lookup(wrapper, username: str):
    with wrapper.cursor() as cursor:
        wrapper.execute_prepared(cursor, "test_user_lookup", LOOKUP, [username])
        return cursor.fetchone()


def test_a_statement_is_prepared_once_per_connection_and_answers_like_a_query(fresh, make_user):
    make_user("prepared-probe")
    with CaptureQueriesContext(fresh) as captured:
        assert lookup(fresh, "prepared-probe") == ("prepared-probe", True)
        assert lookup(fresh, "nobody") is None
        assert lookup(fresh, "it's; DROP TABLE accounts_user") is None  # parameters stay parameters
    statements = [query["sql"] for query in captured.captured_queries]
    assert statements[0] == f"PREPARE test_user_lookup AS {LOOKUP}"
    assert statements[1:] == [
        "EXECUTE test_user_lookup('prepared-probe')",
        "EXECUTE test_user_lookup('nobody')",
        "EXECUTE test_user_lookup('it''s; DROP TABLE accounts_user')",
    ]
    assert prepared_statements(fresh) == ["test_user_lookup"]


def test_a_new_connection_prepares_again(fresh, make_user):
    make_user("prepared-probe")
    assert lookup(fresh, "prepared-probe") == ("prepared-probe", True)
    fresh.close()
    assert prepared_statements(fresh) == []  # reconnected: a new server session
    assert lookup(fresh, "prepared-probe") == ("prepared-probe", True)
    assert prepared_statements(fresh) == ["test_user_lookup"]
