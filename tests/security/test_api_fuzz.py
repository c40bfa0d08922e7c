"""API fuzzing: schemathesis generates requests from our own OpenAPI schema and sends them, in process,
as an agent and as a requester. No request may end in a 5xx, and every documented response must match
the schema. The example count is bounded for `make test`; FUZZ_EXAMPLES=200 runs the long version.
"""

import json
import os

import pytest
import schemathesis
from django.core.serializers.json import DjangoJSONEncoder
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error, response_schema_conformance

from accounts.services import issue_token

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))

_raw = SchemaGenerator().get_schema(request=None, public=True)
schema = schemathesis.openapi.from_dict(json.loads(json.dumps(_raw, cls=DjangoJSONEncoder)))
schema.app = get_wsgi_application()

# Every API operation is fuzzed, except the token endpoint (fuzzing it would trip the login throttle,
# which has its own tests) and the docs pages.
fuzzed = schema.exclude(path_regex=r"^/api/v1/(auth/token/|schema/|docs/|redoc/)")


@pytest.fixture
def in_process_requests():
    """Requests go straight into Django's WSGI handler inside the test's transaction; like Django's test
    client, stop the handler from closing that connection at the end of each request."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def fuzz_users(make_user, make_group, in_process_requests):
    from incidents.services import incident_create

    group = make_group("fuzz-group")
    agent = make_user("fuzzagent", roles=["agent"], groups=[group])
    requester = make_user("fuzzrequester")
    incident_create(actor=requester, short_description="fuzz target", assignment_group=group)
    return {
        "agent": issue_token(user=agent).key,
        "requester": issue_token(user=requester).key,
    }


@pytest.mark.django_db
@pytest.mark.xdist_group("serial")
@fuzzed.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@pytest.mark.parametrize("role", ["agent", "requester"])
def test_no_server_errors_and_responses_match_the_schema(case, role, fuzz_users):
    case.call_and_validate(
        headers={"Authorization": f"Token {fuzz_users[role]}"},
        checks=[not_a_server_error, response_schema_conformance],
        excluded_checks=[],
    )
