"""Celery tasks of contracts: the notice sweep run by beat (contracts.notices)."""

from celery import shared_task

from . import notices


@shared_task(name="contracts.send_notices")
def send_notices() -> dict[str, int]:
    return notices.sweep()
