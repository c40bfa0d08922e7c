"""The IMAP poller (`integrations.poll_imap`) against a real IMAP server: Debian's Dovecot.

Nothing is mocked: a private Dovecot (package `dovecot-imapd`) runs as a child process for this module,
listening on 127.0.0.1 on a free port, with its configuration, sockets, state, log and maildir in a temporary
folder. Mail is put in through IMAP APPEND, as a mail client or delivery agent would; the \\Seen flags are
read back from the server. Each xdist worker starts its own Dovecot on its own port, so the tests need no
`xdist_group`.

How the Dovecot is set up, and why:

- `ssl = no` and `disable_plaintext_auth = no`: plain login over loopback; the poller's TLS is imaplib's.
- Mail is owned by the `mail` system user when the tests run as root: Dovecot refuses mail access as uid 0
  ("Mail access not allowed for root" even with `first_valid_uid = 0`), so the maildir folder is chowned to
  `mail` and `first_valid_uid`/`first_valid_gid` are lowered to its ids. As another user, that user's ids,
  and Dovecot's internal and login processes run as that user too.
- `chroot =` for imap-login and anvil: a Dovecot not started as root cannot chroot (and a test gains nothing
  from it).
- The auth penalty (anvil doubling the delay after each failure from one IP, up to 15 s) is switched off by
  giving its socket mode 0 (Dovecot then skips the penalty), and `auth_failure_delay = 0`, so the
  wrong-password and bad-token tests stay fast.
- XOAUTH2: `passdb { driver = oauth2 }` with `introspection_mode = post` asks a loopback HTTP server run by
  this module (a thread) about each token; it answers `{"active": true, "username": "itsm"}` for one good
  token and `{"active": false}` for any other. The password passdb serves only PLAIN/LOGIN and the oauth2
  passdb only XOAUTH2/OAUTHBEARER, so a token is never checked against the password file.
"""

from __future__ import annotations

import grp
import http.server
import imaplib
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from core.models import Activity
from incidents.models import Incident
from integrations import tasks as integration_tasks  # also registers integrations.poll_imap
from integrations.models import InboundEmail, InboundStatus
from itsm.celery import app as celery_app

from .conftest import MAILS, comments

DOVECOT = Path("/usr/sbin/dovecot")

pytestmark = [
    pytest.mark.skipif(
        not DOVECOT.exists(),
        reason="needs Dovecot: apt-get install -y --no-install-recommends dovecot-imapd (.ci/run does)",
    ),
    pytest.mark.django_db,
]

IMAP_USER = "itsm"
IMAP_PASSWORD = "imap-test-password"
GOOD_TOKEN = "good-oauth2-token"

NEW = "01_new_multipart_alternative.eml"
REPLY = "05_reply_thunderbird.eml"
AUTO_REPLY = "07_out_of_office.eml"
BROKEN = "12_broken_mime.eml"

NEW_ID = "<5e1c2d0a-8a51-4b7e-9f59-2b1c7e4f0a11@example.com>"
REPLY_ID = "<8c1f4a2e-1d0b-4f2a-a0e2-77b1a9d0c5f3@example.com>"
AUTO_REPLY_ID = "<ooo-20250303-0001@example.com>"
BROKEN_ID = "<broken-0012@example.com>"
PRINTER = "Drucker im 2. Stock druckt nicht – Fehler „E-05“"
REPLY_COMMENT = ("requester1", True, "Danke, nach dem Neustart druckt er wieder.\n\nRita")

DOVECOT_CONF = """\
protocols = imap
listen = 127.0.0.1
base_dir = {root}/run
state_dir = {root}/state
instance_name = itsm-test-{port}
log_path = {root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
{unprivileged}first_valid_uid = {uid}
first_valid_gid = {gid}
mail_uid = {uid}
mail_gid = {gid}
mail_location = maildir:{root}/mail/%u

service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}

service anvil {{
  chroot =
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

passdb {{
  driver = passwd-file
  mechanisms = plain login
  args = {root}/users
}}

passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}

userdb {{
  driver = passwd-file
  args = {root}/users
}}
"""

