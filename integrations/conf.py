"""Integration settings: a Django setting of the same name wins, else the environment, else the default.

Kept here rather than in itsm/settings so the integrations app owns its knobs; every one can still be set
in a settings module (tests use override_settings) or by environment variable in production.
"""

from __future__ import annotations

import json
import os
from typing import Any

from django.conf import settings

_DEFAULTS: dict[str, Any] = {
    # Inbound mail
    "INBOUND_EMAIL_MAX_BYTES": 50 * 1024 * 1024,
    "IMAP_HOST": "",
    "IMAP_PORT": None,  # None: 993 with IMAP_USE_SSL, else 143
    "IMAP_USE_SSL": True,
    "IMAP_USER": "",
    "IMAP_PASSWORD": "",
    "IMAP_OAUTH2_TOKEN": "",  # XOAUTH2 bearer token; used instead of the password when set
    "IMAP_MAILBOX": "INBOX",
    "IMAP_BATCH": 50,
    # Outbound mail
    "EMAIL_MESSAGE_ID_DOMAIN": "",  # defaults to the domain of DEFAULT_FROM_EMAIL
    "EMAIL_MAX_ATTEMPTS": 5,
    # Webhooks
    "WEBHOOK_TIMEOUT": 10.0,
    "WEBHOOK_MAX_ATTEMPTS": 6,
    "WEBHOOK_RETRY_BASE_SECONDS": 30,
    # The beat sweep re-enqueues rows still pending this long after they were due.
    "OUTBOX_SWEEP_AFTER_SECONDS": 60,
    # Alertmanager: severity label → (impact, urgency); label naming the assignment group.
    "ALERT_SEVERITY_MAP": {"critical": [1, 1], "warning": [2, 2]},
    "ALERT_DEFAULT_IMPACT_URGENCY": [3, 3],
    "ALERT_GROUP_LABELS": ["assignment_group", "team"],
    "ALERT_CI_LABELS": ["ci", "service", "instance"],
}


def get(name: str) -> Any:
    if hasattr(settings, name):
        return getattr(settings, name)
    default = _DEFAULTS[name]
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, dict):
        return json.loads(raw)
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def message_id_domain() -> str:
    domain = get("EMAIL_MESSAGE_ID_DOMAIN")
    if domain:
        return domain
    sender = settings.DEFAULT_FROM_EMAIL
    return sender.rsplit("@", 1)[-1].strip(" >") or "itsm.local"
