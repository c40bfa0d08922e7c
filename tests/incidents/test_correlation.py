"""Correlation over the CMDB (SPEC §7): one outage, one major incident, with the path that tied them."""

import threading

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection

from cmdb.models import CIClass, ConfigurationItem, Relationship
from incidents import correlation
from incidents.models import Incident
from incidents.services import incident_create, incident_transition, incident_update

URL = "/api/v1/integrations/alertmanager/"


def alert(fingerprint, **labels):
    return {
        "status": "firing",
        "labels": {"alertname": "Down", "severity": "critical", **labels},
        "annotations": {"summary": f"{fingerprint} down"},
        "fingerprint": fingerprint,
    }


def payload(*alerts):
    return {"version": "4", "status": "firing", "receiver": "itsm", "alerts": list(alerts)}


def make_topology():
    """db-prod-01 ← app-1, app-2 (depends_on); app-3 runs_on srv-1, srv-1 depends_on db-prod-01;
    srv-lonely stands alone; app-4 and app-5 depend on each other (a cycle) and on nothing else."""
    server = CIClass.objects.get(name="server")
    app_class = CIClass.objects.get(name="application")
    make = ConfigurationItem.objects.create
    cis = {
        "db": make(name="db-prod-01", ci_class=server),
        "srv": make(name="srv-1", ci_class=server),
        "lonely": make(name="srv-lonely", ci_class=server),
        **{f"app{i}": make(name=f"app-{i}", ci_class=app_class) for i in range(1, 6)},
    }
    edges = [
        ("app1", "db", "depends_on"),
        ("app2", "db", "depends_on"),
        ("app3", "srv", "runs_on"),
        ("srv", "db", "depends_on"),
        ("app4", "app5", "depends_on"),
        ("app5", "app4", "depends_on"),
    ]
    for source, target, rel_type in edges:
        Relationship.objects.create(source=cis[source], target=cis[target], type=rel_type)
    return cis


@pytest.fixture
def topology(db):
    return make_topology()


@pytest.fixture
def bot(make_user):
    return make_user("alertbot", roles=["agent"])


@pytest.fixture
def client(api_client, bot):
    return api_client(bot)


def post_alerts(client, django_capture_on_commit_callbacks, *alerts):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, payload(*alerts), format="json")
    assert response.status_code == 200, response.content
    return response.json()["created"]


@pytest.mark.django_db
def test_three_apps_become_three_children_of_one_major_incident(
    client, topology, django_capture_on_commit_callbacks
):
    created = []
    for name in ("app-1", "app-2", "app-3"):
        created += post_alerts(client, django_capture_on_commit_callbacks, alert(name, ci=name))
    children = [Incident.objects.get(number=number) for number in created]
    parents = {child.parent_id for child in children}
    assert len(parents) == 1 and None not in parents
    parent = Incident.objects.get(pk=parents.pop())
    assert parent.major and parent.suspected_cause == topology["db"]
    assert "db-prod-01" in parent.short_description
    assert sorted(parent.children.values_list("number", flat=True)) == sorted(created)
    app3 = children[2]
    assert "app-3 → srv-1 → db-prod-01" in app3.correlation_reason
    # The timeline of both sides says why.
    assert app3.activities.filter(kind="system", body__contains="srv-1 → db-prod-01").exists()
    assert parent.activities.filter(kind="system", body__contains=app3.number).exists()

    answer = client.get(f"/api/v1/incidents/{app3.number}/correlation/").json()
    assert answer["parent"] == parent.number
    assert answer["suspected_cause"] == topology["db"].pk
    assert sorted(answer["members"]) == sorted(created)
    assert "app-3 → srv-1 → db-prod-01" in answer["reason"]
    head = client.get(f"/api/v1/incidents/{parent.number}/correlation/").json()
    assert head["parent"] is None and sorted(head["members"]) == sorted(created)

    # Resolving the parent resolves the children (the existing machinery).
    incident_transition(
        parent, to="resolved", actor=None, fields={"resolution_code": "solved", "resolution_notes": "db back"}
    )
    assert set(parent.children.values_list("state", flat=True)) == {"resolved"}


