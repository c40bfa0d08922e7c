"""Per-process caches of the small configuration tables every ticket write reads (SLA definitions,
webhook subscriptions), kept exact across processes by one stamp in the shared cache (Redis).

Why: every create reads these tables although they change a few times a year. A process keeps
what it loaded together with the stamp it saw; any committed change to a watched model sets a new stamp
(after commit, so other processes never load uncommitted rows), and every process reloads on its next
read. The stamp is read once per transaction, so a write reading several caches costs one Redis GET.

Inside a web request the stamp is read once per request instead (an API create reads it for the
assignment group before its transaction and for the SLA definitions inside it): a change committed by
another process during a request applies from the next request, and a change this request commits
itself applies at once (committing it forgets the stamp read).

A transaction that itself changed configuration bypasses the caches until it ends (it sees rows nobody
else may ever see), and if Redis cannot be reached the caches are bypassed too: the answer is always
what the database says.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Hashable
from typing import Any

from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import transaction
from django.db.models.signals import post_delete, post_migrate, post_save

from .perf.transactions import current_transaction_token, on_commit_pending

logger = logging.getLogger(__name__)

STAMP_KEY = "itsm:config-stamp"
_local = threading.local()


def _stamp_committed() -> None:
    """on_commit callback of a configuration write: publish a new stamp for every process."""
    _local.memo = None  # this thread sees its own change at once, even later in the same request
    try:
        cache.set(STAMP_KEY, uuid.uuid4().hex, None)
    except Exception:
        logger.warning("could not publish the configuration stamp; caches are bypassed until it is back")


def configuration_changed(**kwargs: Any) -> None:
    """Signal receiver for the watched models (save, delete) and for flush/migrate."""
    # Registered as an on_commit callback: while it is pending in this connection, the transaction
    # holds uncommitted configuration and reads bypass the caches (a rollback discards it with them).
    if not on_commit_pending(_stamp_committed):
        transaction.on_commit(_stamp_committed)


def current_stamp() -> str | None:
    """The stamp the caches are valid for, or None when they must be bypassed."""
    if on_commit_pending(_stamp_committed):
        return None
    # Within one request, else within one transaction, the stamp is read once. A request is marked by
    # the token request_started puts in `_local.request`, a transaction by core.perf.transactions;
    # outside both every read asks Redis.
    scope = getattr(_local, "request", None)
    if scope is None:
        scope = current_transaction_token()
    memo = getattr(_local, "memo", None)
    if scope is not None and memo is not None and memo[0] is scope:
        return memo[1]
    try:
        stamp = cache.get(STAMP_KEY)
        if stamp is None:
            cache.add(STAMP_KEY, uuid.uuid4().hex, None)
            stamp = cache.get(STAMP_KEY)
    except Exception:
        logger.warning("configuration stamp unreadable; reading configuration from the database")
        return None
    _local.memo = (scope, stamp) if scope is not None else None
    return stamp


def _request_started(**kwargs: Any) -> None:
    _local.request, _local.memo = object(), None


def _request_finished(**kwargs: Any) -> None:
    _local.request, _local.memo = None, None


class ConfigCache:
    """`ConfigCache(loader, models)`: `get(key)` returns `loader(key)`, cached per process and stamp.

    The loader must return plain data or model instances nobody mutates (treat them as read-only).
    """

    def __init__(self, loader: Callable[[Hashable], Any], *, models: tuple = ()):
        self.loader = loader
        self._entries: dict[Hashable, tuple[str, Any]] = {}
        self._lock = threading.Lock()
        for model in models:
            watch(model)

    def get(self, key: Hashable = None) -> Any:
        stamp = current_stamp()
        if stamp is None:
            return self.loader(key)
        entry = self._entries.get(key)
        if entry is not None and entry[0] == stamp:
            return entry[1]
        value = self.loader(key)
        with self._lock:
            self._entries[key] = (stamp, value)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def watch(model) -> None:
    """Invalidate every configuration cache when `model` rows are saved or deleted."""
    uid = f"config-cache:{model._meta.label}"
    post_save.connect(configuration_changed, sender=model, dispatch_uid=uid + ":save", weak=False)
    post_delete.connect(configuration_changed, sender=model, dispatch_uid=uid + ":delete", weak=False)


# `flush` (transactional tests) and `migrate` replace table contents without model signals.
post_migrate.connect(configuration_changed, dispatch_uid="config-cache:post_migrate", weak=False)
request_started.connect(_request_started, dispatch_uid="config-cache:request_started", weak=False)
request_finished.connect(_request_finished, dispatch_uid="config-cache:request_finished", weak=False)
