"""Autocomplete pickers (core.pickers, `GET /pick/<source>/?q=`): what each role is offered, that a picked
name is what the forms accept, a fixed number of queries per request, and an index behind each search."""

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from core.forms import BulkActionForm
from incidents.forms import IncidentForm
from incidents.models import Incident
from incidents.services import incident_create
from tests.factories import CIClassFactory, ConfigurationItemFactory


def pick(client, source, q, status=200):
    response = client.get(reverse("picker", kwargs={"source": source}), {"q": q})
    assert response.status_code == status, response.content[:300]
    return response.json()["results"] if status == 200 else None


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def requester_client(requester):
    client = Client()
    client.force_login(requester)
    return client


@pytest.fixture
def people(make_user, make_group):
    network = make_group("network-ops")
    make_group("netbackup")
    return {
        "bob": make_user(
            "bob.builder", roles=["agent"], groups=[network], first_name="Robert", last_name="Builder"
        ),
        "nina": make_user("nina", first_name="Nina", last_name="Netherwood"),
        "gone": make_user("nelly", first_name="Nelly", is_active=False),
    }


@pytest.fixture
def cis(db):
    server = CIClassFactory(name="server", label="Server")
    service = CIClassFactory(name="business_service", label="Business service")
    app = CIClassFactory(name="application", label="Application")
    return {
        "server": ConfigurationItemFactory(name="payroll", ci_class=server),
        "app": ConfigurationItemFactory(name="payroll", ci_class=app),
        "service": ConfigurationItemFactory(name="payroll-service", ci_class=service),
        "db": ConfigurationItemFactory(name="db-payroll-01", ci_class=server, serial_number="SN-77"),
    }


def test_user_picker_matches_username_first_and_last_name_prefixes(agent_client, people):
    assert [r["value"] for r in pick(agent_client, "user", "ni")] == ["nina"]  # first name
    assert [r["value"] for r in pick(agent_client, "user", "NETHER")] == ["nina"]  # last name, any case
    assert pick(agent_client, "user", "bob") == [
        {"value": "bob.builder", "label": "Robert Builder", "detail": "bob.builder"}
    ]
    assert pick(agent_client, "user", "nelly") == []  # inactive users are never offered
    assert pick(agent_client, "user", "   ") == []
    # The agent picker (assignee fields) offers agents only.
    assert [r["value"] for r in pick(agent_client, "agent", "n")] == []
    assert [r["value"] for r in pick(agent_client, "agent", "rob")] == ["bob.builder"]


def test_group_picker(agent_client, people):
    assert [r["value"] for r in pick(agent_client, "group", "NET")] == ["netbackup", "network-ops"]


def test_ci_picker_writes_name_and_class_and_the_forms_read_it_back(agent_client, agent, cis):
    results = pick(agent_client, "ci", "payr")
    # Prefix matches first (by name), then names containing the text (pg_trgm).
    assert [r["value"] for r in results] == [
        "payroll (Server)",
        "payroll (Application)",
        "payroll-service (Business service)",
        "db-payroll-01 (Server)",
    ]
    assert results[0]["label"] == "payroll" and results[0]["detail"] == "Server"
    assert [r["value"] for r in pick(agent_client, "ci", "SN-77")] == ["db-payroll-01 (Server)"]  # serial
    assert [r["value"] for r in pick(agent_client, "service", "pay")] == [
        "payroll-service (Business service)"
    ]

    def form(value):
        return IncidentForm(
            data={
                "short_description": "Payroll slow",
                "impact": 3,
                "urgency": 3,
                "configuration_items": value,
            }
        )

    bound = form("payroll (Server), db-payroll-01 (Server), payroll-service")
    assert bound.is_valid(), bound.errors
    assert bound.cleaned_data["configuration_items"] == [cis["server"], cis["db"], cis["service"]]
    # A name two classes share must say which; an id (the API-minded habit) still works.
    ambiguous = form("payroll")
    assert not ambiguous.is_valid()
    assert (
        "several CIs are named 'payroll' (Application, Server)" in ambiguous.errors["configuration_items"][0]
    )
    assert form(str(cis["app"].pk)).is_valid()
    unknown = form("payroll (Server), nothing-like-it")
    assert not unknown.is_valid() and "no CI 'nothing-like-it'" in unknown.errors["configuration_items"][0]


