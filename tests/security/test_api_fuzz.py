"""API fuzzing with the Schemathesis CLI, every phase and every check, as requester, agent and admin.

The same run an outsider makes: `schemathesis run` against a live server reading our own OpenAPI schema, with
the examples, coverage, fuzzing and stateful phases and `--checks all`. A server error, a response or status
the schema does not document, an undocumented content type or an invalid request accepted fails the test.

Two checks are left out, for reasons no schema can fix: `positive_data_acceptance` expects every schema-valid
request to succeed, but a valid-looking username, CI id or ticket number that does not exist is rightly a 400
(the schema cannot list the database); `negative_data_rejection` counts `?assigned_to=false` or a repeated
`?page_size=` as a wrongly typed value that had to be refused, but a query string carries only text (`false`
is a legitimate username) and repeating a parameter is how several values are sent. Wrongly typed JSON bodies,
which that check is about, are refused and tested in test_hostile_input.py. The budget (FUZZ_EXAMPLES, default 1 per operation and phase; the
coverage phase adds its boundary values regardless) keeps `make test` within minutes;
`FUZZ_EXAMPLES=20 PYTEST_ARGS=tests/security/test_api_fuzz.py make test` is the long run.

The server is a real gunicorn on the test database (bench.gunicorn_server), as in a deployment.

Destructive operations on the test's own accounts are guarded here, not switched off in the product: the
admin role runs last, the product refuses to let an admin lock itself out (409), and each role has its own
token so one role's run cannot sign another out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from accounts.services import issue_token
from bench.gunicorn_server import gunicorn_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
EXCLUDED_PATHS = (
    r"^/api/v1/(auth/token/|schema/|docs/|redoc/)"  # the login throttle has its own tests; docs pages
)


def fetch_schema(base_url: str, token: str, folder: Path) -> Path:
    """The server's schema, fetched once with a patient timeout (generating it takes seconds on a busy
    machine, more than Schemathesis waits) and handed to each run as a file."""
    response = httpx.get(
        f"{base_url}/api/v1/schema/?format=json", headers={"Authorization": f"Token {token}"}, timeout=120
    )
    response.raise_for_status()
    path = folder / "schema.json"
    path.write_bytes(response.content)
    return path


def run_schemathesis(
    base_url: str, token: str, report_dir: Path, examples: int = EXAMPLES
) -> tuple[int, str]:
    command = [
        SCHEMATHESIS,
        "run",
        str(fetch_schema(base_url, token, report_dir)),
        "--url",
        base_url,
        "--request-timeout",
        "30",
        "--header",
        f"Authorization: Token {token}",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance,negative_data_rejection",
        "--max-examples",
        str(examples),
        "--exclude-path-regex",
        EXCLUDED_PATHS,
        "--seed",
        "26",
        "--no-color",
        "--report-dir",
        str(report_dir),
    ]
    finished = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=report_dir)
    return finished.returncode, finished.stdout + finished.stderr


@pytest.fixture
def fuzz_world(transactional_db, make_user, make_group):
    from incidents.services import incident_create

    group = make_group("fuzz-group")
    users = {
        "requester": make_user("fuzzrequester"),
        "agent": make_user("fuzzagent", roles=["agent"], groups=[group]),
        "admin": make_user("fuzzadmin", roles=["admin"], groups=[group]),
    }
    make_user("spareadmin", roles=["admin"])  # the suite is never down to one admin mid-run
    incident_create(actor=users["requester"], short_description="fuzz target", assignment_group=group)
    return {role: issue_token(user=user).key for role, user in users.items()}


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("serial")
def test_every_phase_and_check_as_every_role(fuzz_world, tmp_path):
    results = {}
    with gunicorn_app(workers=2) as base_url:
        for role in ("requester", "agent", "admin"):  # admin last: its writes change what others see
            results[role] = run_schemathesis(base_url, fuzz_world[role], tmp_path)
    failed = {role: output for role, (code, output) in results.items() if code != 0}
    summary = "\n\n".join(f"=== {role}\n{output[-6000:]}" for role, output in failed.items())
    assert not failed, f"Schemathesis found problems:\n{summary}"
