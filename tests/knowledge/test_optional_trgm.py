"""Knowledge needs no extension: it migrates and searches, typos included, on a PostgreSQL without pg_trgm.

The embedded PostgreSQL that `make run` starts on a bare machine (PyPI pgserver) has no contrib extensions.
The last test migrates such a server for real and searches it; the others make any question about an
extension fail, to show search never asks (knowledge.lexicon does typo tolerance from indexed words).
"""

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.postgres.operations import CreateExtension
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from core import pg

ROOT = Path(__file__).resolve().parents[2]
LIST = "/api/v1/kb/articles/"


@pytest.fixture
def without_trgm(monkeypatch):
    def refuse(name, using="default"):
        raise AssertionError(f"search asked whether {name} exists")

    monkeypatch.setattr(pg, "has_extension", refuse)


def test_knowledge_migrations_create_no_mandatory_extension():
    """tests/test_tooling.py fails for any CreateExtension; knowledge uses only the optional operations."""
    operations = [
        operation
        for (app, _), migration in MigrationLoader(None, ignore_no_migrations=True).disk_migrations.items()
        if app == "knowledge"
        for operation in migration.operations
    ]
    assert not [op for op in operations if isinstance(op, CreateExtension)]
    assert any(isinstance(op, pg.CreateExtensionIfAvailable) and op.name == "pg_trgm" for op in operations)
    index = next(op for op in operations if isinstance(op, pg.RunSQLIfExtension))
    assert index.extension == "pg_trgm" and "gin_trgm_ops" in index.sql
    name, args, kwargs = index.deconstruct()
    assert (name, args) == ("RunSQLIfExtension", ["pg_trgm"])
    assert pg.RunSQLIfExtension(*args, **kwargs).sql == index.sql


@pytest.mark.django_db
def test_has_extension_reads_the_catalog_once_per_database(django_assert_num_queries):
    pg.clear_extension_cache()
    installed = pg.extension_installed(connection, "pg_trgm")  # True on the machine's, False on pgserver
    with django_assert_num_queries(1):
        assert pg.has_extension("pg_trgm") is installed
        assert pg.has_extension("pg_trgm") is installed
    with django_assert_num_queries(1):
        assert pg.has_extension("no_such_extension") is False
        assert pg.has_extension("no_such_extension") is False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'article_title_trgm_idx'")
        assert cursor.fetchone() is None, "typo tolerance needs no trigram index: 0005 drops it"


@pytest.mark.django_db
def test_search_needs_no_extension(without_trgm, api_client, agent, publish):
    printer = publish("Printer offline on floor 3", "Restart the spooler.")
    publish("VPN token expired", "Ask for a new token.")
    client = api_client(agent)
    # Full-text search does not need pg_trgm at all.
    page = client.get(LIST, {"search": "spooler"}).json()
    assert [row["number"] for row in page["results"]] == [printer.number] and page["count"] == 1
    # A word being typed finds the word it starts ("prin" is no stem of "printer").
    rows = client.get(LIST, {"search": "prin"}).json()["results"]
    assert [row["number"] for row in rows] == [printer.number]
    # A typo is corrected from the indexed words.
    rows = client.get(LIST, {"search": "pritner"}).json()["results"]
    assert [row["number"] for row in rows] == [printer.number]
    assert client.get("/api/v1/kb/suggest/", {"q": "print"}).json()["results"][0]["number"] == printer.number


@pytest.mark.django_db
def test_without_trgm_pages_and_global_search_answer(without_trgm, client, agent, publish):
    printer = publish("Printer offline on floor 3", "Restart the spooler.")
    client.force_login(agent)
    for url in ("/kb/?q=print", "/search/?q=print", "/search/?q=pritner", "/kb/?q=%26%7C%21"):
        assert client.get(url).status_code == 200, url
    assert printer.number in client.get("/kb/", {"q": "print"}).content.decode()


def _load_services():
    spec = importlib.util.spec_from_file_location(
        "itsm_scripts_services_kb", ROOT / "scripts" / "services.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


SEARCH_SCRIPT = """
import json
from accounts.models import User
from core.pg import has_extension
from knowledge import selectors
from knowledge.models import Article
author = User.objects.create_superuser("kb_embedded", password="pw")
Article.objects.create(number="KB0000001", title="Printer offline", body="Restart the spooler.",
                       state="published", author=author)
def found(text):
    return [a.number for a in selectors.search_articles(selectors.visible_articles(author), text)]
print(json.dumps({"trgm": has_extension("pg_trgm"), "words": found("spooler"), "substring": found("prin"),
                  "typo": found("pritner"), "syntax": found("&|!():*'")}))
"""


@pytest.mark.timeout(120)
def test_knowledge_migrates_and_searches_on_embedded_postgres_without_trgm(tmp_path):
    """What `make run` does on a bare machine: pgserver, then migrate; search then works without pg_trgm."""
    services = _load_services()
    server = services.EmbeddedPostgres(tmp_path / "pgdata")
    url = server.start()
    try:
        env = {**os.environ, "DATABASE_URL": url}
        python = sys.executable

        def manage(*args):
            return subprocess.run(
                [python, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=100
            )

        # Only knowledge and what it depends on: the rows below are written without services (no timeline).
        accounts = manage("migrate", "accounts", "--noinput")  # the user rows below need every column
        assert accounts.returncode == 0, accounts.stderr[-2000:]
        migrated = manage("migrate", "knowledge", "--noinput")
        assert migrated.returncode == 0, migrated.stderr[-2000:]
        assert "knowledge.0001_initial... OK" in migrated.stdout
        searched = manage("shell", "-c", SEARCH_SCRIPT)
        assert searched.returncode == 0, searched.stderr[-2000:]
        result = json.loads(searched.stdout.strip().splitlines()[-1])
        number = "KB0000001"
        assert result == {
            "trgm": False,
            "words": [number],
            "substring": [number],
            "typo": [number],
            "syntax": [],
        }
        import psycopg

        with psycopg.connect(url) as conn:
            indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes")}
            extensions = {row[0] for row in conn.execute("SELECT extname FROM pg_extension")}
        assert "pg_trgm" not in extensions
        assert {"article_search_idx", "article_title_search_idx"} <= indexes
        assert "article_title_trgm_idx" not in indexes
    finally:
        server.stop()
