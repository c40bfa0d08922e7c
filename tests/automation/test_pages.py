"""The automation pages: rule list, the htmx editor (rows, pickers, preview, save, 400 with row errors),
macros from a record's page and from a list's bulk bar."""

from __future__ import annotations

import pytest
from django.test import Client

from automation import services
from automation.models import Macro, Rule
from incidents.models import Incident

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_rule_list_for_agents_and_admins_only(agent, admin_user, requester, make_rule, trio):
    make_rule(name="Route P1", actions=[{"type": "assign", "group": "network", "strategy": "none"}])
    page = client_for(agent).get("/automation/")
    assert page.status_code == 200
    assert b"Route P1" in page.content and b"Last fired" in page.content and b"New rule" not in page.content
    assert b"New rule" in client_for(admin_user).get("/automation/").content
    assert client_for(requester).get("/automation/").status_code in (302, 404)
    assert client_for(agent).get("/automation/rules/new/").status_code == 404


def test_editor_rows_pick_fields_per_kind(admin_user, trio):
    client = client_for(admin_user)
    page = client.get("/automation/rules/new/")
    assert page.status_code == 200
    row = client.get(
        "/automation/rules/condition-row/",
        {"applies_to": "incident", "key": "k1", "cond-k1-field": "priority"},
    )
    assert b"1 - Critical" in row.content  # the priority picker offers its labels
    assert b'value="contains"' not in row.content  # not an operator for a choice
    group_row = client.get(
        "/automation/rules/action-row/", {"applies_to": "incident", "key": "a1", "act-a1-type": "assign"}
    )
    assert b"network" in group_row.content and b"Round robin" in group_row.content


def editor_post(**extra):
    data = {
        "name": "Network P1",
        "applies_to": "incident",
        "trigger": "created",
        "order": "5",
        "active": "1",
        "cond_row": ["c1"],
        "cond-c1-group": "all",
        "cond-c1-field": "priority",
        "cond-c1-op": "eq",
        "cond-c1-value": "1",
        "act_row": ["a1"],
        "act-a1-type": "assign",
        "act-a1-group": "network",
        "act-a1-strategy": "round_robin",
    }
    data.update(extra)
    return data


def test_editor_saves_previews_and_refuses_bad_rows(admin_user, trio, open_incident):
    client = client_for(admin_user)
    open_incident(impact=1, urgency=1)
    preview = client.post("/automation/rules/preview/", editor_post())
    assert preview.status_code == 200 and b"<strong>1</strong>" in preview.content
    assert not Rule.objects.filter(name="Network P1").exists()
    bad = client.post("/automation/rules/new/", editor_post(**{"act-a1-group": "nowhere"}))
    assert bad.status_code == 400
    assert b"There is no group" in bad.content and b'data-testid="row-error"' in bad.content
    assert not Rule.objects.filter(name="Network P1").exists()
    saved = client.post("/automation/rules/new/", editor_post())
    assert saved.status_code == 302
    rule = Rule.objects.get(name="Network P1")
    assert rule.conditions == {"all": [{"field": "priority", "op": "eq", "value": 1}]}
    assert rule.actions == [{"type": "assign", "group": "network", "strategy": "round_robin"}]
    edit = client.get(f"/automation/rules/{rule.pk}/")
    assert edit.status_code == 200 and b"History" in edit.content


def test_macro_from_detail_page_and_bulk(agent, admin_user, open_incident):
    macro = services.macro_save(
        actor=admin_user,
        data={
            "name": "Ask for logs",
            "applies_to": "incident",
            "actions": [{"type": "comment", "body": "Please send the logs of {{ number }}.", "public": True}],
        },
    )
    first, second = open_incident(), open_incident()
    client = client_for(agent)
    menu = client.get(f"/automation/macros/incident/{first.number}/menu/")
    assert b"Ask for logs" in menu.content
    applied = client.post(f"/automation/macros/incident/{first.number}/apply/", {"macro": macro.pk})
    assert applied.status_code == 302
    assert first.activities.filter(kind="comment", body=f"Please send the logs of {first.number}.").exists()
    assert b"Apply macro to selected" in client.get("/automation/macros/incident/bulk/").content
    bulk = client.post(
        "/automation/macros/incident/selected/apply/",
        {"macro": macro.pk, "selected": [first.number, second.number]},
    )
    assert bulk.status_code == 302
    assert Incident.objects.get(pk=second.pk).activities.filter(kind="comment").count() == 1
    page = client.get(f"/incidents/{first.number}/")
    assert b"macro: Ask for logs" in page.content
    assert Macro.objects.count() == 1
