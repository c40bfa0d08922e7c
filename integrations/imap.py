"""Poll an IMAP mailbox (password or OAuth2 XOAUTH2) and ingest unseen mail.

Each mail is fetched with BODY.PEEK[] (fetching does not mark it read), ingested, and only then flagged
\\Seen: a crash in between re-fetches it next time, and ingest is idempotent by Message-ID.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging

from . import conf
from .inbound import ingest

logger = logging.getLogger(__name__)


def connect() -> imaplib.IMAP4:
    use_ssl = conf.get("IMAP_USE_SSL")
    # IMAP_PORT unset: the standard port of the chosen transport (993 for IMAPS, 143 for plain IMAP).
    port = int(conf.get("IMAP_PORT") or (993 if use_ssl else 143))
    cls = imaplib.IMAP4_SSL if use_ssl else imaplib.IMAP4
    connection = cls(conf.get("IMAP_HOST"), port, timeout=30)
    user, token = conf.get("IMAP_USER"), conf.get("IMAP_OAUTH2_TOKEN")
    try:
        if token:
            auth = f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
            # The first challenge is empty; a non-empty one is the server's JSON error for a refused token,
            # which XOAUTH2 says to answer with an empty response (not the credentials again).
            connection.authenticate("XOAUTH2", lambda challenge: b"" if challenge else auth)
        else:
            connection.login(user, conf.get("IMAP_PASSWORD"))
    except BaseException:
        with contextlib.suppress(OSError):  # a refused login must not leave the socket open until GC
            connection.shutdown()
        raise
    return connection


def quoted(mailbox: str) -> str:
    """A mailbox name as an IMAP quoted string: imaplib sends names as given, so "Service Desk" would
    reach the server as two arguments."""
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def poll_mailbox(connection: imaplib.IMAP4 | None = None) -> dict:
    """Ingest the unseen mails (up to IMAP_BATCH); returns how many were fetched, how many of those had
    been ingested before ("duplicates"), and for the others how many ended in each InboundStatus
    (`{"fetched": 3, "duplicates": 0, "ticket_created": 1, "comment_added": 1, "ignored": 1}`)."""
    connection = connection or connect()
    counts = {"fetched": 0, "duplicates": 0}
    try:
        typ, _ = connection.select(quoted(conf.get("IMAP_MAILBOX")))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot select {conf.get('IMAP_MAILBOX')}")
        typ, data = connection.uid("SEARCH", None, "UNSEEN")
        if typ != "OK":  # a NO carries the server's message in data, which must not be read as UIDs
            raise imaplib.IMAP4.error(f"cannot search {conf.get('IMAP_MAILBOX')}: {data!r}")
        uids = (data[0] or b"").split()[: conf.get("IMAP_BATCH")]
        for uid in uids:
            typ, parts = connection.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((part[1] for part in parts or [] if isinstance(part, tuple)), None)
            if typ != "OK" or raw is None:
                logger.warning("IMAP fetch of uid %s failed: %s", uid, typ)
                continue
            counts["fetched"] += 1
            row, created = ingest(raw, source=f"imap:{uid.decode()}")
            outcome = str(row.status) if created else "duplicates"
            counts[outcome] = counts.get(outcome, 0) + 1
            typ, _ = connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
            if typ != "OK":  # the mail comes back next poll as a duplicate; say why instead of silently
                logger.warning("IMAP could not flag uid %s as seen: %s", uid, typ)
    finally:
        try:
            connection.logout()
        except (imaplib.IMAP4.error, OSError):
            logger.warning("IMAP logout failed", exc_info=True)
    return counts
