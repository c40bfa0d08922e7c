"""The display-layer crawl (issue 21): as every role, follow the workspace and portal links from the home
page and fail on Python object text ("functools.partial", "<bound method", "object at 0x") and on raw
internal codes (choice values such as `in_progress`, `business_service`, `depends_on`, attribute keys such
as `cpu_count`) in the text a person reads. Attribute values (hrefs, data-*, option values) may hold codes;
visible text may not."""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from core import demo
from core.models import TicketBase

pytestmark = pytest.mark.django_db

PYTHON_TEXT = re.compile(r"functools\.partial|<bound method|bound method|object at 0x[0-9a-f]+|<QuerySet")
SKIP = re.compile(
    r"^/(api|admin|static|media|accounts/logout|attachments)/|/export/|\.csv|\.json|/raw/|/autocomplete/"
    r"|/decide/|/vote/|/transition/|/survey/"
)
MAX_PAGES = 90
# Not read as prose: scripts and styles, and code samples (the import page documents column values).
HIDDEN = ("script", "style", "template", "title", "code", "pre", "kbd")


class TextAndLinks(HTMLParser):
    """The text a person reads (not scripts, styles or attributes) and the links to follow."""

    def __init__(self):
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in HIDDEN and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def internal_codes() -> set[str]:
    """Every snake_case choice value, workflow state, CI class name and attribute key: what must never be
    read on a page in place of its label."""
    codes: set[str] = set()
    for model in apps.get_models():
        for field in model._meta.get_fields():
            for value, _label in getattr(field, "flatchoices", None) or ():
                if isinstance(value, str) and "_" in value:
                    codes.add(value)
        if issubclass(model, TicketBase) and hasattr(model, "workflow"):
            codes |= {s for s in model.workflow.states if "_" in s}
    from cmdb.models import CIClass

    for ci_class in CIClass.objects.all():
        if "_" in ci_class.name:
            codes.add(ci_class.name)
        codes |= {k for k in (ci_class.attribute_schema or {}).get("properties", {}) if "_" in k}
    return codes


def pattern_of(path: str) -> str:
    """One page per URL shape: /incidents/INC0000003/ and /incidents/INC0000004/ are the same page."""
    return re.sub(r"[A-Z]{2,4}\d{7}|\d+", "N", path)


def crawl(client, start_paths) -> dict[str, list[str]]:
    """{path: problems} for every page reached from `start_paths`."""
    codes = internal_codes()
    code_pattern = re.compile(
        r"(?<![\w/.-])(" + "|".join(sorted(map(re.escape, codes), key=len, reverse=True)) + r")(?![\w/.-])"
    )
    seen_patterns: set[str] = set()
    queue = deque(start_paths)
    problems: dict[str, list[str]] = {}
    visited = 0
    while queue and visited < MAX_PAGES:
        url = queue.popleft()
        parts = urlsplit(url)
        key = pattern_of(parts.path) + (
            "?" + pattern_of(parts.query) if parts.query and "view=" in parts.query else ""
        )
        if key in seen_patterns or SKIP.search(parts.path):
            continue
        seen_patterns.add(key)
        response = client.get(url)
        visited += 1
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = TextAndLinks()
        parser.feed(response.content.decode())
        text = "\n".join(parser.text)
        found = [m.group(0) for m in PYTHON_TEXT.finditer(text)]
        found += sorted({m.group(1) for m in code_pattern.finditer(text)})
        if found:
            problems[url] = found
        for href in parser.links:
            target = urlsplit(urljoin(url, href))
            if target.netloc in ("", "testserver") and target.path.startswith("/"):
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    assert visited > 5, "the crawl reached almost nothing"
    return problems


@pytest.fixture
def demo_data(db):
    demo.load()
    User = get_user_model()
    User.objects.create_superuser("root", "root@example.com", "pw")


ROLES = ["alice", "carol", "dave", "kate", "chris", "mary", "rita", "root"]


@pytest.mark.parametrize("username", ROLES)
def test_pages_show_words_not_codes_or_python_objects(client, demo_data, username):
    client.force_login(get_user_model().objects.get(username=username))
    problems = crawl(client, ["/", "/workspace/", "/portal/", "/portal/tickets/"])
    assert problems == {}
