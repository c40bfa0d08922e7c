"""`make run`: bring the whole suite up in the foreground, Ctrl-C stops it all.

Steps: pick PostgreSQL and Redis (scripts/services.py: env vars, else the machine's, else embedded under
./var/), migrate, collectstatic, ensure the `admin` superuser, load the demo data, then start gunicorn, one
Celery worker and Celery beat as child processes and print the URL and the demo logins.

Children run in their own process groups, so a Ctrl-C in the terminal reaches only this script, which then
sends SIGTERM to each child (gunicorn and Celery shut down gracefully), waits, kills what is left, and stops
the embedded servers. If a child dies on its own it is restarted, with a back-off and a log line
(scripts/supervisor.py); the rest keep running.

Environment: PORT (default 8000), HOST (default 127.0.0.1: this machine only; see listen_host), ITSM_ADMIN_PASSWORD (default admin),
DATABASE_URL / REDIS_URL (use these servers), ITSM_FORCE_EMBEDDED=1 (ignore the machine's servers),
DJANGO_SETTINGS_MODULE (default itsm.settings.dev), WEB_CONCURRENCY (gunicorn workers, default 2).
"""

from __future__ import annotations

import ast
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from services import ROOT, select_services  # noqa: E402
from supervisor import Supervisor, say  # noqa: E402

PYTHON = sys.executable
MANAGE = [PYTHON, str(ROOT / "manage.py")]


def manage(env: dict[str, str], *args: str) -> None:
    """Run one manage.py command; on failure say so loudly and raise SystemExit with its status."""
    say("manage.py " + " ".join(args))
    result = subprocess.run([*MANAGE, *args], env=env, cwd=ROOT)
    if result.returncode != 0:
        say(f"FAILED: manage.py {' '.join(args)} exited with status {result.returncode}")
        raise SystemExit(result.returncode or 1)


def demo_logins(env: dict[str, str]) -> list[tuple]:
    """DEMO_LOGINS from core/demo.py: read as a literal when possible, else imported under Django."""
    path = ROOT / "core" / "demo.py"
    if not path.exists():
        return []
    try:
        tree = ast.parse(path.read_text())
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            if any(isinstance(t, ast.Name) and t.id == "DEMO_LOGINS" for t in targets) and node.value:
                return [tuple(item) for item in ast.literal_eval(node.value)]
    except (SyntaxError, ValueError, TypeError):
        pass
    code = (
        "import json, django; django.setup(); from core.demo import DEMO_LOGINS; "
        "print(json.dumps([list(x) for x in DEMO_LOGINS]))"
    )
    result = subprocess.run([PYTHON, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        return []
    try:
        return [tuple(item) for item in json.loads(result.stdout.strip().splitlines()[-1])]
    except (ValueError, IndexError):
        return []


DEFAULT_HOST = "127.0.0.1"
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


def listen_host(environ) -> tuple[str, str | None]:
    """The address to listen on and, when it reaches beyond this machine with debug pages on, a warning.

    The first start runs in debug mode with the password `admin`: Django's debug page lists every URL
    pattern and settings to whoever can reach it, so `make run` listens on loopback unless HOST says
    otherwise (README "Running it for a team": HOST=0.0.0.0 with DEBUG=false and ALLOWED_HOSTS)."""
    host = environ.get("HOST") or DEFAULT_HOST
    debug = (environ.get("DEBUG") or "true").strip().lower() not in ("0", "false", "no", "off")
    settings_module = environ.get("DJANGO_SETTINGS_MODULE") or "itsm.settings.dev"
    if host not in LOOPBACK_HOSTS and debug and settings_module.endswith(".dev"):
        return host, (
            f"HOST={host} makes the debug pages (every URL, the settings) reachable from the network; "
            "for a team set DEBUG=false, ALLOWED_HOSTS, SECRET_KEY and ITSM_ADMIN_PASSWORD too (README)"
        )
    return host, None


def missing_capabilities(env: dict[str, str]) -> list[str]:
    """What the database lacks, one line each (`manage.py capabilities`, core.capabilities); [] if nothing."""
    result = subprocess.run(
        [*MANAGE, "capabilities", "--json"], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if result.returncode != 0:
        return [f"could not check the database's capabilities: {result.stderr.strip()[-300:]}"]
    try:
        missing = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return []
    return [f"{area}: {loss}" for area, loss in missing.items()]


def banner(port: int, services_line: str, logins: list[tuple], missing: list[str]) -> list[str]:
    """The lines printed once everything is up; missing capabilities are named, never silently dropped."""
    lines = [
        "",
        "=" * 64,
        f"  ITSM suite: http://localhost:{port}/   (admin: http://localhost:{port}/admin/)",
        f"  {services_line}",
    ]
    if missing:
        lines.append("  The database lacks (see README, Database options):")
        lines += [f"    {line}" for line in missing]
    lines += [
        "  Logins (username / password / role):",
        *[f"    {' / '.join(login)}" for login in logins],
        "  Ctrl-C stops everything.",
        "=" * 64,
        "",
    ]
    return lines


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def main() -> int:
    port = int(os.environ.get("PORT") or 8000)
    host, warning = listen_host(os.environ)
    if warning:
        say(f"warning: {warning}")
    admin_password = os.environ.get("ITSM_ADMIN_PASSWORD") or "admin"
    if not port_is_free(host, port):
        say(f"port {port} is already in use; set PORT to another one")
        return 1

    stop_requested: list[int] = []

    def request_stop(signum, frame):
        if not stop_requested:
            say(f"got {signal.Signals(signum).name}, stopping")
        stop_requested.append(signum)

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGHUP, request_stop)

    (ROOT / "var").mkdir(exist_ok=True)
    services = select_services()
    supervisor = None
    try:
        env = {
            **os.environ,
            **services.env,
            "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE") or "itsm.settings.dev",
            "ITSM_ADMIN_PASSWORD": admin_password,
            "PYTHONUNBUFFERED": "1",
        }
        env.setdefault("SITE_URL", f"http://localhost:{port}")

        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        manage(env, "ensure_admin")
        manage(env, "load_demo_data")
        if stop_requested:
            return 0

        supervisor = Supervisor(env, ROOT)
        # From here on Ctrl-C is a stop request, not an exception in the middle of a wait.
        signal.signal(signal.SIGINT, request_stop)
        supervisor.start(
            "web",
            [
                PYTHON, "-m", "gunicorn", "itsm.wsgi",
                "--bind", f"{host}:{port}",
                "--workers", os.environ.get("WEB_CONCURRENCY") or "2",
                "--access-logfile", "-",
                "--graceful-timeout", "10",
            ],
        )  # fmt: skip
        celery = [PYTHON, "-m", "celery", "-A", "itsm"]
        supervisor.start("worker", [*celery, "worker", "-l", "info", "--concurrency", "2"])
        schedule = str(ROOT / "var" / "celerybeat-schedule")
        supervisor.start("beat", [*celery, "beat", "-l", "info", "--schedule", schedule])

        logins = [("admin", admin_password, "admin (superuser)")]
        logins += [tuple(str(part) for part in login) for login in demo_logins(env)]
        lines = banner(port, services.describe(), logins, missing_capabilities(env))
        print("\n".join(lines), flush=True)

        while not stop_requested:
            supervisor.check()  # restarts a crashed child, with back-off
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        say("interrupted, stopping")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not abort the clean-up
        if supervisor is not None:
            supervisor.stop()
        services.stop()
        say("all stopped")


if __name__ == "__main__":
    sys.exit(main())
