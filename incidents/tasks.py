"""Celery tasks for incidents."""

from celery import shared_task

from .services import close_resolved_incidents


@shared_task(name="incidents.auto_close_resolved")
def auto_close_resolved() -> int:
    """Beat: close incidents resolved longer ago than INCIDENT_AUTO_CLOSE_DAYS."""
    return close_resolved_incidents()
