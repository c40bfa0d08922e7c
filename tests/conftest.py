"""Fixtures shared by the whole suite: users by role, assignment groups, authenticated API clients.

Tests talk to the real PostgreSQL and Redis chosen by `make test`; nothing here is mocked.
"""

from __future__ import annotations

import itertools
import os

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.models import AssignmentGroup, User

# Playwright's sync API runs an event loop in the test thread; Django's ORM calls made by the test itself
# (fixtures, asserts) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

_sequence = itertools.count(1)


@pytest.fixture
def make_user(db):
    """`make_user("alice", roles=["agent"], groups=[network])`: a user with a usable password `pw`."""

    def _make(username: str | None = None, *, roles=(), groups=(), password: str = "pw", **fields) -> User:
        username = username or f"user{next(_sequence)}"
        fields.setdefault("email", f"{username}@example.com")
        user = User.objects.create_user(username=username, password=password, **fields)
        if roles:
            user.groups.add(*Group.objects.filter(name__in=roles))
        for group in groups:
            group.members.add(user)
        return user

    return _make


@pytest.fixture
def make_group(db):
    def _make(name: str | None = None, *, members=(), manager=None) -> AssignmentGroup:
        group = AssignmentGroup.objects.create(name=name or f"group{next(_sequence)}", manager=manager)
        if members:
            group.members.add(*members)
        return group

    return _make


@pytest.fixture
def service_desk(make_group):
    return make_group("service-desk")


@pytest.fixture
def agent(make_user, service_desk):
    return make_user("agent1", roles=["agent"], groups=[service_desk], first_name="Alice")


@pytest.fixture
def other_agent(make_user, make_group):
    """An agent of another group."""
    return make_user("agent2", roles=["agent"], groups=[make_group("network")])


@pytest.fixture
def requester(make_user):
    return make_user("requester1", first_name="Rita")


@pytest.fixture
def other_requester(make_user):
    return make_user("requester2", first_name="Sam")


@pytest.fixture
def admin_user(make_user):
    return make_user("admin1", roles=["admin"], is_staff=True, is_superuser=True)


@pytest.fixture
def api_client():
    """`api_client(user)`: an APIClient authenticated as `user` (or anonymous with None)."""

    def _client(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return _client


@pytest.fixture(autouse=True)
def _reference_data(request):
    """Role groups and default CI classes come from data migrations; a transactional test (live server,
    real Celery worker) flushes them, so put them back for every database test."""
    if not {"db", "transactional_db", "live_server"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db" if "live_server" in request.fixturenames else "db")
    from accounts.roles import ensure_role_groups
    from cmdb.ci_classes import ensure_default_classes

    ensure_role_groups()
    ensure_default_classes()
    # The out-of-the-box automation rules (a data migration) would route every test's new incident; the
    # automation tests switch them back on where they test them (tests/automation/conftest.py).
    from automation.models import Rule

    Rule.objects.filter(active=True).exclude(builtin="").update(active=False)


@pytest.fixture(autouse=True)
def _closed_breakers():
    """A test that made the broker or cache fail must not leave the next one skipping Redis."""
    from core.breaker import BROKER, CACHE

    BROKER.reset()
    CACHE.reset()
    yield
    BROKER.reset()
    CACHE.reset()
