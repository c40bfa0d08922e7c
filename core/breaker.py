"""Circuit breakers for Redis, so a stalled or dead Redis costs one short wait per process and back-off
period, not a wait (or a retry) per request.

Two breakers, because the cache and the broker may be different servers: `CACHE` (the Django cache,
core.cache) and `BROKER` (every Celery publish: sla.tasks, integrations.tasks). After a failure a breaker
is open for BACKOFF seconds: callers skip Redis at once (the cache reads as a miss, the configuration
caches fall back to the database, a task is left to its database row and the sweeps). Then one call is let
through to probe it; if that succeeds the breaker closes and its `on_recovery` callbacks run (the broker's
drains the outbox at once: core.apps wires integrations.tasks.drain_outbox_soon). The socket timeouts
that bound each probe are in settings (CACHES OPTIONS, CELERY_BROKER_TRANSPORT_OPTIONS).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

logger = logging.getLogger(__name__)

BACKOFF = 10.0


class Breaker:
    def __init__(self, name: str, backoff: float = BACKOFF) -> None:
        self.name, self.backoff = name, backoff
        self._open_until = 0.0
        self._failed = False
        self._lock = threading.Lock()
        self.on_recovery: list[Callable[[], None]] = []

    def available(self) -> bool:
        """False while open. When the back-off has run out, lets exactly one caller through to probe."""
        with self._lock:
            now = time.monotonic()
            if now < self._open_until:
                return False
            if self._failed:
                self._open_until = now + self.backoff  # the others wait while this one probes
            return True

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            first = not self._failed
            self._failed = True
            self._open_until = time.monotonic() + self.backoff
        if first:
            logger.warning(
                "%s unavailable (%s); skipping it for %.0f s at a time", self.name, exc, self.backoff
            )

    def succeeded(self) -> None:
        if not self._failed:
            return
        with self._lock:
            recovered, self._failed, self._open_until = self._failed, False, 0.0
        if recovered:
            logger.warning("%s is back", self.name)
            for callback in self.on_recovery:
                try:
                    callback()
                except Exception:
                    logger.exception("%s recovery callback failed", self.name)

    def reset(self) -> None:
        """Forget any failure (tests that switch brokers)."""
        with self._lock:
            self._failed, self._open_until = False, 0.0


CACHE = Breaker("Redis cache")
BROKER = Breaker("Celery broker")
