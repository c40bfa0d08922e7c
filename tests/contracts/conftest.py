"""Fixtures of the contracts tests: a CMDB manager, a vendor, servers, and contracts opened by the service."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from cmdb.models import CIClass, ConfigurationItem

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def cmdb_manager(make_user):
    return make_user("cora", roles=["cmdb_manager"], email="cora@example.com")


@pytest.fixture
def vendor(db):
    from contracts.models import Vendor

    return Vendor.objects.create(
        name="Acme", support_phone="+1 555 0100", support_email="support@acme.example.com"
    )


@pytest.fixture
def make_server(db):
    def _make(name: str, **fields) -> ConfigurationItem:
        return ConfigurationItem.objects.create(
            name=name, ci_class=CIClass.objects.get(name="server"), **fields
        )

    return _make


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def make_contract(cmdb_manager, vendor, today):
    from contracts.services import contract_create

    def _make(*, cis=(), days_left: int = 365, **fields):
        values = {
            "name": "Server support",
            "vendor": vendor,
            "type": "support",
            "start_date": today - datetime.timedelta(days=30),
            "end_date": today + datetime.timedelta(days=days_left),
            "owner": cmdb_manager,
            **fields,
        }
        return contract_create(actor=cmdb_manager, fields=values, configuration_items=list(cis))

    return _make


def inventory(name: str) -> bytes:
    return (FIXTURES / f"glpi_inventory_{name}.json").read_bytes()
