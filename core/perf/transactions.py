"""What the current transaction is, and what it has queued for commit, read from Django's private
`BaseDatabaseWrapper.run_on_commit` list (checked against the Django in core/perf/README.md).

Django has no public "transaction id" nor a way to ask whether a callback is pending. It replaces
`run_on_commit` with a new list at every commit and rollback, so the list's identity marks "this
transaction", and its entries are `(savepoint ids, callback, robust)` tuples.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction


def current_transaction_token() -> object | None:
    """An object that stays the same for the whole current transaction, or None outside one."""
    connection = transaction.get_connection()
    return connection.run_on_commit if connection.in_atomic_block else None


def on_commit_pending(func: Callable) -> bool:
    """Whether `func` is queued with transaction.on_commit in the current transaction."""
    connection = transaction.get_connection()
    return connection.in_atomic_block and any(entry[1] is func for entry in connection.run_on_commit)
