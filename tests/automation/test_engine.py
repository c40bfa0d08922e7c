"""Event rules: assignment strategies, failures, loops, conditions on changes, the out-of-the-box rules."""

from __future__ import annotations

from collections import Counter

import pytest

from automation.models import Rule
from core.models import Activity
from incidents.models import Incident
from incidents.services import incident_comment, incident_transition, incident_update

pytestmark = pytest.mark.django_db


def timeline(incident):
    return list(Activity.objects.filter(object_id=incident.pk, content_type__model="incident").order_by("id"))


def test_round_robin_spreads_six_tickets_over_three_members(trio, make_rule, api_client, agent):
    group, members = trio
    make_rule(actions=[{"type": "assign", "group": "network", "strategy": "round_robin"}])
    client = api_client(agent)
    assignees = []
    for i in range(6):
        response = client.post("/api/v1/incidents/", {"short_description": f"Down {i}"}, format="json")
        assert response.status_code == 201, response.content
        # The API answers with the rule's effect: the write and the rule are one transaction.
        assert response.json()["assignment_group"] == "network"
        assignees.append(response.json()["assigned_to"])
    assert Counter(assignees) == {"net1": 2, "net2": 2, "net3": 2}
    assert assignees[:3] == ["net1", "net2", "net3"]


def test_least_loaded_picks_the_member_with_fewest_open_tickets(trio, make_rule, open_incident):
    group, (a, b, c) = trio
    for user, count in ((a, 3), (b, 4), (c, 2)):
        for _ in range(count):
            open_incident(short_description="busy", assignment_group=group, assigned_to=user)
    # Done and closed work does not count: three of b's four are resolved or closed, leaving b 1 open.
    done = Incident.objects.filter(assigned_to=b).order_by("pk")[:3]
    Incident.objects.filter(pk__in=[i.pk for i in done[:2]]).update(state="resolved")
    Incident.objects.filter(pk=done[2].pk).update(state="closed")
    make_rule(
        conditions={"all": [{"field": "assignment_group", "op": "is_empty"}]},
        actions=[{"type": "assign", "group": "network", "strategy": "least_loaded"}],
    )
    first = open_incident()
    assert first.assigned_to == b
    second = open_incident()
    assert second.assigned_to in (b, c)  # b and c now both have 2 open; ties go by username
    assert second.assigned_to == b


def test_timeline_names_the_rule_and_the_automation_actor(
    trio, make_rule, open_incident, django_capture_on_commit_callbacks
):
    rule = make_rule(
        name="Network desk", actions=[{"type": "assign", "group": "network", "strategy": "none"}]
    )
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_incident()
    assignment = [a for a in timeline(incident) if a.kind == "assignment"]
    assert assignment and assignment[0].actor_name == "automation"
    assert assignment[0].data["rule"] == {"id": rule.pk, "name": "Network desk"}
    rule.refresh_from_db()
    assert rule.fire_count == 1 and rule.last_fired_at is not None


def test_failing_action_leaves_the_write_intact_and_a_timeline_entry(
    trio, make_rule, open_incident, requester, django_capture_on_commit_callbacks
):
    group, _ = trio
    make_rule(
        name="Resolve at once",
        actions=[
            {"type": "assign", "group": "network", "strategy": "none"},
            # A caller with no e-mail: nobody to notify, so the rule fails after its first action.
            {"type": "notify", "to": "caller", "subject": "hi", "body": "x"},
        ],
    )
    requester.email = ""
    requester.save()
    with django_capture_on_commit_callbacks(execute=True):
        incident = open_incident(short_description="Still created")
    incident.refresh_from_db()
    assert incident.pk and incident.short_description == "Still created"
    # The failing rule's earlier action was undone with it (a rule is all or nothing).
    assert incident.assignment_group is None
    failure = [a for a in timeline(incident) if a.kind == "system"]
    assert len(failure) == 1
    assert "Resolve at once" in failure[0].body and "action 2 (notify)" in failure[0].body
    rule = Rule.objects.get(name="Resolve at once")
    assert rule.last_error and rule.fire_count == 1


