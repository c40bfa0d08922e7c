"""`make run`'s supervisor (scripts/supervisor.py) with real child processes: a crashed child is restarted
with a growing back-off and a log line while the others keep running, and stop() ends them all."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import supervisor as supervisor_module  # noqa: E402

SLEEPER = [sys.executable, "-c", "import time; time.sleep(600)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]


def run_checks(supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        supervisor.check()
        time.sleep(0.05)


@pytest.fixture
def supervisor(tmp_path):
    instance = supervisor_module.Supervisor(dict(os.environ), tmp_path)
    yield instance
    instance.stop()


def test_a_killed_child_is_restarted_and_the_others_keep_running(supervisor, capsys):
    supervisor.start("web", SLEEPER)
    supervisor.start("worker", SLEEPER)
    web, worker = supervisor.children
    web_pid, worker_pid = web.process.pid, worker.process.pid
    os.kill(worker_pid, signal.SIGKILL)
    run_checks(supervisor, 1.6)
    assert worker.process.pid != worker_pid and worker.process.poll() is None and worker.restarts == 1
    assert web.process.pid == web_pid and web.process.poll() is None  # untouched
    assert worker.history == [-signal.SIGKILL]
    out = capsys.readouterr().out
    assert f"worker (pid {worker_pid}) exited unexpectedly with status -9; restarting it in 1 s" in out
    assert "restarting worker:" in out


def test_a_crash_loop_backs_off_exponentially(supervisor, capsys, monkeypatch):
    monkeypatch.setattr(supervisor_module, "FIRST_BACKOFF", 0.2)
    supervisor.start("beat", CRASHER)
    beat = supervisor.children[0]
    beat.backoff = 0.2
    run_checks(supervisor, 2.0)
    # Dies at once every time: waits 0.2, 0.4, 0.8 s (1.4 s) between the four runs that fit in 2 s.
    assert 2 <= beat.restarts <= 4
    assert beat.backoff >= 0.8
    out = capsys.readouterr().out
    assert "restarting it in 0.2 s" in out and "restarting it in 0.4 s" in out


def test_stop_ends_every_child_even_while_one_waits_for_its_restart(supervisor):
    supervisor.start("web", SLEEPER)
    supervisor.start("beat", CRASHER)
    processes = [child.process for child in supervisor.children]
    run_checks(supervisor, 0.3)
    supervisor.stop()
    assert all(process.poll() is not None for process in processes)
    assert supervisor.children == []
