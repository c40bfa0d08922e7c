"""The CI detail page draws its neighbourhood with cytoscape, and a node click opens that CI."""

import pytest

from cmdb.ci_classes import ensure_default_classes
from cmdb.models import CIClass, ConfigurationItem, Relationship


@pytest.mark.browser
def test_ci_detail_graph_renders_and_navigates(page, login, make_user, live_server):
    ensure_default_classes()
    agent = make_user("gina", roles=["agent"])
    classes = {c.name: c for c in CIClass.objects.all()}
    shop = ConfigurationItem.objects.create(name="Online shop", ci_class=classes["business_service"])
    app = ConfigurationItem.objects.create(name="Shop app", ci_class=classes["application"])
    db = ConfigurationItem.objects.create(name="shopdb", ci_class=classes["database"])
    Relationship.objects.create(source=shop, target=app, type="depends_on")
    Relationship.objects.create(source=app, target=db, type="depends_on")

    login(page, agent)
    page.goto(f"/cmdb/cis/{app.pk}/")
    graph = page.locator("#ci-graph[data-rendered]")
    graph.wait_for()
    assert graph.get_attribute("data-rendered") == "3"
    assert graph.locator("canvas").count() >= 1
    page.select_option("#ci-graph-hops", "2")
    page.locator("#ci-graph[data-rendered]:not([aria-busy])").wait_for()
    position = page.evaluate(
        "(id) => { const p = document.getElementById('ci-graph')._cy.getElementById(id).renderedPosition();"
        " return [p.x, p.y]; }",
        str(db.pk),
    )
    box = graph.bounding_box()
    page.mouse.click(box["x"] + position[0], box["y"] + position[1])
    page.wait_for_url(f"**/cmdb/cis/{db.pk}/")
    assert page.locator("h2.page-title").inner_text().startswith("shopdb")
