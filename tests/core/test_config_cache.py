"""Configuration caches (core.config_cache) seen from a web request, and the assignment-group cache that
API writes resolve group names with (accounts.selectors): fast, yet never stale past the next request."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from rest_framework.test import APIClient

from accounts.models import AssignmentGroup
from accounts.services import issue_token
from core import config_cache
from incidents.models import Incident

pytestmark = pytest.mark.django_db(transaction=True)


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {issue_token(user=user).key}")
    return client


def open_in(client, group: str):
    return client.post("/api/v1/incidents/", {"short_description": "Printer jam", "assignment_group": group})


def test_group_changes_apply_to_the_next_request(make_user, make_group):
    client = token_client(make_user("agent", roles=["agent"]))
    assert open_in(client, "network").json() == {
        "assignment_group": ["Object with name=network does not exist."]
    }
    network = make_group("network")
    assert open_in(client, "network").status_code == 201
    network.active = False
    network.save()
    response = open_in(client, "network")
    assert response.status_code == 400 and "assignment_group" in response.json()
    network.name, network.active = "net-ops", True
    network.save()
    assert open_in(client, "net-ops").json()["assignment_group"] == "net-ops"
    assert Incident.objects.filter(assignment_group=network).count() == 2


def test_a_group_change_made_by_another_process_is_seen(make_user, make_group):
    client = token_client(make_user("agent", roles=["agent"]))
    make_group("network")
    assert open_in(client, "network").status_code == 201
    AssignmentGroup.objects.filter(name="network").update(active=False)  # no signal here...
    cache.set(config_cache.STAMP_KEY, "another-process", None)  # ...only the stamp it publishes
    assert open_in(client, "network").status_code == 400


def test_an_api_create_reads_no_group_row(make_user, make_group, django_assert_num_queries):
    """Token (with user and roles), BEGIN, the incident, its timeline row, COMMIT: the group comes from
    the cache once warm. (The caller has no mail address, so no confirmation mail is queued.)"""
    client = token_client(make_user("agent", roles=["agent"], email=""))
    make_group("network")
    assert open_in(client, "network").status_code == 201
    with django_assert_num_queries(5):
        assert open_in(client, "network").status_code == 201


def test_the_stamp_is_read_once_per_request_and_a_change_of_its_own_applies_at_once():
    request_started.send(sender=None)
    try:
        first = config_cache.current_stamp()
        cache.set(config_cache.STAMP_KEY, "changed-by-another-process", None)
        assert config_cache.current_stamp() == first  # the rest of this request keeps its view
        config_cache._stamp_committed()  # this request commits a configuration change itself
        mine = config_cache.current_stamp()
        assert mine not in (first, "changed-by-another-process")
    finally:
        request_finished.send(sender=None)
    cache.set(config_cache.STAMP_KEY, "next", None)
    assert config_cache.current_stamp() == "next"  # outside a request: every read asks Redis


def test_every_process_watches_the_configuration_from_its_start():
    """A process that never read a cache (a worker, a management command) must still publish a new stamp
    when it changes configuration, so each cache's invalidation is registered when Django starts."""
    script = (
        "import django; django.setup()\n"
        "from django.db.models.signals import post_save\n"
        "from accounts.models import AssignmentGroup\n"
        "from integrations.models import Webhook\n"
        "from sla.models import SLADefinition\n"
        "print(all(post_save.has_listeners(m) for m in (AssignmentGroup, Webhook, SLADefinition)))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "itsm.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True", result.stderr
