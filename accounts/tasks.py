"""Celery tasks of accounts: the nightly directory sync (accounts.identity.sync)."""

from celery import shared_task

from .identity import sync


@shared_task(name="accounts.sync_directory")
def sync_directory() -> dict:
    """Refresh directory users and deactivate leavers; the report is logged and returned."""
    return sync.sync_directory().as_dict()
