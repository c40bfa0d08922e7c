"""PostgreSQL restarted under the app: every server-side connection dies. A real gunicorn worker keeps a
persistent connection (CONN_MAX_AGE, as in production); with CONN_HEALTH_CHECKS the next request notices it
is dead and reconnects, so the app recovers by itself, without a restart. The connections are killed with
pg_terminate_backend, which is what a database restart or failover looks like from the app's side."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.db import connection

from accounts.services import issue_token
from accounts.tokens import hash_secret

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("serial")]
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Token {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=20) as response:  # noqa: S310
            response.read()
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _kill_app_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name <> 'keep'"
        )
        return cursor.fetchone()[0]


@pytest.fixture
def gunicorn_app():
    """One sync gunicorn worker on loopback, on the test database, with persistent connections."""
    settings = connection.settings_dict
    database_url = f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}/{settings['NAME']}"
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings.dev",
        "DEBUG": "false",
        "DATABASE_URL": database_url,
        "DB_CONN_MAX_AGE": "600",
        "ALLOWED_HOSTS": "127.0.0.1",
        "API_TOKEN_HASH_KEY": hash_secret(),  # the dev settings' secret differs from the tests'
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "itsm.wsgi", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                _get(f"{base}/health/")
                break
            except OSError:
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def test_requests_succeed_again_after_every_database_connection_was_killed(gunicorn_app, agent):
    token = issue_token(user=agent).key
    url = f"{gunicorn_app}/api/v1/incidents/"
    assert _get(url, token) == 200
    assert _kill_app_connections() >= 1  # the worker's persistent connection existed and is now dead
    assert [_get(url, token) for _ in range(5)] == [200] * 5
    health = urllib.request.urlopen(f"{gunicorn_app}/health/", timeout=20)  # noqa: S310
    assert json.loads(health.read())["database"] == "ok"
