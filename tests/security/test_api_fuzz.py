"""API fuzzing with the Schemathesis CLI, every phase and every check, as requester, agent and admin.

The same run an outsider makes: `schemathesis run` against a live server reading our own OpenAPI schema, with
the examples, coverage, fuzzing and stateful phases and `--checks all`. A server error, a response or status
the schema does not document, an undocumented content type or an invalid request accepted fails the test.

Schema-valid requests name records that exist (fuzz_hooks.py seeds them; what only stored state decides is
listed in schemathesis.toml), so `positive_data_acceptance` and `negative_data_rejection` run for every
role too. The budget (FUZZ_EXAMPLES, default 1 per operation and phase; the coverage phase adds its boundary
values regardless) keeps `make test` within minutes; bench/api_fuzz.py is the long run.

The server is a real gunicorn on the test database (bench.gunicorn_server), as in a deployment.

Destructive operations on the test's own accounts are guarded here, not switched off in the product: the
admin role runs last, the product refuses to let an admin lock itself out (409), and each role has its own
token so one role's run cannot sign another out.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from accounts.services import issue_token
from bench.gunicorn_server import gunicorn_app

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "1"))
ROLES = os.environ.get("FUZZ_ROLES", "requester,agent,admin").split(",")
SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")
ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
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
    base_url: str, token: str, report_dir: Path, known: dict, examples: int = EXAMPLES
) -> tuple[int, str]:
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(CONFIG),
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
    environment = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.security.fuzz_hooks",
        "PYTHONPATH": str(ROOT),
        "FUZZ_KNOWN": json.dumps(known),
    }
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=600 + 300 * examples, cwd=report_dir, env=environment
    )
    output = finished.stdout + finished.stderr
    (report_dir / "schemathesis-output.txt").write_text(output)  # the whole report, for a failed run
    return finished.returncode, output


def build_fuzz_world() -> tuple[dict[str, str], dict]:
    """Each role's token, and the records a schema-valid body may name (FUZZ_KNOWN, read by fuzz_hooks).
    A plain function, so that the long run in bench/api_fuzz.py builds the same world."""
    from django.contrib.auth.models import Group
    from django.utils import timezone

    from accounts.models import AssignmentGroup, User
    from accounts.roles import ensure_role_groups
    from automation.models import KIND_CHOICES, Macro
    from changes.api.serializers import ChangeSerializer
    from changes.models import ChangeTemplate
    from cmdb.ci_classes import ensure_default_classes
    from cmdb.models import CIClass
    from cmdb.services import create_ci
    from contracts.services import contract_create, software_save, vendor_save
    from incidents.api.serializers import IncidentSerializer
    from incidents.models import Category
    from incidents.services import incident_create
    from knowledge.models import Category as KnowledgeCategory
    from problems.api.serializers import ProblemSerializer
    from problems.services import problem_create
    from requests_app.api.serializers import RequestSerializer, TaskSerializer
    from requests_app.models import CatalogCategory, CatalogItem

    ensure_role_groups()
    ensure_default_classes()
    group = AssignmentGroup.objects.create(name="fuzz-group")

    def user(username: str, role: str | None = None) -> User:
        created = User.objects.create_user(username, email=f"{username}@example.com", password="pw")
        if role:
            created.groups.add(Group.objects.get(name=role))
            group.members.add(created)
        return created

    users = {
        "requester": user("fuzzrequester"),
        "agent": user("fuzzagent", "agent"),
        "admin": user("fuzzadmin", "admin"),
    }
    user("spareadmin", "admin")  # the suite is never down to one admin mid-run
    cab_member = user("fuzzcab", "cab_member")
    agent = users["agent"]
    incident = incident_create(
        actor=users["requester"], short_description="fuzz target", assignment_group=group
    )
    ci_class = CIClass.objects.order_by("name").first()
    vendor = vendor_save(actor=agent, fields={"name": "Fuzz vendor"})
    today = timezone.localdate()
    ci = create_ci(actor=agent, fields={"name": "fuzz-server", "ci_class": ci_class})
    known = {
        "group": group.name,
        "agent": agent.username,
        "cab_member": cab_member.username,
        "incident": incident.number,
        "problem": problem_create(actor=agent, short_description="fuzz problem").number,
        "ci": ci.pk,
        "ci_name": ci.name,
        "ci_class": ci_class.name,
        "category": Category.objects.create(name="fuzz-category", label="Fuzz category").name,
        "kb_category": KnowledgeCategory.objects.create(name="fuzz-kb", label="Fuzz articles").name,
        "catalog_item": CatalogItem.objects.create(
            name="Fuzz item", category=CatalogCategory.objects.create(name="Fuzz catalog")
        ).pk,
        "catalog_category": "Fuzz catalog",
        "other_ci": create_ci(actor=agent, fields={"name": "fuzz-database", "ci_class": ci_class}).pk,
        "vendor": vendor.pk,
        "contract": contract_create(
            actor=agent,
            fields={"name": "Fuzz support", "vendor": vendor, "start_date": today, "end_date": today},
        ).number,
        "software": software_save(actor=agent, fields={"name": "Fuzz software"}).pk,
        "macros": {
            kind: Macro.objects.create(
                name=f"Fuzz {kind} macro", applies_to=kind, actions=[{"type": "comment", "body": "fuzz"}]
            ).pk
            for kind, _label in KIND_CHOICES
        },
        "change_template": ChangeTemplate.objects.create(name="Fuzz template", short_description="Fuzz").pk,
    }
    # The schema is the same for every role; which fields a requester may set is not in it.
    known["requester_writable"] = {
        f"/api/v1/{prefix}/": serializer.Meta.requester_writable_fields
        for prefix, serializer in (
            ("incidents", IncidentSerializer),
            ("requests", RequestSerializer),
            ("tasks", TaskSerializer),
            ("problems", ProblemSerializer),
            ("changes", ChangeSerializer),
        )
    }
    tokens = {role: issue_token(user=user).key for role, user in users.items()}
    return tokens, known


def fuzz_every_role(tokens: dict[str, str], known: dict, folder: Path, examples: int = EXAMPLES) -> dict:
    """role → (exit code, report) of one Schemathesis run per role against a fresh gunicorn."""
    results = {}
    with gunicorn_app(workers=2) as base_url:
        for role in ROLES:  # admin last: its writes change what others see
            (folder / role).mkdir()
            results[role] = run_schemathesis(
                base_url, tokens[role], folder / role, known | {"role": role}, examples
            )
    return results


@pytest.fixture
def fuzz_world(transactional_db):
    return build_fuzz_world()


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("serial")
def test_every_phase_and_check_as_every_role(fuzz_world, tmp_path):
    tokens, known = fuzz_world
    results = fuzz_every_role(tokens, known, tmp_path)
    failed = {role: output for role, (code, output) in results.items() if code != 0}
    summary = "\n\n".join(
        f"=== {role} (whole report: {tmp_path / role / 'schemathesis-output.txt'})\n{output[-6000:]}"
        for role, output in failed.items()
    )
    assert not failed, f"Schemathesis found problems:\n{summary}"