def test_rules_do_not_loop(trio, make_rule, open_incident, agent):
    group, _ = trio
    # Two rules that keep undoing each other, and one that re-triggers itself on every update.
    make_rule(
        name="ping",
        trigger="updated",
        conditions={"all": [{"field": "impact", "op": "eq", "value": 3}]},
        actions=[{"type": "set", "field": "impact", "value": 2}],
    )
    make_rule(
        name="pong",
        trigger="updated",
        conditions={"all": [{"field": "impact", "op": "eq", "value": 2}]},
        actions=[{"type": "set", "field": "impact", "value": 3}],
    )
    make_rule(
        name="self",
        trigger="updated",
        actions=[{"type": "comment", "body": "touched {{ number }}", "public": False}],
    )
    incident = open_incident()
    incident_update(incident, actor=agent, changes={"short_description": "edited"})
    incident.refresh_from_db()
    # person's update → ping (level 1) → pong (level 2) → nothing more.
    assert incident.impact == 3
    comments = [a for a in timeline(incident) if a.kind == "comment"]
    # "self" ran once at level 1 for the person's update, and once at level 2 for ping's update.
    assert len(comments) == 2


def test_changed_to_and_actor_is_caller(make_rule, open_incident, agent, requester):
    make_rule(
        name="on hold note",
        trigger="state_changed",
        conditions={"all": [{"field": "state", "op": "changed_to", "value": "on_hold"}]},
        actions=[{"type": "comment", "body": "Waiting on {{ caller }}", "public": True}],
    )
    incident = open_incident()
    incident_transition(incident, to="in_progress", actor=agent)
    assert not [a for a in timeline(incident) if a.kind == "comment"]
    incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_vendor"})
    comments = [a.body for a in timeline(incident) if a.kind == "comment"]
    assert comments == ["Waiting on requester1"]


def test_out_of_the_box_routing_and_caller_replies(
    builtin_rules, service_desk, open_incident, agent, requester
):
    incident = open_incident()
    assert incident.assignment_group == service_desk
    incident_transition(incident, to="on_hold", actor=agent, fields={"hold_reason": "awaiting_caller"})
    incident_comment(incident, actor=agent, body="Any news?")  # an agent's comment changes nothing
    assert Incident.objects.get(pk=incident.pk).state == "on_hold"
    incident_comment(incident, actor=requester, body="Here is the log")
    assert Incident.objects.get(pk=incident.pk).state == "in_progress"
    incident_transition(
        Incident.objects.get(pk=incident.pk),
        to="resolved",
        actor=agent,
        fields={"resolution_code": "solved", "resolution_notes": "fixed"},
    )
    incident_comment(incident, actor=requester, body="Still broken")
    reopened = Incident.objects.get(pk=incident.pk)
    assert reopened.state == "in_progress" and reopened.resolved_at is None
    moves = [a for a in timeline(incident) if a.kind == "state_change" and a.actor_name == "automation"]
    assert [m.data["rule"]["name"] for m in moves] == [
        "Caller replied: back to in progress",
        "Caller replied: reopen resolved incident",
    ]


def test_out_of_the_box_routing_by_category(
    builtin_rules, service_desk, make_group, open_incident, admin_user
):
    from automation.services import rule_save
    from incidents.models import Category

    network = make_group("network")
    category = Category.objects.create(name="network", label="Network")
    rule = builtin_rules["route-unassigned"]
    action = {**rule.actions[0], "by_category": {"network": "network"}}
    rule_save(actor=admin_user, rule=rule, data={"actions": [action]})
    assert open_incident(category=category).assignment_group == network
    assert open_incident().assignment_group == service_desk
    # An explicit group is left alone.
    assert open_incident(assignment_group=network).assignment_group == network
