"""Impact, dependencies and neighbours: every relationship type, cycles, depth limits, business services."""

import pytest
from django.db import IntegrityError

from cmdb.selectors import dependencies, impact, neighbour_ci_ids

pytestmark = pytest.mark.django_db


def by_name(rows):
    return {row["ci"].name: row for row in rows}


@pytest.mark.parametrize("rel_type", ["depends_on", "runs_on", "contains"])
def test_failure_of_the_target_impacts_the_source(make_ci, relate, rel_type):
    whole, part = make_ci("whole"), make_ci("part")
    relate(whole, rel_type, part)
    assert [r["ci"].name for r in impact(part.pk)] == ["whole"]
    assert impact(whole.pk) == []
    assert [r["ci"].name for r in dependencies(whole.pk)] == ["part"]


def test_connected_to_carries_no_impact(make_ci, relate):
    a, b = make_ci("a"), make_ci("b")
    relate(a, "connected_to", b)
    assert impact(a.pk) == [] and impact(b.pk) == []
    assert dependencies(a.pk) == []


def test_database_failure_reaches_the_business_service_with_distance_and_path(shop):
    rows = by_name(impact(shop["dbsrv"].pk))
    assert set(rows) == {"shopdb", "Shop app", "Online shop"}
    assert rows["Online shop"]["distance"] == 3
    assert rows["Online shop"]["is_business_service"] is True
    assert rows["shopdb"]["is_business_service"] is False
    assert rows["Online shop"]["path"] == [shop[k].pk for k in ("dbsrv", "db", "app", "shop")]
    assert rows["Online shop"]["relationship_types"] == ["runs_on", "depends_on", "depends_on"]
    # the switch is only connected_to the servers: its failure impacts nothing through them
    assert impact(shop["switch"].pk) == []


def test_dependencies_of_the_business_service(shop):
    rows = by_name(dependencies(shop["shop"].pk))
    assert set(rows) == {"Shop app", "vm-shop", "srv-esx", "shopdb", "srv-db"}
    assert rows["srv-esx"]["distance"] == 3


def test_cycles_terminate_and_report_shortest_distance(make_ci, relate):
    a, b, c = make_ci("a"), make_ci("b"), make_ci("c")
    relate(a, "depends_on", b)
    relate(b, "depends_on", c)
    relate(c, "depends_on", a)
    rows = by_name(impact(c.pk, max_depth=20))
    assert {name: row["distance"] for name, row in rows.items()} == {"b": 1, "a": 2}
    assert set(by_name(dependencies(a.pk, max_depth=20))) == {"b", "c"}


def test_dense_cycles_stay_cheap(make_ci, relate):
    """A complete graph would have millions of simple paths at depth 6; the walk does not enumerate them."""
    nodes = [make_ci(f"n{i}") for i in range(12)]
    for x in nodes:
        for y in nodes:
            if x is not y:
                relate(x, "depends_on", y)
    rows = impact(nodes[0].pk, max_depth=6)
    assert len(rows) == 11 and {r["distance"] for r in rows} == {1}


def test_depth_limit(make_ci, relate):
    chain = [make_ci(f"c{i}") for i in range(9)]
    for upper, lower in zip(chain[1:], chain, strict=False):
        relate(upper, "runs_on", lower)
    assert len(impact(chain[0].pk)) == 6  # default depth 6
    assert [r["ci"].name for r in impact(chain[0].pk, max_depth=2)] == ["c1", "c2"]
    assert len(impact(chain[0].pk, max_depth=8)) == 8


def test_neighbours_any_direction_any_type(shop):
    near = neighbour_ci_ids([shop["esx"].pk], max_hops=2)
    assert near[shop["esx"].pk] == 0
    assert near[shop["vm"].pk] == 1 and near[shop["switch"].pk] == 1
    assert near[shop["app"].pk] == 2 and near[shop["dbsrv"].pk] == 2
    assert shop["shop"].pk not in near and shop["db"].pk not in near
    assert neighbour_ci_ids([]) == {}


def test_no_self_loop_and_no_duplicate_edge(make_ci, relate):
    a, b = make_ci("a"), make_ci("b")
    relate(a, "depends_on", b)
    with pytest.raises(IntegrityError):
        relate(a, "depends_on", a)


def test_duplicate_edge_refused_by_database(make_ci, relate):
    a, b = make_ci("a"), make_ci("b")
    relate(a, "depends_on", b)
    relate(a, "runs_on", b)  # another type is another edge
    with pytest.raises(IntegrityError):
        relate(a, "depends_on", b)


def test_ticket_on_a_database_shows_the_business_service_it_impacts(shop, agent, api_client):
    from incidents.services import incident_create

    incident = incident_create(
        actor=agent, short_description="shopdb is slow", configuration_items=[shop["db"]]
    )
    client = api_client(agent)
    ci_ids = client.get(f"/api/v1/incidents/{incident.number}/").json()["configuration_items"]
    ci_id = ci_ids[0]["id"] if isinstance(ci_ids[0], dict) else ci_ids[0]
    body = client.get(f"/api/v1/cmdb/cis/{ci_id}/impact/").json()
    assert body["business_services"] == [shop["shop"].pk]
    service = next(r for r in body["results"] if r["is_business_service"])
    assert service["ci"]["name"] == "Online shop" and service["distance"] == 2
