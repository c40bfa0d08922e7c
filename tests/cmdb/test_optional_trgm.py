"""pg_trgm is optional for the CMDB (core.pg), and the CI picker tries cheap index-backed matches first.

The embedded PostgreSQL of `make run` (pgserver) has no contrib extensions: the migrations create the
trigram index only where pg_trgm exists, and autocomplete then offers exact and prefix matches only.
"""

import pytest
from django.contrib.postgres.operations import CreateExtension
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.urls import reverse

from cmdb import selectors
from core import pg


@pytest.fixture
def without_trgm(monkeypatch):
    monkeypatch.setattr(selectors, "has_extension", lambda name, using="default": False)


@pytest.fixture
def named(make_ci):
    return {
        "prefix": make_ci("Web-01", serial_number="SN-1"),
        "prefix_lower": make_ci("web-02"),
        "inside": make_ci("old-web-03"),
        "serial": make_ci("zzz", serial_number="web"),
        "other": make_ci("db-01"),
        "app": make_ci("webshop", "application"),
    }


def test_cmdb_migrations_create_pg_trgm_and_its_index_only_where_available():
    operations = [
        operation
        for (app, _), migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items()
        if app == "cmdb"
        for operation in migration.operations
    ]
    assert not [op for op in operations if isinstance(op, CreateExtension)]
    assert any(isinstance(op, pg.CreateExtensionIfAvailable) and op.name == "pg_trgm" for op in operations)
    trigram_sql = [op for op in operations if isinstance(op, pg.RunSQLIfExtension)]
    assert trigram_sql and all(op.extension == "pg_trgm" for op in trigram_sql)


@pytest.mark.django_db
def test_where_pg_trgm_exists_the_name_trigram_index_serves_icontains():
    """Django's icontains is `UPPER(name::text) LIKE ...`: the index must be on that expression."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'cmdb_configurationitem'"
        )
        indexes = dict(cursor.fetchall())
    assert (
        "gin_trgm_ops" in indexes["ci_name_upper_trgm_idx"] and "upper" in indexes["ci_name_upper_trgm_idx"]
    )
    assert "ci_name_trgm_idx" not in indexes
    assert "ci_name_prefix_idx" in indexes


def test_autocomplete_exact_serial_then_prefix_then_substring(agent, named, django_assert_max_num_queries):
    with django_assert_max_num_queries(5):  # role check, serial/id, prefix, has_extension (cached), substring
        found = selectors.autocomplete_cis(agent, "web")
    assert [ci.name for ci in found] == ["zzz", "Web-01", "web-02", "webshop", "old-web-03"]
    assert [ci.name for ci in selectors.autocomplete_cis(agent, "web", limit=3)] == [
        "zzz",
        "Web-01",
        "web-02",
    ]
    assert [ci.name for ci in selectors.autocomplete_cis(agent, "web", ci_class="application")] == ["webshop"]
    assert [ci.name for ci in selectors.autocomplete_cis(agent, str(named["other"].pk))] == ["db-01"]
    assert [ci.name for ci in selectors.autocomplete_cis(agent, "SN-1")] == ["Web-01"]
    # Two characters: no trigram to search with, so prefix matches only.
    assert [ci.name for ci in selectors.autocomplete_cis(agent, "eb")] == []
    assert selectors.autocomplete_cis(agent, "   ") == []


def test_without_pg_trgm_autocomplete_offers_prefix_matches(without_trgm, agent, requester, client, named):
    assert [ci.name for ci in selectors.autocomplete_cis(agent, "web")] == [
        "zzz",
        "Web-01",
        "web-02",
        "webshop",
    ]
    client.force_login(requester)  # requesters see applications and business services only
    rows = client.get(reverse("ci-autocomplete"), {"q": "WEB"}).json()["results"]
    assert [row["name"] for row in rows] == ["webshop"]
    # The list's text filter still finds substrings (a sequential scan without the trigram index).
    client.force_login(agent)
    page = client.get(reverse("ci-list"), {"q": "old-web"})
    assert page.status_code == 200 and b"old-web-03" in page.content
