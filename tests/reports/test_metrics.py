"""Each dashboard metric against the hand-computed figures of the `dataset` fixture (see conftest.py).

Hand computation, for the range D..today (D = five days ago):
- opened: 5 incidents (network: 1, 2, 5; service-desk: 3, 4), 4 changes.
- response (first public comment, assignment or state change by someone other than the opener):
  INC1 30 min, INC2 60 min (the work note and the caller's comment do not count), INC3 6 min
  -> 3 responded, mean 5760/3 s = 0.53 h; network 5400/2 s = 0.75 h; service-desk 0.1 h.
- resolution: INC1 2 h, INC2 24 h, INC3 24 h -> mean 16.67 h; network 13.0 h; service-desk 24.0 h.
- reopened: INC2 -> 1 of 3 = 33.3 %; first contact: only INC1 (INC2 reopened, INC3 reassigned) -> 33.3 %.
- SLA: network met 1 (INC1), breached 2 (INC2, INC5 today) -> 33.3 %; service-desk met 1 -> 100.0 %.
- changes: success 2 of 3 closed = 66.7 %; emergency share 1 of 4 = 25.0 %.
- top CIs: db01 3 incidents, web01 1.
"""

import datetime as dt

import pytest
from django.http import QueryDict

from reports import metrics, rollups


def filters(dataset, **extra):
    params = QueryDict(mutable=True)
    params.update({"start": dataset.day.isoformat(), "end": rollups.local_today().isoformat()})
    for key, value in extra.items():
        params.setlist(key, value if isinstance(value, list) else [value])
    return metrics.parse_filters(params)


def rows_by_first(table):
    return {row[0].value: [c.value for c in row] for row in table.rows}


def test_resolution_times_reopen_rate_and_first_contact(dataset, manager):
    table = metrics.resolution_table(manager, filters(dataset))
    rows = rows_by_first(table)
    #                   group,        opened, responded, mtta, resolved, mttr,  reopened, %,    fcr, %
    assert rows["All groups"] == ["All groups", 5, 3, 0.53, 3, 16.67, 1, 33.3, 1, 33.3]
    assert rows["network"] == ["network", 3, 2, 0.75, 2, 13.0, 1, 50.0, 1, 50.0]
    assert rows["service-desk"] == ["service-desk", 2, 1, 0.1, 1, 24.0, 0, 0.0, 0, 0.0]


def test_group_filter_narrows_every_figure(dataset, manager):
    table = metrics.resolution_table(manager, filters(dataset, group="service-desk"))
    assert [r[0].value for r in table.rows] == ["service-desk", "All groups"]
    assert [c.value for c in table.rows[-1]][1:] == [2, 1, 0.1, 1, 24.0, 0, 0.0, 0, 0.0]


def test_sla_compliance_with_known_breaches(dataset, manager):
    rows = {row[2].value: [c.value for c in row] for row in metrics.sla_table(manager, filters(dataset)).rows}
    assert rows["network"][3:] == [1, 2, 33.3]
    assert rows["service-desk"][3:] == [1, 0, 100.0]


def test_volume_by_kind_and_priority(dataset, manager):
    table = metrics.volume_table(manager, filters(dataset))
    opened = {(r[0].value, r[1].value): r[2].value for r in table.rows}
    assert [opened[("incident", p)] for p in range(1, 6)] == [1, 1, 2, 1, 0]
    assert sum(v for (kind, _p), v in opened.items() if kind == "change") == 4
    incident_series = next(d for d in table.chart["datasets"] if d["label"] == "Incident")
    assert (
        incident_series["data"][0] == 3
        and incident_series["data"][1] == 1
        and incident_series["data"][-1] == 1
    )


def test_backlog_by_group_and_age(dataset, manager):
    table = metrics.backlog_table(manager, filters(dataset))
    rows = {(r[0].value, r[1].value): [c.value for c in r[2:]] for r in table.rows}
    assert rows[("incident", "network")] == [1, 0, 0, 0, 0, 1]  # INC5, opened just now
    assert rows[("incident", "service-desk")] == [0, 0, 1, 0, 0, 1]  # INC4, four days old
    assert rows[("change", "network")] == [0, 0, 1, 0, 0, 1]  # CHG4, opened on D


def test_change_success_rate_and_emergency_share(dataset, manager):
    rows = rows_by_first(metrics.change_table(manager, filters(dataset)))
    assert rows["emergency"][1:3] == [1, 25.0]
    assert rows["emergency"][-1] == 0.0
    assert rows["all"][1:] == [4, 100.0, 1, 1, 1, 66.7]


def test_top_cis_by_incidents(dataset, manager):
    table = metrics.ci_table(manager, filters(dataset))
    assert [(r[0].value, r[2].value) for r in table.rows] == [("db01", 3), ("web01", 1)]


def test_range_before_the_data_counts_nothing(dataset, manager):
    f = metrics.Filters(start=dataset.day - dt.timedelta(days=10), end=dataset.day - dt.timedelta(days=1))
    assert rows_by_first(metrics.resolution_table(manager, f))["All groups"][1:] == [
        0,
        0,
        None,
        0,
        None,
        0,
        None,
        0,
        None,
    ]


@pytest.mark.parametrize(
    "params, field",
    [
        ({"start": "yesterday"}, "start"),
        ({"start": "2026-02-10", "end": "2026-02-01"}, "end"),
        ({"group": "no-such-group"}, "group"),
    ],
)
def test_bad_filters_name_the_field(db, params, field):
    query = QueryDict(mutable=True)
    query.update(params)
    with pytest.raises(metrics.FilterError) as error:
        metrics.parse_filters(query)
    assert set(error.value.errors) == {field}


def test_csat_average_and_satisfied_share(dataset, manager, make_user):
    """Three incident surveys in range (5, 4, 2) and one before it (1): 3 answers, average 3.67, 66.7 %
    satisfied; the old answer does not count."""
    from django.contrib.contenttypes.models import ContentType

    from portal.models import SatisfactionSurvey

    incident_type = ContentType.objects.get(app_label="incidents", model="incident")
    incidents = list(dataset.incidents.values())
    for record, rating, day in [
        (incidents[0], 5, dataset.day),
        (incidents[1], 4, dataset.day + dt.timedelta(days=1)),
        (incidents[2], 2, rollups.local_today()),
        (incidents[3], 1, dataset.day - dt.timedelta(days=3)),
    ]:
        SatisfactionSurvey.objects.create(
            content_type=incident_type,
            object_id=record.pk,
            record_number=record.number,
            rating=rating,
            created_at=rollups.day_start(day) + dt.timedelta(hours=12),
        )
    rows = rows_by_first(metrics.csat_table(manager, filters(dataset)))
    assert rows["incident"][1:] == [3, 3.67, 66.7]
    assert rows["change"][1:] == [0, None, None]
