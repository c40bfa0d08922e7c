"""Celery tasks of contracts: the notice sweep run by beat (contracts.notices), and the nightly
reconciliation of the software titles' kept installed-CI counts (contracts.software)."""

import logging

from celery import shared_task

from . import notices, software

logger = logging.getLogger(__name__)


@shared_task(name="contracts.send_notices")
def send_notices() -> dict[str, int]:
    return notices.sweep()


@shared_task(name="contracts.reconcile_software_usage")
def reconcile_software_usage() -> int:
    """Recount every title's installed CIs and correct the kept counts that drifted (none should: a
    drift means a write went around contracts.software); each one is logged as a warning."""
    drift = software.fix_usage_drift()
    for software_id, kept, counted in drift:
        logger.warning(
            "software %s: kept installed CI count %s, recounted %s; corrected", software_id, kept, counted
        )
    return len(drift)
