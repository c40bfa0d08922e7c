"""A private OpenLDAP server (Debian's `slapd`) for the identity tests.

Started as a child process on a free loopback port with its configuration (slapd.conf: the mdb backend,
the core/cosine/inetorgperson schemas, a root DN for the tests' own writes) and its database in a
temporary folder; the system slapd (if any) is never touched. `reset()` reloads directory.ldif, so every
test starts from the same directory whatever the previous one changed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import ldap
import ldap.modlist

SLAPD = Path("/usr/sbin/slapd")
LDIF = Path(__file__).with_name("directory.ldif")
BASE_DN = "dc=example,dc=org"
ROOT_DN = "cn=root,dc=example,dc=org"
ROOT_PASSWORD = "root-secret"  # the tests' own writes (group changes, disabled accounts)
SERVICE_DN = "cn=itsm-reader,ou=services,dc=example,dc=org"
SERVICE_PASSWORD = "reader-secret"

SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
pidfile {root}/slapd.pid
modulepath /usr/lib/ldap
moduleload back_mdb
database mdb
maxsize 104857600
suffix "{base}"
rootdn "{root_dn}"
rootpw {root_password}
directory {root}/data
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="{service_dn}" read by self read by * none
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def parse_ldif(path: Path) -> list[tuple[str, dict[str, list[bytes]]]]:
    """The entries of a simple LDIF file (no continuation lines, no base64), in order."""
    entries: list[tuple[str, dict[str, list[bytes]]]] = []
    for block in path.read_text().split("\n\n"):
        lines = [line for line in block.splitlines() if line and not line.startswith("#")]
        if not lines:
            continue
        dn = lines[0].split(": ", 1)[1]
        attrs: dict[str, list[bytes]] = {}
        for line in lines[1:]:
            name, value = line.split(": ", 1)
            attrs.setdefault(name, []).append(value.encode())
        entries.append((dn, attrs))
    return entries


class PrivateSlapd:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="itsm-slapd-"))
        self.port = free_port()
        self.uri = f"ldap://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> PrivateSlapd:
        (self.root / "data").mkdir()
        (self.root / "slapd.conf").write_text(
            SLAPD_CONF.format(
                root=self.root,
                base=BASE_DN,
                root_dn=ROOT_DN,
                root_password=ROOT_PASSWORD,
                service_dn=SERVICE_DN,
            )
        )
        with open(self.root / "slapd.out", "ab") as out:
            # -d 0: stay in the foreground (a child we can stop), log nothing beyond errors.
            self.process = subprocess.Popen(
                [str(SLAPD), "-f", str(self.root / "slapd.conf"), "-h", f"{self.uri}/", "-d", "0"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                self.admin().unbind_s()
                self.reset()
                return self
            except ldap.SERVER_DOWN:
                time.sleep(0.1)
        log = (self.root / "slapd.out").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"slapd did not answer on {self.uri}:\n{log}")

    def admin(self):
        """A connection bound as the root DN, for the tests' own changes to the directory."""
        connection = ldap.initialize(self.uri, bytes_mode=False)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, 2)
        connection.simple_bind_s(ROOT_DN, ROOT_PASSWORD)
        return connection

    def reset(self) -> None:
        """Delete every entry and load directory.ldif again."""
        connection = self.admin()
        try:
            try:
                found = connection.search_s(BASE_DN, ldap.SCOPE_SUBTREE, "(objectClass=*)", ["1.1"])
            except ldap.NO_SUCH_OBJECT:
                found = []
            for dn in sorted((dn for dn, _ in found), key=lambda dn: -dn.count(",")):
                connection.delete_s(dn)
            for dn, attrs in parse_ldif(LDIF):
                connection.add_s(dn, ldap.modlist.addModlist(attrs))
        finally:
            connection.unbind_s()

    def modify(self, dn: str, changes: list[tuple[int, str, list[bytes] | None]]) -> None:
        connection = self.admin()
        try:
            connection.modify_s(dn, changes)
        finally:
            connection.unbind_s()

    def delete(self, dn: str) -> None:
        connection = self.admin()
        try:
            connection.delete_s(dn)
        finally:
            connection.unbind_s()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)
