"""Search finds what people mean, on any PostgreSQL: typos, synonyms, inflections, words being typed.

No test here depends on pg_trgm or any other extension: `make test` runs this file a second time against
the embedded PostgreSQL (pgserver, which has none), and each test asserts the exact top result, so both
servers must give the same answers.
"""

import pytest
from django.db import connection
from django.urls import reverse

from cmdb import services as cmdb_services
from cmdb.models import CIClass
from incidents.services import incident_create
from knowledge import lexicon
from knowledge.models import SearchWord

SUGGEST = "/api/v1/kb/suggest/"
LIST = "/api/v1/kb/articles/"


@pytest.fixture
def library(publish):
    """A few articles whose words overlap, so the right one must win, not merely appear."""
    return {
        "printer": publish("Printer shows offline", "Restart the print spooler and check the cable."),
        "plotter": publish("Plotter paper jam", "Open the front cover and remove the jammed sheet."),
        "vpn": publish("VPN drops every few minutes", "Update the VPN client; the old one loses the tunnel."),
        "password": publish("Reset your password", "Use the self-service page to choose a new one."),
        "outlook": publish("Outlook is slow to start", "Disable add-ins you do not use."),
    }


@pytest.fixture
def exchange_ci(db, agent):
    server = CIClass.objects.get(name="server")
    return cmdb_services.create_ci(actor=agent, fields={"name": "exchange-mbx-01", "ci_class": server})


def _suggested(api, user, text) -> list[str]:
    return [row["number"] for row in api(user).get(SUGGEST, {"q": text}).json()["results"]]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("pritner", "printer"),  # two letters swapped
        ("ploter paper jam", "plotter"),  # a letter missing, among correct words
        ("VPN keeps disconnecting", "vpn"),  # a synonym ("drops") and a word the article lacks ("keeps")
        ("pasword reset", "password"),
        ("outlok slowness", "outlook"),
        ("spooler", "printer"),  # a body word, as typed
        ("prin", "printer"),  # being typed
        ("jammed", "plotter"),  # stemming
    ],
)
def test_kb_suggest_and_portal_find_what_was_meant(library, api_client, requester, client, typed, expected):
    number = library[expected].number
    assert _suggested(api_client, requester, typed)[0] == number
    client.force_login(requester)
    portal = client.get(reverse("portal:search"), {"q": typed}).content.decode()
    assert library[expected].title in portal
    report = client.get(reverse("portal:report-suggest"), {"short_description": typed}).content.decode()
    assert library[expected].title in report


@pytest.mark.django_db
def test_global_search_corrects_typos_for_every_kind(library, exchange_ci, client, agent):
    printer_ticket = incident_create(actor=agent, short_description="Printer on floor 2 is offline")
    client.force_login(agent)
    response = client.get("/search/", {"q": "pritner"})
    groups = {group.kind: group for group in response.context["groups"]}
    assert groups["article"].hits[0].number == library["printer"].number
    assert groups["incident"].hits[0].number == printer_ticket.number
    assert response.context["did_you_mean"] == "printer"
    assert "Also showing results for" in response.content.decode()

    # A swapped pair of letters in a CI name finds the CI.
    response = client.get("/search/", {"q": "exhcange-mbx-01"})
    groups = {group.kind: group for group in response.context["groups"]}
    assert [hit.title for hit in groups["ci"].hits] == ["exchange-mbx-01"]

    response = client.get("/search/", {"q": "ploter paper jam"})
    groups = {group.kind: group for group in response.context["groups"]}
    assert groups["article"].hits[0].number == library["plotter"].number


@pytest.mark.django_db
def test_article_list_api_and_pages_tolerate_typos(library, api_client, agent, client):
    rows = api_client(agent).get(LIST, {"search": "pritner"}).json()["results"]
    assert rows[0]["number"] == library["printer"].number
    client.force_login(agent)
    assert library["printer"].number in client.get("/kb/", {"q": "pritner"}).content.decode()


@pytest.mark.django_db
def test_a_word_only_tickets_contain_still_matches_as_typed(library, client, agent):
    """The vocabulary holds article and CI words: a ticket word is kept, never replaced by a correction."""
    ticket = incident_create(actor=agent, short_description="Kubernetes node notready")
    client.force_login(agent)
    groups = {g.kind: g for g in client.get("/search/", {"q": "kubernetes"}).context["groups"]}
    assert groups["incident"].hits[0].number == ticket.number


@pytest.mark.django_db
def test_websearch_syntax_is_taken_as_typed(library, api_client, agent):
    client = api_client(agent)
    rows = client.get(LIST, {"search": '"paper jam"'}).json()["results"]
    assert [row["number"] for row in rows] == [library["plotter"].number]
    rows = client.get(LIST, {"search": "restart -spooler"}).json()["results"]
    assert library["printer"].number not in [row["number"] for row in rows]
    assert client.get(LIST, {"search": "&|!():*'"}).status_code == 200


@pytest.mark.django_db
def test_triggers_keep_the_vocabulary_on_every_write(publish, exchange_ci, agent):
    article = publish("Scanner calibration", "Run the wizard.")
    assert {"scanner", "calibration", "wizard", "the"} <= set(
        SearchWord.objects.values_list("word", flat=True)
    )
    # Words with digits are never corrected, so they are not collected.
    assert not SearchWord.objects.filter(word__regex=r"[0-9]").exists()
    assert SearchWord.objects.filter(word="exchange").exists()
    article.title = "Scanner colour profile"
    article.save(update_fields=["title"])
    assert SearchWord.objects.filter(word="colour").exists()
    # A bulk insert (no Python code per row) is collected too.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cmdb_configurationitem SET name = 'sharepoint-web' WHERE id = %s", [exchange_ci.pk]
        )
    assert SearchWord.objects.filter(word="sharepoint").exists()


@pytest.mark.django_db
def test_known_words_cost_no_query_and_typos_two(library, django_assert_num_queries):
    lexicon.interpret("pritner")  # loads the vocabulary into this process
    with django_assert_num_queries(0):
        assert lexicon.interpret("printer offline").did_you_mean == ""
    with django_assert_num_queries(2):
        interpretation = lexicon.interpret("pritner ofline")
    assert interpretation.did_you_mean == "printer offline"


def test_synonym_map_matches_inflections():
    assert "drop" in lexicon.synonyms("disconnecting")
    assert "disconnect" in lexicon.synonyms("dropped")
    assert "lag" in lexicon.synonyms("slow")
    assert lexicon.synonyms("printer") == ()
