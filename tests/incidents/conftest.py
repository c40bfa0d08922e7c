"""Incident fixtures: a category, a CI, and a factory that opens incidents through the service."""

import pytest

from incidents.models import Category
from incidents.services import incident_create
from tests.factories import CIClassFactory, ConfigurationItemFactory


@pytest.fixture
def category(db):
    return Category.objects.get_or_create(name="network", defaults={"label": "Network"})[0]


@pytest.fixture
def ci(db):
    return ConfigurationItemFactory(name="vpn-gw-1", ci_class=CIClassFactory(name="server"))


@pytest.fixture
def make_incident(agent, service_desk, category):
    def _make(short_description="VPN drops", *, actor=None, **fields):
        fields.setdefault("assignment_group", service_desk)
        fields.setdefault("category", category)
        return incident_create(actor=actor or agent, short_description=short_description, **fields)

    return _make
