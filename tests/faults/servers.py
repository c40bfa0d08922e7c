"""Private servers for fault tests and the fault benchmark: a PostgreSQL cluster, a redis-server, the web
app (gunicorn) and a Celery worker, each on its own free loopback port and directory, so a test can stop,
SIGSTOP or SIGKILL them without touching the machine's shared PostgreSQL and Redis.

PostgreSQL comes from the machine's `initdb`/`pg_ctl` (run as the `postgres` user when we are root, which
initdb refuses to be); Redis from `redis-server`. A test skips when either is missing.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
CELERY = str(Path(sys.executable).with_name("celery"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def available() -> bool:
    return all(shutil.which(tool) for tool in ("initdb", "pg_ctl", "redis-server"))


class PrivatePostgres:
    """A throwaway cluster: trust authentication, no fsync, TCP on 127.0.0.1:<port>."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="itsm-fault-pg-"))
        self.data = self.directory / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/itsm_fault"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        if os.geteuid() == 0:
            command = ("runuser", "-u", "postgres", "--", *command)
        return subprocess.run(command, check=check, capture_output=True, text=True)

    def init(self) -> PrivatePostgres:
        self.directory.chmod(0o755)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")
        return self

    def start(self) -> PrivatePostgres:
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-w",
            "-t",
            "60",
            "-l",
            str(self.directory / "log"),
            "-o",
            options,
            "start",
        )
        return self

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-w", "-m", mode, "stop", check=False)

    def create_database(self) -> None:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute("CREATE DATABASE itsm_fault")

    def query(self, sql: str, params=()) -> list[tuple]:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=itsm_fault") as conn:
            return conn.execute(sql, params).fetchall()

    def destroy(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


class PrivateRedis:
    """redis-server without persistence; `pause()`/`resume()` SIGSTOP and SIGCONT it."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateRedis:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert wait_for(self.answers, timeout=10), "private redis-server did not start"
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def pause(self) -> None:
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGCONT)
            self.process.terminate()
            self.process.wait(10)


def app_env(database_url: str, redis_url: str, **extra: str) -> dict[str, str]:
    """A deployment-like environment for the web app and its worker on the private servers. DEBUG is on
    by default: a failure must not show a traceback even then."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings.dev",
        "DEBUG": "true",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CACHE_KEY_PREFIX": "itsm-fault",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.update(extra)
    return env


def manage(env: dict, *args: str, script: str | None = None) -> str:
    command = [PYTHON, "manage.py", *args]
    result = subprocess.run(
        command, cwd=ROOT, env=env, input=script, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def prepare_database(env: dict) -> str:
    """Migrate the private database and create an agent with an API token; returns the token."""
    manage(env, "migrate", "--no-input", "-v", "0")
    out = manage(
        env,
        "shell",
        script=("from tests.faults.servers import make_agent\nprint('TOKEN=' + make_agent())\n"),
    )
    return next(line[6:] for line in out.splitlines() if line.startswith("TOKEN="))


def make_agent() -> str:
    """Run inside `manage.py shell` on the private database: an agent in a desk group, and its token."""
    from django.contrib.auth.models import Group

    from accounts.models import AssignmentGroup, User
    from accounts.roles import ensure_role_groups
    from accounts.services import issue_token

    ensure_role_groups()
    agent = User.objects.create_user("faultagent", email="agent@example.com", password="fault-pass-1")
    agent.groups.add(Group.objects.get(name="agent"))
    group = AssignmentGroup.objects.create(name="desk", email="desk@example.com")
    group.members.add(agent)
    return issue_token(user=agent).key


class WebServer:
    """gunicorn on the private servers; `workers` sync processes, 10 s request timeout."""

    def __init__(self, env: dict, workers: int = 2, port: int | None = None) -> None:
        self.env, self.workers = env, workers
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self, log: Path) -> WebServer:
        command = [PYTHON, "-m", "gunicorn", "itsm.wsgi", "-w", str(self.workers), "-t", "30"]
        command += ["-b", f"127.0.0.1:{self.port}", "--log-level", "warning"]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=open(log, "ab"),  # noqa: SIM115 - closed with the process
            stderr=subprocess.STDOUT,
        )

        def up() -> bool:
            try:
                return httpx.get(f"{self.base}/health/", timeout=2).status_code in (200, 503)
            except httpx.HTTPError:
                return False

        assert wait_for(up, timeout=60), "gunicorn did not start"
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(20)


class CeleryWorker:
    """`celery worker -B` on the private servers (solo pool, or prefork with `concurrency` processes), in
    its own process group, so `kill()` SIGKILLs the main process and its pool children at once."""

    def __init__(self, env: dict, directory: Path, concurrency: int = 0) -> None:
        self.env, self.directory, self.concurrency = env, directory, concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> CeleryWorker:
        pool = ["--concurrency", str(self.concurrency)] if self.concurrency else ["--pool=solo"]
        command = [CELERY, "-A", "itsm", "worker", "-B", *pool, "-l", "warning"]
        command += ["-s", str(self.directory / "beat-schedule"), "-n", f"fault-{os.getpid()}@%h"]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=open(self.directory / "worker.log", "ab"),  # noqa: SIM115
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