@pytest.mark.django_db
def test_unrelated_server_and_unknown_ci_stay_alone(client, topology, django_capture_on_commit_callbacks):
    first = post_alerts(client, django_capture_on_commit_callbacks, alert("a1", ci="app-1"))
    lonely = post_alerts(client, django_capture_on_commit_callbacks, alert("l1", instance="srv-lonely:9100"))
    unknown = post_alerts(client, django_capture_on_commit_callbacks, alert("u1", ci="no-such-ci"))
    second = post_alerts(client, django_capture_on_commit_callbacks, alert("a2", service="app-2"))
    lonely_incident = Incident.objects.get(number=lonely[0])
    assert list(lonely_incident.configuration_items.all()) == [topology["lonely"]]  # port stripped
    assert lonely_incident.parent_id is None
    unknown_incident = Incident.objects.get(number=unknown[0])
    assert unknown_incident.parent_id is None and not unknown_incident.configuration_items.exists()
    grouped = Incident.objects.get(number=second[0])
    assert grouped.parent_id and Incident.objects.get(number=first[0]).parent_id == grouped.parent_id
    assert Incident.objects.filter(major=True).count() == 1
    answer = client.get(f"/api/v1/incidents/{lonely[0]}/correlation/").json()
    assert answer == {"parent": None, "suspected_cause": None, "reason": "", "members": [], "paths": []}


@pytest.mark.django_db
def test_ci_label_wins_over_service_and_instance(client, topology, django_capture_on_commit_callbacks):
    number = post_alerts(
        client,
        django_capture_on_commit_callbacks,
        alert("p1", ci="app-1", service="app-2", instance="srv-lonely:9100"),
    )[0]
    assert list(Incident.objects.get(number=number).configuration_items.all()) == [topology["app1"]]


