import pytest

from cmdb.models import ConfigurationItem, Relationship
from tests.factories import CIClassFactory, ConfigurationItemFactory, RelationshipFactory


@pytest.fixture
def make_ci(db):
    """Create CIs directly (graph tests do not need the services' history)."""

    def _make(name: str, ci_class: str = "server", **fields) -> ConfigurationItem:
        return ConfigurationItemFactory(name=name, ci_class=CIClassFactory(name=ci_class), **fields)

    return _make


@pytest.fixture
def relate(db):
    def _relate(source, rel_type, target) -> Relationship:
        return RelationshipFactory(source=source, target=target, type=rel_type)

    return _relate


@pytest.fixture
def cmdb_manager(make_user):
    return make_user("cora", roles=["cmdb_manager", "agent"])


@pytest.fixture
def shop(make_ci, relate):
    """Online shop → app → vm → server; app → database → db server; servers connected to a switch."""
    cis = {
        "shop": make_ci("Online shop", "business_service"),
        "app": make_ci("Shop app", "application"),
        "vm": make_ci("vm-shop", "virtual_machine"),
        "esx": make_ci("srv-esx", "server"),
        "db": make_ci("shopdb", "database"),
        "dbsrv": make_ci("srv-db", "server"),
        "switch": make_ci("sw-core", "network_device"),
    }
    relate(cis["shop"], "depends_on", cis["app"])
    relate(cis["app"], "runs_on", cis["vm"])
    relate(cis["vm"], "runs_on", cis["esx"])
    relate(cis["app"], "depends_on", cis["db"])
    relate(cis["db"], "runs_on", cis["dbsrv"])
    relate(cis["esx"], "connected_to", cis["switch"])
    relate(cis["dbsrv"], "connected_to", cis["switch"])
    return cis