OAUTH2_CONF = """\
introspection_mode = post
introspection_url = {url}
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
"""


# --- servers -------------------------------------------------------------------------------------------


class IntrospectionHandler(http.server.BaseHTTPRequestHandler):
    """RFC 7662 token introspection as Dovecot's oauth2 passdb asks it (POST, form field `token`)."""

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        token = urllib.parse.parse_qs(body).get("token", [""])[0]
        self.server.tokens_seen.append(token)
        answer = {"active": True, "username": IMAP_USER} if token == GOOD_TOKEN else {"active": False}
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):
        """Silence http.server's per-request log line on stderr (pytest's output stays readable)."""


@pytest.fixture(scope="module")
def introspection():
    """The OAuth2 provider's introspection endpoint; `.tokens_seen` lists every token Dovecot asked about."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), IntrospectionHandler)
    server.tokens_seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def greets(port: int) -> bool:
    """Dovecot's imap-login answers with its `* OK` greeting (the port alone may open a moment earlier)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(100).startswith(b"* OK")
    except OSError:
        return False


def mail_owner() -> tuple[int, int]:
    """Dovecot refuses mail access as root, so root's tests store mail as the `mail` system user."""
    if os.geteuid() == 0:
        entry = pwd.getpwnam("mail")
        return entry.pw_uid, entry.pw_gid
    return os.getuid(), os.getgid()


def unprivileged_settings() -> str:
    """As root, Dovecot's own processes run as Debian's `dovecot`/`dovenull` users; anyone else cannot
    switch users, so every Dovecot process runs as them."""
    if os.geteuid() == 0:
        return ""
    user, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    return f"default_internal_user = {user}\ndefault_internal_group = {group}\ndefault_login_user = {user}\n"


