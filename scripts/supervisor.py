"""The process supervisor of `make run` (scripts/run.py): starts the long-running children (web, worker,
beat), restarts one that dies with an exponential back-off and a log line instead of stopping the suite,
and stops them all, in reverse order, exactly once (Ctrl-C).

Back-off: a child that dies is restarted after 1 s, then 2, 4, 8 ... up to MAX_BACKOFF seconds if it keeps
dying; once it has stayed up STABLE_AFTER seconds its back-off starts again at 1 s. A crash loop therefore
costs a line every 30 s, not a busy loop, and a one-off crash (a SIGKILLed worker) is back within a second.

Children run in their own process groups (so a Ctrl-C in the terminal reaches only run.py, which then
sends SIGTERM to each group) and get SIGTERM if run.py itself dies (Linux PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

STOP_TIMEOUT = 20.0
FIRST_BACKOFF = 1.0
MAX_BACKOFF = 30.0
STABLE_AFTER = 60.0


def say(message: str) -> None:
    print(f"[run] {message}", flush=True)


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM if run.py itself dies (Linux), so nothing is left orphaned."""
    os.setsid()
    if sys.platform.startswith("linux"):
        # No glibc (musl, say): the child then outlives a killed run.py, as it did before; not fatal.
        with contextlib.suppress(OSError):
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


@dataclass
class Child:
    name: str
    command: list[str]
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = FIRST_BACKOFF
    restart_at: float | None = None  # set while dead, waiting for its back-off
    restarts: int = 0
    history: list[int] = field(default_factory=list)  # exit statuses, newest last


class Supervisor:
    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env, self.cwd = env, cwd
        self.children: list[Child] = []

    def start(self, name: str, command: list[str]) -> None:
        child = Child(name, command)
        self.children.append(child)
        self._spawn(child)

    def _spawn(self, child: Child) -> None:
        verb = "restarting" if child.restarts else "starting"
        say(f"{verb} {child.name}: {' '.join(child.command)}")
        child.process = subprocess.Popen(
            child.command, env=self.env, cwd=self.cwd, preexec_fn=die_with_parent
        )
        child.started_at, child.restart_at = time.monotonic(), None

    def check(self) -> None:
        """Call often (run.py's loop): notices dead children, schedules and performs their restarts."""
        now = time.monotonic()
        for child in self.children:
            if child.restart_at is not None:
                if now >= child.restart_at:
                    child.restarts += 1
                    self._spawn(child)
                continue
            code = child.process.poll() if child.process else None
            if code is None:
                continue
            # Leave nothing of the dead child's process group behind (a gunicorn or Celery pool worker).
            _signal_group(child.process, signal.SIGKILL)
            child.history.append(code)
            if now - child.started_at >= STABLE_AFTER:
                child.backoff = FIRST_BACKOFF
            say(
                f"{child.name} (pid {child.process.pid}) exited unexpectedly with status {code}; "
                f"restarting it in {child.backoff:g} s"
            )
            child.restart_at = now + child.backoff
            child.backoff = min(MAX_BACKOFF, child.backoff * 2)

    def stop(self) -> None:
        running = [c for c in reversed(self.children) if c.process and c.process.poll() is None]
        for child in running:
            say(f"stopping {child.name} (pid {child.process.pid})")
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        for child in reversed(self.children):
            if child.process is None:
                continue
            try:
                child.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop within {STOP_TIMEOUT:.0f}s, killing it")
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
            # Anything the child left behind in its process group (pool workers) goes too.
            _signal_group(child.process, signal.SIGKILL)
        self.children.clear()


def _signal_group(process: subprocess.Popen, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
