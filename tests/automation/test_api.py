"""The rules and macros API: shape, permissions, validation (400 naming the index and field, nothing
saved), preview (reads only), apply_macro (all or nothing), audit history."""

from __future__ import annotations

import pytest

from automation.models import Macro, Rule
from core.models import Activity
from incidents.models import Incident

pytestmark = pytest.mark.django_db

RULES = "/api/v1/automation/rules/"
MACROS = "/api/v1/automation/macros/"


def rule_body(**overrides):
    body = {
        "name": "P1 network",
        "applies_to": "incident",
        "trigger": "created",
        "conditions": {"all": [{"field": "priority", "op": "eq", "value": 1}]},
        "actions": [{"type": "assign", "group": "network", "strategy": "round_robin"}],
        "order": 5,
        "active": True,
        "stop_processing": False,
    }
    body.update(overrides)
    return body


def test_admin_writes_agents_read_requesters_get_404(api_client, admin_user, agent, requester, trio):
    created = api_client(admin_user).post(RULES, rule_body(), format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert {k: data[k] for k in ("name", "applies_to", "trigger", "order", "fire_count")} == {
        "name": "P1 network",
        "applies_to": "incident",
        "trigger": "created",
        "order": 5,
        "fire_count": 0,
    }
    assert api_client(agent).get(RULES).status_code == 200
    assert api_client(agent).post(RULES, rule_body(name="x"), format="json").status_code == 403
    assert (
        api_client(agent).patch(f"{RULES}{data['id']}/", {"active": False}, format="json").status_code == 403
    )
    assert api_client(requester).get(RULES).status_code == 404
    assert api_client(requester).get(MACROS).status_code == 404
    assert api_client().get(RULES).status_code in (401, 403)


BAD = [
    ({"conditions": {"all": [{"field": "colour", "op": "eq", "value": 1}]}}, "conditions.all[0].field"),
    (
        {"conditions": {"all": [{"field": "priority", "op": "contains", "value": "1"}]}},
        "conditions.all[0].op",
    ),
    (
        {"conditions": {"any": [{"field": "state", "op": "eq", "value": "on_fire"}]}},
        "conditions.any[0].value",
    ),
    ({"actions": [{"type": "assign", "group": "nowhere", "strategy": "none"}]}, "actions[0].group"),
    (
        {"actions": [{"type": "assign", "group": "network"}, {"type": "comment", "body": "{% if %}"}]},
        "actions[1].body",
    ),
    (
        {"actions": [{"type": "set", "field": "state", "value": "resolved"}]},
        "actions[0].fields.resolution_code",
    ),
    ({"actions": [{"type": "assign", "group": "network", "strategy": "random"}]}, "actions[0].strategy"),
    ({"trigger": "time", "conditions": {"all": [{"op": "actor_is_caller"}]}}, "conditions.all[0].op"),
    ({"actions": [{"type": "set", "field": "colour", "value": 1}]}, "actions[0].field"),
    ({"actions": [{"type": "set", "field": "impact", "value": 9}]}, "actions[0].value"),
    ({"actions": [{"type": "set", "field": "priority", "value": 1}]}, "actions[0].field"),  # derived
    (
        {"conditions": {"all": [{"field": "updated_at", "op": "older_than", "value": "3 days"}]}},
        "conditions.all[0].value",
    ),
]


@pytest.mark.parametrize(("overrides", "path"), BAD)
def test_bad_rules_are_refused_naming_index_and_field(api_client, admin_user, trio, overrides, path):
    response = api_client(admin_user).post(RULES, rule_body(**overrides), format="json")
    assert response.status_code == 400
    assert path in response.json(), response.json()
    assert not Rule.objects.filter(name="P1 network").exists()


def test_bad_update_saves_nothing_and_changes_are_audited(api_client, admin_user, trio):
    client = api_client(admin_user)
    rule_id = client.post(RULES, rule_body(), format="json").json()["id"]
    bad = client.patch(
        f"{RULES}{rule_id}/", {"name": "renamed", "actions": [{"type": "nope"}]}, format="json"
    )
    assert bad.status_code == 400 and "actions[0].type" in bad.json()
    assert Rule.objects.get(pk=rule_id).name == "P1 network"
    assert client.patch(f"{RULES}{rule_id}/", {"order": 7}, format="json").status_code == 200
    history = Activity.objects.filter(content_type__model="rule", object_id=rule_id).order_by("id")
    assert [h.kind for h in history] == ["created", "field_change"]
    assert history[1].actor_name == "admin1"
    assert history[1].data["changes"] == [{"field": "order", "old": 5, "new": 7}]


def test_preview_lists_matches_and_changes_nothing(api_client, admin_user, agent, trio, open_incident):
    group, _ = trio
    hit = open_incident(impact=1, urgency=1)
    open_incident(impact=3, urgency=3)
    closed = open_incident(impact=1, urgency=1)
    Incident.objects.filter(pk=closed.pk).update(state="closed")
    client = api_client(admin_user)
    rule_id = client.post(RULES, rule_body(active=False), format="json").json()["id"]
    before = (
        Incident.objects.values_list("pk", "version", "assignment_group").order_by("pk"),
        Activity.objects.count(),
    )
    before = (list(before[0]), before[1])
    response = api_client(agent).post(f"{RULES}{rule_id}/preview/")
    assert response.status_code == 200
    assert response.json() == {"count": 1, "results": [hit.number]}
    unsaved = client.post(
        f"{RULES}preview/",
        {
            "applies_to": "incident",
            "trigger": "time",
            "conditions": {"all": [{"field": "priority", "op": "in", "value": [1, 5]}]},
        },
        format="json",
    )
    assert unsaved.json()["count"] == 2
    after = (
        list(Incident.objects.values_list("pk", "version", "assignment_group").order_by("pk")),
        Activity.objects.count(),
    )
    assert after == before
    assert Rule.objects.get(pk=rule_id).fire_count == 0


def macro_body(**overrides):
    body = {
        "name": "Password reset",
        "applies_to": "incident",
        "actions": [
            {"type": "comment", "body": "Your password for {{ number }} was reset.", "public": True},
            {
                "type": "set",
                "field": "state",
                "value": "resolved",
                "fields": {"resolution_code": "solved", "resolution_notes": "Password reset"},
            },
        ],
    }
    body.update(overrides)
    return body


def test_apply_macro_lands_all_actions(api_client, admin_user, agent, requester, open_incident):
    macro_id = api_client(admin_user).post(MACROS, macro_body(), format="json").json()["id"]
    incident = open_incident()
    response = api_client(agent).post(
        f"/api/v1/incidents/{incident.number}/apply_macro/", {"macro": macro_id}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "resolved"
    rows = Activity.objects.filter(content_type__model="incident", object_id=incident.pk, actor_name="agent1")
    assert {r.kind for r in rows if r.data.get("macro")} == {"comment", "state_change"}
    # Requesters cannot apply macros, not even on their own incident.
    other = open_incident()
    denied = api_client(requester).post(
        f"/api/v1/incidents/{other.number}/apply_macro/", {"macro": macro_id}, format="json"
    )
    assert denied.status_code == 404
    assert Incident.objects.get(pk=other.pk).state == "new"


def test_macro_is_all_or_nothing(api_client, admin_user, agent, open_incident, trio):
    group, _ = trio
    body = macro_body(
        actions=[
            {"type": "assign", "group": "network", "strategy": "none"},
            {"type": "comment", "body": "Done", "public": True},
            # Closing a new incident is not a legal move: the whole macro must roll back.
            {"type": "set", "field": "state", "value": "closed", "fields": {}},
        ]
    )
    macro_id = api_client(admin_user).post(MACROS, body, format="json").json()["id"]
    incident = open_incident()
    before = Activity.objects.filter(object_id=incident.pk, content_type__model="incident").count()
    response = api_client(agent).post(
        f"/api/v1/incidents/{incident.number}/apply_macro/", {"macro": macro_id}, format="json"
    )
    assert response.status_code == 400
    assert "actions[2]" in response.json()
    incident.refresh_from_db()
    assert incident.assignment_group is None and incident.version == 1
    assert Activity.objects.filter(object_id=incident.pk, content_type__model="incident").count() == before


def test_macro_validation_and_unknown_macro(api_client, admin_user, agent, open_incident):
    bad = api_client(admin_user).post(
        MACROS, macro_body(actions=[{"type": "notify", "to": "ghost", "subject": "x"}]), format="json"
    )
    assert bad.status_code == 400 and "actions[0].to" in bad.json()
    assert not Macro.objects.exists()
    incident = open_incident()
    missing = api_client(agent).post(
        f"/api/v1/incidents/{incident.number}/apply_macro/", {"macro": 999}, format="json"
    )
    assert missing.status_code == 400 and "macro" in missing.json()


def test_openapi_lists_the_automation_routes(api_client, admin_user):
    schema = api_client(admin_user).get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in (
        "/api/v1/automation/rules/",
        "/api/v1/automation/rules/{id}/preview/",
        "/api/v1/automation/macros/",
        "/api/v1/incidents/{number}/apply_macro/",
    ):
        assert path in paths, path