def start_dovecot(root: Path, introspection_url: str) -> tuple[subprocess.Popen, int]:
    """Write the config for a free port and start Dovecot in the foreground; return it once it greets."""
    uid, gid = mail_owner()
    port = free_port()
    root.chmod(0o755)  # Dovecot's auth process (user `dovecot`) reads the users file in here
    (root / "mail").mkdir(exist_ok=True)
    os.chown(root / "mail", uid, gid)
    (root / "users").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::{root}/mail/{IMAP_USER}::\n")
    (root / "oauth2.conf.ext").write_text(OAUTH2_CONF.format(url=introspection_url))
    (root / "dovecot.conf").write_text(
        DOVECOT_CONF.format(root=root, port=port, uid=uid, gid=gid, unprivileged=unprivileged_settings())
    )
    shutil.rmtree(root / "run", ignore_errors=True)  # a stale socket from a failed try would confuse it
    with open(root / "dovecot.out", "ab") as out:
        process = subprocess.Popen(
            [str(DOVECOT), "-F", "-c", str(root / "dovecot.conf")], stdout=out, stderr=subprocess.STDOUT
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and process.poll() is None:
        if greets(port):
            return process, port
        time.sleep(0.1)
    stop(process)
    log = "".join(
        path.read_text(errors="replace")
        for path in (root / "dovecot.out", root / "dovecot.log")
        if path.exists()
    )
    raise RuntimeError(f"Dovecot did not answer on 127.0.0.1:{port}:\n{log}")


def stop(process: subprocess.Popen) -> None:
    """SIGTERM makes the master stop its imap, auth and login children before it exits."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def dovecot(introspection):
    """A private Dovecot for this module; yields its port.

    The folder comes from tempfile.mkdtemp, not pytest's tmp_path: the `mail` user must be able to reach
    the maildir (pytest's base folder is 0700 root) and Dovecot's socket paths must stay short (unix socket
    paths are limited to 108 bytes).
    """
    root = Path(tempfile.mkdtemp(prefix="itsm-dovecot-"))
    url = f"http://127.0.0.1:{introspection.server_address[1]}/introspect"
    try:
        for attempt in range(3):  # the free port may be taken by another process before Dovecot binds it
            try:
                process, port = start_dovecot(root, url)
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        try:
            yield port
        finally:
            stop(process)
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- the mailbox, seen from a mail client -----------------------------------------------------------------


class Mailbox:
    """The test user's INBOX through a fresh IMAP session per call (another session's flags are current)."""

    def __init__(self, port: int):
        self.port = port

    def session(self) -> imaplib.IMAP4:
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        connection.login(IMAP_USER, IMAP_PASSWORD)
        connection.select("INBOX")
        return connection

    def append(self, name: str) -> int:
        """Deliver one fixture mail, unseen; return its UID."""
        connection = self.session()
        try:
            typ, data = connection.append("INBOX", None, None, (MAILS / name).read_bytes())
        finally:
            connection.logout()
        assert typ == "OK", data
        return int(re.search(rb"APPENDUID \d+ (\d+)", data[0]).group(1))

    def flags(self) -> dict[int, set[str]]:
        """{uid: flags} of every mail in the INBOX, as the server has them now."""
        connection = self.session()
        try:
            typ, data = connection.uid("FETCH", "1:*", "(FLAGS)")
        finally:
            connection.logout()
        assert typ == "OK", data
        result = {}
        for line in data:
            if not line:
                continue
            uid = int(re.search(rb"UID (\d+)", line).group(1))
            result[uid] = {flag.decode() for flag in imaplib.ParseFlags(line)}
        return result

    def unseen(self) -> set[int]:
        return {uid for uid, flags in self.flags().items() if "\\Seen" not in flags}

    def mark_unseen(self, uid: int) -> None:
        connection = self.session()
        try:
            typ, data = connection.uid("STORE", str(uid), "-FLAGS", "(\\Seen)")
        finally:
            connection.logout()
        assert typ == "OK", data

    def empty(self) -> None:
        connection = self.session()
        try:
            typ, data = connection.uid("SEARCH", None, "ALL")
            uids = data[0].split()
            if uids:  # STORE with an empty message set is a BAD command
                connection.uid("STORE", b",".join(uids), "+FLAGS.SILENT", "(\\Deleted)")
                connection.expunge()
        finally:
            connection.logout()


@pytest.fixture
def mailbox(dovecot):
    """The INBOX, emptied: each test delivers its own mails."""
    box = Mailbox(dovecot)
    box.empty()
    return box


@pytest.fixture
def imap_settings(settings, dovecot):
    """Point integrations.conf at the Dovecot the way production settings would, password login."""
    settings.IMAP_HOST = "127.0.0.1"
    settings.IMAP_PORT = dovecot
    settings.IMAP_USE_SSL = False
    settings.IMAP_USER = IMAP_USER
    settings.IMAP_PASSWORD = IMAP_PASSWORD
    settings.IMAP_OAUTH2_TOKEN = ""
    settings.IMAP_MAILBOX = "INBOX"
    settings.IMAP_BATCH = 50
    return settings


def poll_imap() -> dict:
    """Run the Celery task as beat would have it run, in this process: looked up by its registered name."""
    return celery_app.tasks["integrations.poll_imap"]()


def what_users_see() -> tuple[int, int, int]:
    return Incident.objects.count(), InboundEmail.objects.count(), Activity.objects.count()


# --- tests ---------------------------------------------------------------------------------------------


def test_beat_schedules_the_poller():
    """Without a beat entry the poller exists but never runs; the task name must match the schedule's."""
    tasks = [entry["task"] for entry in celery_app.conf.beat_schedule.values()]
    assert tasks.count("integrations.poll_imap") == 1
    assert "integrations.poll_imap" in celery_app.tasks


def test_poll_opens_an_incident_threads_the_reply_and_ignores_the_auto_reply(
    imap_settings, mailbox, requester
):
    new, reply, auto_reply = mailbox.append(NEW), mailbox.append(REPLY), mailbox.append(AUTO_REPLY)
    assert mailbox.unseen() == {new, reply, auto_reply}

    assert poll_imap() == {
        "fetched": 3,
        "duplicates": 0,
        "ticket_created": 1,
        "comment_added": 1,
        "ignored": 1,
    }

    incident = Incident.objects.get()
    assert incident.short_description == PRINTER
    assert incident.caller == requester and incident.opened_by == requester
    assert incident.description.startswith("Hallo Service-Desk,\n\nder Drucker im 2. Stock (PRN-0815)")
    assert comments(incident) == [REPLY_COMMENT]

    rows = {row.message_id: row for row in InboundEmail.objects.all()}
    assert set(rows) == {NEW_ID, REPLY_ID, AUTO_REPLY_ID}
    assert (rows[NEW_ID].status, rows[NEW_ID].ticket_number) == (
        InboundStatus.TICKET_CREATED,
        incident.number,
    )
    assert (rows[REPLY_ID].status, rows[REPLY_ID].ticket_number) == (
        InboundStatus.COMMENT_ADDED,
        incident.number,
    )
    assert (rows[AUTO_REPLY_ID].status, rows[AUTO_REPLY_ID].reason) == (
        InboundStatus.IGNORED,
        "automatic mail (Auto-Submitted: auto-replied)",
    )
    assert rows[NEW_ID].source == f"imap:{new}"
    # The bytes the server delivered are kept (imaplib's APPEND sent the file with CRLF line ends).
    assert rows[NEW_ID].raw.read() == re.sub(rb"\r?\n", b"\r\n", (MAILS / NEW).read_bytes())

    assert mailbox.unseen() == set()
    assert all("\\Seen" in flags for flags in mailbox.flags().values())


def test_polling_again_is_idempotent_and_a_refetched_mail_is_a_duplicate(imap_settings, mailbox, requester):
    new = mailbox.append(NEW)
    mailbox.append(REPLY)
    assert poll_imap() == {"fetched": 2, "duplicates": 0, "ticket_created": 1, "comment_added": 1}
    before = what_users_see()
    assert before[0] == 1

    assert poll_imap() == {"fetched": 0, "duplicates": 0}
    assert what_users_see() == before

    # A crash between ingest and STORE leaves an ingested mail unseen: the next poll fetches it again.
    mailbox.mark_unseen(new)
    assert mailbox.unseen() == {new}
    assert poll_imap() == {"fetched": 1, "duplicates": 1}
    assert what_users_see() == before
    assert InboundEmail.objects.get(message_id=NEW_ID).status == InboundStatus.TICKET_CREATED
    assert mailbox.unseen() == set()


def test_imap_batch_limits_each_poll_and_leaves_the_rest_unseen(imap_settings, mailbox, requester):
    imap_settings.IMAP_BATCH = 2
    new, reply, auto_reply = mailbox.append(NEW), mailbox.append(REPLY), mailbox.append(AUTO_REPLY)

    assert poll_imap() == {"fetched": 2, "duplicates": 0, "ticket_created": 1, "comment_added": 1}
    assert mailbox.unseen() == {auto_reply}  # the oldest first: the new mail before its reply
    assert set(InboundEmail.objects.values_list("message_id", flat=True)) == {NEW_ID, REPLY_ID}
    assert comments(Incident.objects.get()) == [REPLY_COMMENT]

    assert poll_imap() == {"fetched": 1, "duplicates": 0, "ignored": 1}
    assert mailbox.unseen() == set()
    assert InboundEmail.objects.get(message_id=AUTO_REPLY_ID).status == InboundStatus.IGNORED
    assert Incident.objects.count() == 1
    assert {new, reply, auto_reply} == set(mailbox.flags())


def test_a_poll_while_another_runs_is_skipped(imap_settings, mailbox, requester):
    """Beat polls every minute; a poll still running (another worker) makes the next one step aside."""
    from django.core.cache import cache

    new = mailbox.append(NEW)
    cache.add(integration_tasks.IMAP_POLL_LOCK, "1", 60)  # the other worker's poll
    try:
        assert poll_imap() == {"skipped": "another poll is running"}
        assert mailbox.unseen() == {new} and not InboundEmail.objects.exists()
    finally:
        cache.delete(integration_tasks.IMAP_POLL_LOCK)
    assert poll_imap() == {"fetched": 1, "duplicates": 0, "ticket_created": 1}
    assert poll_imap() == {"fetched": 0, "duplicates": 0}  # the lock was released


def test_a_mailbox_whose_name_has_a_space(imap_settings, mailbox, requester):
    """IMAP_MAILBOX = "Service Desk": the name reaches the server quoted, as one mailbox."""
    connection = mailbox.session()
    try:
        typ, data = connection.create('"Service Desk"')
        assert typ == "OK" or b"ALREADYEXISTS" in data[0], data
        typ, data = connection.append('"Service Desk"', None, None, (MAILS / NEW).read_bytes())
        assert typ == "OK", data
    finally:
        connection.logout()
    imap_settings.IMAP_MAILBOX = "Service Desk"
    assert poll_imap() == {"fetched": 1, "duplicates": 0, "ticket_created": 1}
    assert InboundEmail.objects.get().status == InboundStatus.TICKET_CREATED
    assert mailbox.unseen() == set() and mailbox.flags() == {}  # the INBOX was never touched


def test_a_wrong_password_fails_clearly_and_ingests_nothing(imap_settings, mailbox, requester):
    new = mailbox.append(NEW)
    imap_settings.IMAP_PASSWORD = "not-the-password"
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        poll_imap()
    assert what_users_see() == (0, 0, 0)
    assert mailbox.unseen() == {new}


def test_xoauth2_with_a_good_token_ingests_and_a_bad_token_fails(
    imap_settings, mailbox, introspection, requester
):
    new = mailbox.append(NEW)
    imap_settings.IMAP_PASSWORD = ""  # the token alone must get in

    imap_settings.IMAP_OAUTH2_TOKEN = "expired-or-forged-token"
    introspection.tokens_seen.clear()
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        poll_imap()
    assert introspection.tokens_seen == ["expired-or-forged-token"]  # Dovecot asked the provider
    assert what_users_see() == (0, 0, 0)
    assert mailbox.unseen() == {new}

    imap_settings.IMAP_OAUTH2_TOKEN = GOOD_TOKEN
    introspection.tokens_seen.clear()
    assert poll_imap() == {"fetched": 1, "duplicates": 0, "ticket_created": 1}
    assert introspection.tokens_seen == [GOOD_TOKEN]
    assert Incident.objects.get().short_description == PRINTER
    assert mailbox.unseen() == set()


def test_an_unparseable_mail_is_kept_reported_and_not_fetched_again(
    imap_settings, mailbox, requester, client, admin_user
):
    broken = mailbox.append(BROKEN)

    assert poll_imap() == {"fetched": 1, "duplicates": 0, "failed": 1}
    row = InboundEmail.objects.get()
    assert (row.message_id, row.status, row.source) == (BROKEN_ID, InboundStatus.FAILED, f"imap:{broken}")
    assert (
        row.reason == "broken MIME structure: MultipartInvariantViolationDefect, NoBoundaryInMultipartDefect"
    )
    assert b"This multipart has no boundary parameter." in row.raw.read()
    assert Incident.objects.count() == 0

    client.force_login(admin_user)
    page = client.get("/integrations/")
    assert page.status_code == 200
    assert "broken MIME structure" in page.content.decode()

    # Flagged \Seen, so the next poll does not fetch it again and again.
    assert mailbox.unseen() == set()
    assert poll_imap() == {"fetched": 0, "duplicates": 0}
