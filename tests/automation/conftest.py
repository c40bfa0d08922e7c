"""Automation fixtures: a group of three agents, rules saved through the real service, incidents opened
through the real service (so the engine runs inside the same transaction as in production)."""

from __future__ import annotations

import pytest

from automation import services
from automation.builtin import BUILTIN_RULES, ensure_builtin_rules
from automation.models import Rule
from tests.sla.test_celery_worker import flush_broker, publish_to, workers  # noqa: F401 - shared fixtures


@pytest.fixture
def builtin_rules(db):
    """The out-of-the-box rules as a fresh install has them (the suite switches them off elsewhere)."""
    ensure_builtin_rules()
    for spec in BUILTIN_RULES:
        Rule.objects.filter(builtin=spec["builtin"]).update(active=spec["active"])
    return {rule.builtin: rule for rule in Rule.objects.exclude(builtin="")}


@pytest.fixture
def trio(make_group, make_user):
    members = [make_user(f"net{i}", roles=["agent"]) for i in (1, 2, 3)]
    return make_group("network", members=members), members


@pytest.fixture
def make_rule(admin_user):
    def _make(**data) -> Rule:
        data.setdefault("name", f"rule {Rule.objects.count() + 1}")
        data.setdefault("applies_to", "incident")
        data.setdefault("trigger", "created")
        data.setdefault("conditions", {})
        return services.rule_save(actor=admin_user, data=data)

    return _make


@pytest.fixture
def open_incident(requester):
    from incidents.services import incident_create

    def _open(actor=None, **fields):
        fields.setdefault("short_description", "Printer on fire")
        return incident_create(actor=actor or requester, **fields)

    return _open
