"""The suite names what the database lacks (core.capabilities) in /health/ and in `make run`'s banner.

An absent capability is simulated by asking for an extension no server has; on the embedded pass of
`make test` (pgserver, no pg_trgm) the real pg_trgm line shows up as well.
"""

import importlib.util
import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from core import capabilities, pg

ROOT = Path(__file__).resolve().parents[2]
ABSENT = ("no_such_extension", "search", "no imaginary ranking: no_such_extension missing")


def _run_module():
    spec = importlib.util.spec_from_file_location("itsm_scripts_run_caps", ROOT / "scripts" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    return module


def _expected_real() -> dict[str, str]:
    return {} if pg.has_extension("pg_trgm") else {"cmdb": capabilities.OPTIONAL_EXTENSIONS[0][2]}


@pytest.fixture
def absent_extension(monkeypatch):
    monkeypatch.setattr(capabilities, "OPTIONAL_EXTENSIONS", [*capabilities.OPTIONAL_EXTENSIONS, ABSENT])
    pg.clear_extension_cache()
    yield
    pg.clear_extension_cache()


@pytest.mark.django_db
def test_health_reports_nothing_missing_beyond_what_the_server_lacks(client):
    body = client.get("/health/").json()
    assert body["database"] == "ok"
    assert body["missing"] == _expected_real()


@pytest.mark.django_db
def test_health_names_an_absent_extension(client, absent_extension):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json()["missing"] == {**_expected_real(), "search": ABSENT[2]}


@pytest.mark.django_db
def test_banner_names_an_absent_extension(absent_extension):
    out = io.StringIO()
    call_command("capabilities", "--json", stdout=out)
    missing = json.loads(out.getvalue())
    assert missing["search"] == ABSENT[2]
    run = _run_module()
    lines = run.banner(
        8000,
        "database: embedded",
        [("admin", "admin", "admin")],
        [f"{area}: {loss}" for area, loss in missing.items()],
    )
    text = "\n".join(lines)
    assert "The database lacks" in text and f"search: {ABSENT[2]}" in text
    assert "The database lacks" not in "\n".join(run.banner(8000, "database: machine", [], []))
    out = io.StringIO()
    call_command("capabilities", stdout=out)
    assert f"search: {ABSENT[2]}" in out.getvalue()
