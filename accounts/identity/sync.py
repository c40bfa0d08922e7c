"""The directory sync: every directory user refreshed from LDAP, leavers deactivated, a report of it.

Run nightly by Celery beat (task `accounts.sync_directory`) and on demand (`manage.py sync_directory`,
the admin page's "Sync now"). A user the directory no longer returns (removed, or disabled so that
LDAP_USER_FILTER leaves it out) is deactivated and their API tokens revoked. A directory that cannot be
read (down, wrong service account) deactivates nobody: the sync stops and says why, because "the search
failed" must never be mistaken for "the user left".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django_auth_ldap.backend import ldap_error

from accounts.models import IdentitySource, User

from . import config, directory, services
from .ldap import DirectoryBackend

logger = logging.getLogger(__name__)


@dataclass
class SyncReport:
    updated: dict[str, dict] = field(default_factory=dict)  # username -> what changed
    deactivated: list[str] = field(default_factory=list)
    tokens_revoked: int = 0
    unchanged: int = 0
    failed: dict[str, str] = field(default_factory=dict)  # username -> why it was not synced
    error: str = ""  # the whole sync did not run (directory unreachable, not configured)

    def as_dict(self) -> dict:
        return {
            "updated": self.updated,
            "deactivated": self.deactivated,
            "tokens_revoked": self.tokens_revoked,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "error": self.error,
        }

    def lines(self) -> list[str]:
        """The report in words, for the command's output and the admin page."""
        if self.error:
            return [f"Directory sync did not run: {self.error}"]
        lines = [
            f"{len(self.updated)} updated, {len(self.deactivated)} deactivated "
            f"({self.tokens_revoked} API tokens revoked), {self.unchanged} unchanged, {len(self.failed)} failed."
        ]
        lines += [
            f"updated {name}: {', '.join(sorted(changes))}" for name, changes in sorted(self.updated.items())
        ]
        lines += [f"deactivated {name}: no longer in the directory" for name in self.deactivated]
        lines += [f"failed {name}: {reason}" for name, reason in sorted(self.failed.items())]
        return lines


def sync_directory() -> SyncReport:
    """Refresh every active directory user; deactivate leavers. Writes only through services."""
    report = SyncReport()
    if not config.ldap_enabled():
        report.error = "directory sign-in is not configured (LDAP_SERVER_URI is empty)."
        return report
    check = directory.check_connection()
    if not check.ok:
        report.error = check.message
        return report

    errors: list[str] = []

    def _record(sender, context, user, exception, **kwargs):
        errors.append(f"{context}: {exception}")

    ldap_error.connect(_record, dispatch_uid="itsm-directory-sync")
    try:
        backend = DirectoryBackend()
        users = User.objects.filter(identity_source=IdentitySource.LDAP, is_active=True).order_by("username")
        for user in users:
            errors.clear()
            before = directory.snapshot(user)
            try:
                found = backend.populate_user(user.username)
            except Exception as error:  # one bad entry must not stop the others; reported, not hidden
                logger.exception("directory sync failed for %s", user.username)
                report.failed[user.username] = str(error)
                continue
            if errors:
                report.failed[user.username] = "; ".join(errors)
            elif found is None:
                report.tokens_revoked += services.deactivate_leaver(user, reason="not found in the directory")
                report.deactivated.append(user.username)
            else:
                changes = directory.diff(before, directory.snapshot(found))
                if changes:
                    report.updated[found.username] = changes
                else:
                    report.unchanged += 1
    finally:
        ldap_error.disconnect(dispatch_uid="itsm-directory-sync")
    logger.info("directory sync: %s", " | ".join(report.lines()))
    return report