def test_ticket_pickers_by_number_digits_and_title_word_prefixes(
    agent_client, agent, requester, service_desk
):
    vpn = incident_create(actor=agent, short_description="VPN keeps disconnecting", caller=requester)
    printer = incident_create(actor=agent, short_description="Printer jams on floor 3", caller=agent)
    assert [r["value"] for r in pick(agent_client, "incident", vpn.number)] == [vpn.number]
    assert [r["value"] for r in pick(agent_client, "incident", str(int(vpn.number[3:])))] == [vpn.number]
    assert [r["value"] for r in pick(agent_client, "incident", "disconn")] == [vpn.number]
    assert [r["value"] for r in pick(agent_client, "incident", "print jam")] == [printer.number]
    result = pick(agent_client, "incident", "printer")[0]
    assert result["label"] == f"{printer.number} · Printer jams on floor 3" and result["detail"] == "New"
    assert pick(agent_client, "problem", "printer") == []


def test_requesters_see_only_what_they_may_see(requester_client, requester, agent, people, cis):
    # The directory and the teams are the workspace's: a 404, as for a record one may not see.
    for source in ("user", "agent", "group"):
        pick(requester_client, source, "n", status=404)
    pick(requester_client, "no-such-picker", "n", status=404)
    # CIs: only the classes requesters see (business services and applications).
    assert [r["value"] for r in pick(requester_client, "ci", "payroll")] == [
        "payroll (Application)",
        "payroll-service (Business service)",
    ]
    assert pick(requester_client, "ci", "SN-77") == []
    # Tickets: only their own.
    mine = incident_create(actor=agent, short_description="Laptop battery swollen", caller=requester)
    incident_create(actor=agent, short_description="Laptop screen flickers", caller=agent)
    assert [r["value"] for r in pick(requester_client, "incident", "laptop")] == [mine.number]
    other = Incident.objects.exclude(pk=mine.pk).get()
    assert pick(requester_client, "incident", other.number) == []
    # Signed out: the sign-in page, not data.
    anonymous = Client().get(reverse("picker", kwargs={"source": "ci"}), {"q": "payroll"})
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous.url


@pytest.mark.parametrize("many", [False, True])
def test_a_fixed_number_of_queries_per_picker_request(
    agent_client, agent, make_user, make_group, cis, many, django_assert_num_queries
):
    """Session, user, roles, then the search: one query for users, groups and tickets; CIs are at most three
    tries (serial, prefix, substring), each with its class joined. The count does not grow with the results."""
    for i in range(12 if many else 1):
        make_user(f"pat{i:02d}", first_name="Pat")
        make_group(f"patch-team-{i:02d}")
        incident = incident_create(actor=agent, short_description=f"Patch rollout {i}")
        ConfigurationItemFactory(name=f"patch-host-{i:02d}", ci_class=cis["server"].ci_class)
    for source, q, queries in (
        ("user", "pat", 4),
        ("agent", "ali", 4),
        ("group", "patch", 4),
        ("incident", "patch", 4),
        ("incident", incident.number, 4),
        ("ci", "patch", 5 if many else 6),  # when the prefix fills the list, the substring try is skipped
    ):
        with django_assert_num_queries(queries):
            results = pick(agent_client, source, q)
        assert results and len(results) <= 10


@pytest.mark.parametrize(
    ("table", "where", "index"),
    [
        ("accounts_user", "upper(username::text) COLLATE \"C\" LIKE 'BOB%%'", "user_username_prefix_idx"),
        ("accounts_user", "upper(first_name::text) COLLATE \"C\" LIKE 'ROB%%'", "user_first_name_prefix_idx"),
        ("accounts_user", "upper(last_name::text) COLLATE \"C\" LIKE 'BUI%%'", "user_last_name_prefix_idx"),
        ("accounts_assignmentgroup", "upper(name::text) COLLATE \"C\" LIKE 'NET%%'", "group_name_prefix_idx"),
    ],
)
def test_each_picker_search_has_an_index(db, table, where, index):
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN SELECT id FROM {table} WHERE {where}")  # noqa: S608 (constants above)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert index in plan, plan


def test_forms_and_the_bulk_panel_use_pickers_not_ids_or_long_selects(agent_client, agent):
    page = agent_client.get(reverse("incident-create")).content.decode()
    for name, source in (
        ("caller", "user"),
        ("assignment_group", "group"),
        ("assigned_to", "agent"),
        ("configuration_items", "ci"),
        ("parent", "incident"),
        ("problem", "problem"),
    ):
        assert f'data-picker="/pick/{source}/"' in page.split(f'name="{name}"')[1].split(">")[0] or (
            f'data-picker="/pick/{source}/"' in page.split(f'name="{name}"')[0].rsplit("<input", 1)[1]
        ), name
    assert "CI ids" not in page and '<select name="assigned_to"' not in page
    form = BulkActionForm(model=Incident, actions=[("assign", "Assign")])
    assert form["assigned_to"].field.widget.source == "agent"
    assert form["assignment_group"].field.widget.source == "group"