@pytest.mark.django_db
def test_cycle_without_shared_upstream_terminates_and_does_not_group(
    agent, topology, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        a = incident_create(actor=agent, short_description="app-4", configuration_items=[topology["app4"]])
    with django_capture_on_commit_callbacks(execute=True):
        b = incident_create(actor=agent, short_description="db", configuration_items=[topology["lonely"]])
    a.refresh_from_db(), b.refresh_from_db()
    assert a.parent_id is None and b.parent_id is None
    # The cycle app-4 ⇄ app-5 is walked within the hop limit and ends.
    paths = correlation.upstream_paths([topology["app4"].pk], 20)
    assert set(paths) == {topology["app4"].pk, topology["app5"].pk}


@pytest.mark.django_db
def test_people_opened_incidents_are_grouped_and_a_detached_child_stays_out(
    agent, api_client, topology, django_capture_on_commit_callbacks
):
    def open_on(ci_key):
        with django_capture_on_commit_callbacks(execute=True):
            return incident_create(
                actor=agent, short_description=f"{ci_key} slow", configuration_items=[topology[ci_key]]
            )

    one, two = open_on("app1"), open_on("app3")
    one.refresh_from_db(), two.refresh_from_db()
    assert one.parent_id and one.parent_id == two.parent_id
    parent = one.parent
    assert parent.suspected_cause == topology["db"]

    client = api_client(agent)
    response = client.post(f"/api/v1/incidents/{two.number}/correlation/detach/")
    assert response.status_code == 200 and response.json()["parent"] is None
    two.refresh_from_db()
    assert two.parent_id is None and two.correlation_detached
    # Gaining a CI later does not regroup it.
    with django_capture_on_commit_callbacks(execute=True):
        incident_update(
            two, actor=agent, changes={}, configuration_items=[topology["app3"], topology["app2"]]
        )
    two.refresh_from_db()
    assert two.parent_id is None
    # A third incident still joins the existing group, not a new one.
    three = open_on("app2")
    three.refresh_from_db()
    assert three.parent_id == parent.pk and Incident.objects.filter(major=True).count() == 1

    # Bad input: detaching an incident that has no group, and a cause that is not a CI, name the field.
    assert client.post(f"/api/v1/incidents/{two.number}/correlation/detach/").json() == {
        "parent": [f"{two.number} is not part of a major incident."]
    }
    bad = client.post(f"/api/v1/incidents/{parent.number}/correlation/cause/", {"suspected_cause": "x"})
    assert bad.status_code == 400 and "suspected_cause" in bad.json()
    replaced = client.post(
        f"/api/v1/incidents/{parent.number}/correlation/cause/", {"suspected_cause": topology["srv"].pk}
    )
    assert replaced.status_code == 200 and replaced.json()["suspected_cause"] == topology["srv"].pk
    parent.refresh_from_db()
    assert parent.cause_confirmed


@pytest.mark.django_db
def test_removing_the_parent_in_the_edit_form_counts_as_detaching(
    agent, topology, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        one = incident_create(actor=agent, short_description="a", configuration_items=[topology["app1"]])
    with django_capture_on_commit_callbacks(execute=True):
        incident_create(actor=agent, short_description="b", configuration_items=[topology["app2"]])
    one.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        incident_update(one, actor=agent, changes={"parent": None})
    one.refresh_from_db()
    assert one.correlation_detached


@pytest.mark.django_db
def test_incident_page_shows_the_panel_and_lets_an_agent_detach(
    client, agent, topology, django_capture_on_commit_callbacks
):
    from django.test import Client

    created = []
    for name in ("app-1", "app-3"):
        created += post_alerts(client, django_capture_on_commit_callbacks, alert(name, ci=name))
    child = Incident.objects.get(number=created[0])
    browser = Client()
    browser.force_login(agent)
    page = browser.get(f"/incidents/{child.number}/").content.decode()
    assert "Part of major incident" in page and child.parent.number in page
    assert "suspected cause: <strong data-cause>db-prod-01</strong>" in page
    assert "app-1 → db-prod-01" in page and "app-3 → srv-1 → db-prod-01" in page
    parent_page = browser.get(f"/incidents/{child.parent.number}/").content.decode()
    assert created[1] in parent_page and "Confirm cause" in parent_page
    response = browser.post(f"/incidents/{child.number}/correlation/", {"action": "detach"})
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.parent_id is None and child.correlation_detached


@pytest.mark.django_db(transaction=True)
def test_two_bursts_at_once_make_one_parent(make_user):
    from rest_framework.test import APIClient

    make_topology()
    user = make_user("alertbot", roles=["agent"])
    barrier = threading.Barrier(2)
    errors = []

    def burst(prefix, names):
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            response = client.post(
                URL, payload(*(alert(f"{prefix}-{n}", ci=n) for n in names)), format="json"
            )
            if response.status_code != 200:
                errors.append(response.content)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=burst, args=("x", ["app-1", "app-3"])),
        threading.Thread(target=burst, args=("y", ["app-2", "srv-1"])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert Incident.objects.filter(major=True).count() == 1
    parent = Incident.objects.get(major=True)
    assert parent.children.count() == 4


@pytest.mark.django_db
def test_joining_a_group_costs_a_fixed_number_of_statements(
    client, topology, django_capture_on_commit_callbacks
):
    """The correlation of an alert that joins an open group: the upstream walk that locks the CIs, the
    statement that stores the upstream rows and finds the group, the child's UPDATE and one INSERT of the
    timeline rows (in its own transaction: a savepoint here), whatever the group's size and the hops; the
    listeners of the `incident.updated` event add what they add after any edit (none with no rules)."""
    from django.test.utils import CaptureQueriesContext

    for name in ("app-1", "app-2"):
        post_alerts(client, django_capture_on_commit_callbacks, alert(name, ci=name))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        number = client.post(URL, payload(alert("app-3", ci="app-3")), format="json").json()["created"][0]
    with CaptureQueriesContext(connection) as captured:
        for callback in callbacks:
            callback()
    assert Incident.objects.get(number=number).parent.suspected_cause == topology["db"]
    sql = [q["sql"] for q in captured.captured_queries]
    # Correlation's callback first; then the mail sent for the incident, which is not correlation's.
    assert [s.split()[0] for s in sql[:6]] == ["SAVEPOINT", "WITH", "WITH", "UPDATE", "INSERT", "RELEASE"]
    assert all("integrations_outboundemail" in s or "SAVEPOINT" in s for s in sql[6:]), sql[6:]
    assert "cmdb_relationship" in sql[1] and "FOR UPDATE OF ci" in sql[1]  # every hop and the lock
    assert "INSERT INTO incidents_incidentupstream" in sql[2]


def test_only_agents_change_a_group_and_the_service_says_so(
    agent, requester, api_client, topology, django_capture_on_commit_callbacks
):
    """The role gate lives in the correlation services (README: role checks live in the services); the API
    answers 404 for what the caller may not see before 403 for what they may not do."""
    with django_capture_on_commit_callbacks(execute=True):
        mine = incident_create(
            actor=requester, short_description="app1 slow", configuration_items=[topology["app1"]]
        )
        incident_create(actor=agent, short_description="app3 slow", configuration_items=[topology["app3"]])
    mine.refresh_from_db()
    assert mine.parent_id
    response = api_client(requester).post(f"/api/v1/incidents/{mine.number}/correlation/detach/")
    assert response.status_code == 403
    assert response.json() == {"detail": "Only agents can change a major incident's group."}
    parent = mine.parent
    response = api_client(requester).post(f"/api/v1/incidents/{parent.number}/correlation/cause/")
    assert response.status_code == 404  # the parent is not the requester's
    with pytest.raises(PermissionDenied):
        correlation.set_cause(parent, actor=requester)
    mine.refresh_from_db()
    assert mine.parent_id == parent.pk and not mine.correlation_detached
