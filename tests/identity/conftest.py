"""Fixtures of the identity tests: a private slapd (tests/identity/slapd.py) and the settings that point
the suite at it. Each xdist worker starts its own slapd on its own port."""

from __future__ import annotations

import pytest

from .slapd import SERVICE_DN, SERVICE_PASSWORD, SLAPD, PrivateSlapd

PEOPLE = "ou=people,dc=example,dc=org"
GROUPS = "ou=groups,dc=example,dc=org"


def dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group_dn(cn: str) -> str:
    return f"cn={cn},{GROUPS}"


@pytest.fixture(autouse=True)
def fresh_login_counters():
    """These tests fail sign-ins on purpose, all from 127.0.0.1 (the test client): start each test with
    the login throttle's counters of that address and of the directory's people cleared, so failures
    of an earlier test in the same worker cannot lock a later one out."""
    from accounts import throttling

    for name in ("alice", "bob", "carol", "dave", "pat(ops)*", "sam", "rita", "worker", "root-admin", ""):
        throttling.clear(name, "127.0.0.1")
    yield


@pytest.fixture(scope="session")
def slapd():
    if not SLAPD.exists():
        pytest.fail("needs slapd: apt-get install -y --no-install-recommends slapd (.ci/run does)")
    server = PrivateSlapd().start()
    yield server
    server.stop()


@pytest.fixture
def directory(slapd, settings, db):
    """The directory reset to directory.ldif and the suite configured to sign in against it."""
    from accounts.models import AssignmentGroup

    slapd.reset()
    settings.LDAP_SERVER_URI = slapd.uri
    settings.LDAP_BIND_DN = SERVICE_DN
    settings.LDAP_BIND_PASSWORD = SERVICE_PASSWORD
    settings.LDAP_TIMEOUT = 3
    settings.LDAP_USER_BASE_DN = PEOPLE
    settings.LDAP_USER_FILTER = "(&(objectClass=inetOrgPerson)(uid=%(user)s)(!(employeeType=disabled)))"
    settings.LDAP_GROUP_BASE_DN = GROUPS
    settings.LDAP_GROUP_FILTER = "(objectClass=groupOfNames)"
    settings.LDAP_GROUP_TYPE = "groupOfNames"
    settings.IDENTITY_ROLE_MAP = {"itsm-agents": "agent", "itsm-admins": "admin"}
    settings.IDENTITY_GROUP_MAP = {"network-team": "network"}
    AssignmentGroup.objects.get_or_create(name="network")
    return slapd
