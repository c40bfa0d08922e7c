"""The Celery app: broker from settings (every setting and its reason: the Celery block of
itsm/settings/base.py), tasks discovered in every installed app, and the beat schedule."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "itsm.settings.dev")

app = Celery("itsm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "worker-heartbeat": {"task": "core.worker_heartbeat", "schedule": 30.0},
    "incidents-auto-close": {"task": "incidents.auto_close_resolved", "schedule": 3600.0},
    # No expiry on sweeps: a worker busy with a backlog of checks must still reach a sweep, or the
    # timers whose checks a dead worker holds would wait for the visibility timeout. An extra queued
    # sweep costs one claim query that finds nothing.
    "sla-sweep": {"task": "sla.sweep", "schedule": 5.0},
    "sla-refresh-duration-stats": {"task": "sla.refresh_duration_stats", "schedule": 3600.0},
    "sla-refresh-at-risk": {"task": "sla.refresh_at_risk", "schedule": 60.0},
    "integrations-sweep-outbox": {"task": "integrations.sweep_outbox", "schedule": 60.0},
    "integrations-poll-imap": {"task": "integrations.poll_imap", "schedule": 60.0},
    "reports-refresh-rollups": {"task": "reports.refresh_rollups", "schedule": 600.0},
    "reports-refresh-backlog": {"task": "reports.refresh_backlog", "schedule": 60.0},
    "reports-refresh-today": {"task": "reports.refresh_today", "schedule": 60.0},
    # Time rules fire within a minute of becoming due; the worker tests shorten the interval.
    "automation-time-rules": {
        "task": "automation.evaluate_time_rules",
        "schedule": float(os.environ.get("AUTOMATION_TIME_RULES_INTERVAL", "30")),
    },
}
app.conf.beat_schedule["contracts-send-notices"] = {
    "task": "contracts.send_notices",
    "schedule": float(os.environ.get("CONTRACT_NOTICE_SWEEP_SECONDS", "3600")),
}
# The compliance report reads kept per-title counts; once a day they are recounted (about a second at
# 2,000,000 installations) and any drift corrected and logged.
app.conf.beat_schedule["contracts-reconcile-software-usage"] = {
    "task": "contracts.reconcile_software_usage",
    "schedule": float(os.environ.get("SOFTWARE_USAGE_RECONCILE_SECONDS", "86400")),
}
# The directory sync (accounts.identity.sync): nightly, at DIRECTORY_SYNC_HOUR:DIRECTORY_SYNC_MINUTE UTC.
app.conf.beat_schedule["accounts-sync-directory"] = {
    "task": "accounts.sync_directory",
    "schedule": crontab(
        hour=int(os.environ.get("DIRECTORY_SYNC_HOUR", "2")),
        minute=int(os.environ.get("DIRECTORY_SYNC_MINUTE", "30")),
    ),
}
