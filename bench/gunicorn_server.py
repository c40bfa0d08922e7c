"""The HTTP benchmarks' server: gunicorn with N sync workers on a free loopback port, on the benchmark's
database, configured like a deployment (persistent DB connections, Celery tasks queued to Redis, not
run inline). Shared by bench/incidents_create.py and bench/integrations_alertmanager.py."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def deployment_env() -> dict[str, str]:
    """The environment of a benchmark's server process: the test database, deployment-like settings."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "itsm.settings.dev",
        "DEBUG": "false",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        # The benchmark's own cache namespace, so configuration it changes (SLA definitions, alert rules)
        # reaches the server's configuration caches (core.config_cache) as it would in production.
        "CACHE_KEY_PREFIX": settings.CACHES["default"]["KEY_PREFIX"],
        # API tokens are stored as HMACs: the server needs the key the benchmark's tokens were issued with.
        "API_TOKEN_HASH_KEY": settings.API_TOKEN_HASH_KEY or settings.SECRET_KEY,
    }


@contextlib.contextmanager
def gunicorn_app(workers: int = 2) -> Iterator[str]:
    """Start gunicorn on the current test database, wait until /health/ answers, yield its base URL."""
    port = free_port()
    env = deployment_env()
    command = [sys.executable, "-m", "gunicorn", "itsm.wsgi", "-w", str(workers)]
    command += ["-b", f"127.0.0.1:{port}", "--log-level", "warning"]
    server = subprocess.Popen(command, cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/health/", timeout=2).status_code in (200, 503):
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)
