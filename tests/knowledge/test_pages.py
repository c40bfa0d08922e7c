"""Pages, global search and suggestions; the stored-XSS corpus must render inert everywhere."""

import re
from html.parser import HTMLParser

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from incidents.models import Incident
from knowledge import services
from knowledge.models import Article

XSS_CORPUS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](jav&#x61;script:alert(1))",
    "[click](&#106;avascript:alert(1))",
    '<a href="java&#x09;script:alert(1)">t</a>',
    '<a href=" javascript:alert(1)">t</a>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![x](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    "<svg onload=alert(1)><script>alert(1)</script></svg>",
    "<svg><a xlink:href=javascript:alert(1)><text>x</text></a></svg>",
    "<iframe src=https://evil.example></iframe>",
    '<p style="background:url(javascript:alert(1))">styled</p>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "[a](<javascript:alert(1)>)",
    "<object data=javascript:alert(1)></object><embed src=x>",
    "<form action=javascript:alert(1)><button>x</button></form>",
]
PAYLOAD = "\n\n".join(XSS_CORPUS) + "\n\nprinter token"
FORBIDDEN_TAGS = {"iframe", "svg", "math", "object", "embed", "details", "style", "mglyph"}


class _Inspector(HTMLParser):
    """Collects everything in a page that could run a script: parsing (not regex) decodes entities the
    way a browser does, so `jav&#x61;script:` is seen as `javascript:`."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in FORBIDDEN_TAGS:
            self.problems.append(f"<{tag}>")
        if tag == "script" and not dict(attrs).get("src", "").startswith("/static/"):
            self.problems.append("inline or foreign <script>")
        for name, value in attrs:
            compact = re.sub(r"[\x00-\x20]", "", value or "").lower()
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name == "style":
                self.problems.append(f"{tag} style=")
            if name in ("href", "src", "action", "data", "xlink:href", "formaction") and compact.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.problems.append(f"{tag} {name}={value}")


def assert_inert(html: str) -> None:
    inspector = _Inspector()
    inspector.feed(html)
    assert inspector.problems == [], inspector.problems


def test_inspector_catches_the_raw_corpus():
    """The check itself must fail on unsanitized HTML, or the tests below would prove nothing."""
    for payload in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        '<a href="jav&#x61;script:x">',
        "<svg onload=alert(1)>",
        '<p style="x">',
        "<iframe src=x>",
    ]:
        with pytest.raises(AssertionError):
            assert_inert(payload)


@pytest.fixture
def xss_article(publish, knowledge_manager):
    article = publish("printer <img src=x onerror=alert(1)> guide", PAYLOAD)
    services.article_update(
        article, actor=knowledge_manager, changes={"body": PAYLOAD + "\n\n<script>x</script> v2"}
    )
    return article


def test_xss_corpus_inert_everywhere(client, agent, requester, xss_article, api_client):
    client.force_login(agent)
    number = xss_article.number
    pages = [
        f"/kb/{number}/",
        "/kb/?q=printer",
        "/kb/",
        f"/kb/{number}/versions/1/",
        f"/kb/{number}/diff/?from=1&to=2",
        "/search/?q=printer",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        body = response.content.decode()
        assert "alert(1)" in body or url.startswith("/search/"), url  # the payload is on the page, as text
        assert_inert(body)
    api = api_client(requester)
    detail = api.get(f"/api/v1/kb/articles/{number}/").json()
    assert_inert(detail["body_html"])
    for row in api.get("/api/v1/kb/articles/", {"search": "printer"}).json()["results"]:
        assert_inert(row["snippet"])
    for row in api.get("/api/v1/kb/suggest/", {"q": "printer"}).json()["results"]:
        assert_inert(row["snippet"])
    for version in api.get(f"/api/v1/kb/articles/{number}/versions/").json():
        assert_inert(version["body_html"])
    incident = Incident.objects.create(
        number="INC0999100", short_description="printer broken", opened_by=agent, state="new"
    )
    request = RequestFactory().get("/")
    request.user = agent
    html = Template('{% include "knowledge/suggestions.html" with record=record %}').render(
        Context({"record": incident, "request": request})
    )
    assert number in html
    assert_inert(html)


def test_pages_scoping_and_bad_queries(client, requester, agent, publish, knowledge_manager):
    public = publish("Public wifi", "Join guest wifi")
    internal = publish("Internal wifi", "Controller", audience="agents")
    client.force_login(requester)
    assert client.get(f"/kb/{public.number}/").status_code == 200
    assert client.get(f"/kb/{internal.number}/").status_code == 404
    assert client.get("/kb/new/").status_code == 404
    assert client.get(f"/kb/{public.number}/edit/").status_code == 404
    page = client.get("/kb/?q=wifi").content.decode()
    assert public.number in page and internal.number not in page
    for query in ["", "x" * 10_000, "&|!():*'\"", "INC", "inc0", "kb99999999"]:
        assert client.get("/kb/", {"q": query}).status_code == 200
        client.force_login(agent)
        assert client.get("/search/", {"q": query}).status_code == 200
        client.force_login(requester)


def test_create_edit_and_vote_through_pages(client, agent, knowledge_manager, requester, category):
    client.force_login(agent)
    response = client.post("/kb/new/", {"title": "", "body": "x", "audience": "everyone"})
    assert response.status_code == 200 and not Article.objects.exists()
    response = client.post("/kb/new/", {"title": "VPN setup", "body": "Install", "audience": "everyone"})
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/kb/{article.number}/"
    client.post(
        f"/kb/{article.number}/edit/", {"title": "VPN setup", "body": "Install v2", "audience": "everyone"}
    )
    client.post(f"/kb/{article.number}/transition/", {"to": "published"})
    article.refresh_from_db()
    assert article.body == "Install v2" and article.state == "draft"  # agents cannot publish
    client.force_login(knowledge_manager)
    client.post(f"/kb/{article.number}/transition/", {"to": "published"})
    client.force_login(requester)
    client.get(f"/kb/{article.number}/")
    client.post(f"/kb/{article.number}/vote/", {"helpful": "no"})
    article.refresh_from_db()
    assert (article.state, article.view_count, article.not_helpful_count) == ("published", 1, 1)


@pytest.mark.parametrize("page_size", [5, 50])
def test_list_page_query_count(client, agent, publish, page_size, django_assert_max_num_queries, monkeypatch):
    from knowledge import views

    monkeypatch.setattr(views, "PAGE_SIZE", page_size)
    for index in range(7):
        publish(f"Printer {index}", "printer body")
    client.force_login(agent)
    with django_assert_max_num_queries(12):
        assert client.get("/kb/", {"q": "printer"}).status_code == 200


def test_global_search_groups_scoped_and_number_lookup(client, agent, requester, other_requester, publish):
    article = publish("Mailbox full", "Archive old mail")
    mine = Incident.objects.create(
        number="INC0999200", short_description="mailbox error", opened_by=requester, state="new"
    )
    theirs = Incident.objects.create(
        number="INC0999201", short_description="mailbox quota", opened_by=other_requester, state="new"
    )
    client.force_login(agent)
    page = client.get("/search/", {"q": "mailbox"}).content.decode()
    assert all(n in page for n in (article.number, mine.number, theirs.number))
    assert 'data-search-group="incident"' in page and 'data-search-group="article"' in page
    assert theirs.number in client.get("/search/", {"q": "inc999201"}).content.decode()
    client.force_login(requester)
    page = client.get("/search/", {"q": "mailbox"}).content.decode()
    assert mine.number in page and theirs.number not in page


def test_resolve_incident_with_article(agent, publish):
    article = publish("Reset VPN token", "Use the portal")
    incident = Incident.objects.create(
        number="INC0999300", short_description="vpn token", opened_by=agent, state="new"
    )
    incident = services.resolve_incident_with_article(incident, article, actor=agent)
    assert incident.state == "resolved" and incident.resolution_code == "solved"
    assert article.number in incident.resolution_notes
    article.refresh_from_db()
    assert article.solved_count == 1


def test_global_search_ranks_ticket_matches_not_just_newest(client, agent, make_user):
    """The agent-wide search ranks its capped candidates: a ticket about the words beats a newer mention."""
    from datetime import timedelta

    from django.utils import timezone

    caller = make_user("caller_rank")
    now = timezone.now()
    about = Incident.objects.create(
        number="INC0999301",
        short_description="Scanner toner scanner toner",
        description="scanner toner empty",
        opened_by=caller,
        opened_at=now - timedelta(days=30),
    )
    Incident.objects.create(
        number="INC0999302",
        short_description="Laptop dock",
        description="also mentions a scanner once",
        opened_by=caller,
        opened_at=now,
    )
    client.force_login(agent)
    page = client.get("/search/", {"q": "scanner toner"}).content.decode()
    assert about.number in page and "INC0999302" not in page  # websearch: every word must match
    page = client.get("/search/", {"q": "scanner"}).content.decode()
    assert page.index(about.number) < page.index("INC0999302")
