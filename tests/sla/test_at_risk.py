"""At-risk SLA timers (SPEC §7): a ticket whose group usually takes longer than its time left is at risk."""

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from incidents.models import Incident
from sla import risk
from sla.models import DurationStat, Timer


@pytest.fixture
def setup(make_definition, open_incident, make_group, agent):
    """A 4-hour resolution SLA; 'slow' usually needs ~5 hours (it breaches), 'fast' ~20 minutes.

    Both current incidents have run 2 hours (2 hours left): slow's history says ~3 more hours remain,
    fast's says it is usually long done."""
    make_definition("Resolution", duration=4 * 3600)
    slow, fast = make_group("slow"), make_group("fast")
    slow.members.add(agent)
    fast.members.add(agent)
    ct = ContentType.objects.get_for_model(Incident)
    now = timezone.now()
    for group, seconds in ((slow, 5 * 3600), (fast, 20 * 60)):
        for index in range(8):
            past = open_incident(assignment_group=group, assigned_to=agent)
            Timer.objects.filter(content_type=ct, object_id=past.pk).update(
                state="met" if seconds < 4 * 3600 else "breached",
                elapsed_seconds=seconds + index * 60,
                stopped_at=now - timedelta(days=3),
                running_since=None,
                due_at=None,
            )
    current = {}
    for group in (slow, fast):
        incident = open_incident(assignment_group=group, assigned_to=agent)
        Incident.objects.filter(pk=incident.pk).update(state="in_progress")
        Timer.objects.filter(content_type=ct, object_id=incident.pk).update(
            started_at=now - timedelta(hours=2),
            running_since=now - timedelta(hours=2),
            due_at=now + timedelta(hours=2),
        )
        current[group.name] = incident
    return current


@pytest.mark.django_db
def test_slow_group_is_at_risk_and_fast_group_is_not(setup, api_client, agent, django_assert_num_queries):
    assert risk.refresh_duration_stats() >= 2
    stat = DurationStat.objects.get(
        kind="incident", priority=setup["slow"].priority, group_id=setup["slow"].assignment_group_id
    )
    assert stat.samples == 8 and stat.quantiles[10] == pytest.approx(5 * 3600 + 3.5 * 60)
    risk.refresh_at_risk()
    slow_timer = Timer.objects.get(object_id=setup["slow"].pk)
    fast_timer = Timer.objects.get(object_id=setup["fast"].pk)
    assert slow_timer.at_risk and slow_timer.predicted_breach_at == slow_timer.due_at
    assert not fast_timer.at_risk and fast_timer.predicted_breach_at is None

    client = api_client(agent)
    listed = client.get("/api/v1/incidents/?at_risk=true").json()["results"]
    assert [row["number"] for row in listed] == [setup["slow"].number]
    timer = listed[0]["sla_timers"][0]
    assert timer["at_risk"] is True and timer["predicted_breach_at"]
    not_listed = client.get("/api/v1/incidents/?at_risk=false").json()["results"]
    assert setup["slow"].number not in [row["number"] for row in not_listed]
    assert setup["fast"].number in [row["number"] for row in not_listed]
    # Bad input names the field.
    bad = client.get("/api/v1/incidents/?at_risk=maybe")
    assert bad.status_code == 400 and "at_risk" in bad.json()

    # The list's query count does not grow with the filter (one Exists, not a query per row).
    client.get("/api/v1/incidents/?at_risk=true")
    with django_assert_num_queries(_count(client, "/api/v1/incidents/")) as plain:
        client.get("/api/v1/incidents/")
    with django_assert_num_queries(len(plain.captured_queries)):
        client.get("/api/v1/incidents/?at_risk=true")


def _count(client, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    return len(captured.captured_queries)


@pytest.mark.django_db
def test_unassigned_ticket_needs_a_whole_median_and_no_history_falls_back_to_75_percent(
    setup, make_definition
):
    risk.refresh_duration_stats()
    # Fast's median is ~24 minutes; with 2 hours left even unassigned it is not at risk...
    Incident.objects.filter(pk=setup["fast"].pk).update(assigned_to=None)
    risk.refresh_at_risk()
    assert not Timer.objects.get(object_id=setup["fast"].pk).at_risk
    # ...but with 10 minutes left it is, though an assigned one past its median would be predicted a little.
    Timer.objects.filter(object_id=setup["fast"].pk).update(
        running_since=timezone.now() - timedelta(hours=4) + timedelta(minutes=10)
    )
    risk.refresh_at_risk()
    assert Timer.objects.get(object_id=setup["fast"].pk).at_risk
    # Without any history the plain 75% rule decides.
    DurationStat.objects.all().delete()
    risk.refresh_at_risk()
    assert Timer.objects.get(object_id=setup["fast"].pk).at_risk  # 3h50 of 4h elapsed
    assert not Timer.objects.get(object_id=setup["slow"].pk).at_risk  # 50%


def test_prediction_uses_what_is_left_of_similar_tickets():
    q = [float(60 * i) for i in range(21)]  # durations spread evenly over 0..20 minutes
    # At 0 elapsed the remaining median is the median (10 minutes).
    assert risk.predicted_remaining(q, 0, unworked=False) == pytest.approx(600)
    # Having run 10 minutes, half of what is left of the slower half: 5 minutes.
    assert risk.predicted_remaining(q, 600, unworked=False) == pytest.approx(300)
    # Unworked: at least the whole median from now.
    assert risk.predicted_remaining(q, 600, unworked=True) == pytest.approx(600)
    # Longer than every similar ticket: a quarter of the median.
    assert risk.predicted_remaining(q, 5000, unworked=False) == pytest.approx(150)


@pytest.mark.django_db
def test_at_risk_saved_view_and_home_block(setup, agent):
    from django.test import Client

    risk.refresh_duration_stats()
    risk.refresh_at_risk()
    browser = Client()
    browser.force_login(agent)
    page = browser.get("/incidents/?view=at_risk").content.decode()
    assert "At risk" in page
    assert setup["slow"].number in page and setup["fast"].number not in page
    # Both are due in 2 hours (inside the home block's 4 hours): push fast out, slow stays by its risk.
    Timer.objects.update(due_at=timezone.now() + timedelta(days=2))
    home = browser.get("/workspace/").content.decode()
    block = home.split('data-testid="breaching-soon"', 1)[1].split('<div class="col-lg-6">', 1)[0]
    assert setup["slow"].number in block and setup["fast"].number not in block
