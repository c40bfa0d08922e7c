"""Shared fixtures for change tests: a change manager, two CAB members, CIs with relationships."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import CIClassFactory, ConfigurationItemFactory, RelationshipFactory


@pytest.fixture
def manager(make_user):
    return make_user("carol", roles=["change_manager", "agent"])


@pytest.fixture
def cab(make_user):
    return [make_user("dave", roles=["cab_member"]), make_user("erin", roles=["cab_member"])]


@pytest.fixture
def make_ci(db):
    def _make(name, ci_class="server"):
        return ConfigurationItemFactory(name=name, ci_class=CIClassFactory(name=ci_class))

    return _make


@pytest.fixture
def relate(db):
    def _relate(source, target, type="runs_on"):
        return RelationshipFactory(source=source, target=target, type=type)

    return _relate


@pytest.fixture
def window():
    """`window(hours_from_now, length_hours)` → (start, end)."""

    def _window(offset=24, length=2):
        start = (timezone.now() + timedelta(hours=offset)).replace(microsecond=0)
        return start, start + timedelta(hours=length)

    return _window
