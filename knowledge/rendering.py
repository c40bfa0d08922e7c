"""Markdown to HTML that is safe to put on a page, and escaped version diffs.

Markdown passes raw HTML through, so its output is never trusted: nh3 (the Rust `ammonia` sanitizer)
rebuilds the HTML from a strict allowlist of tags and attributes. No `style`, no event handlers, no SVG or
MathML, no iframes or forms; links and images keep only http(s)/mailto or relative URLs, so
`javascript:` and `data:` (however encoded or cased) never survive.
"""

from __future__ import annotations

import difflib

import markdown
import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "s", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}
MARKDOWN_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]


def sanitize_html(html: str) -> SafeString:
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output is the sanitized allowlist above


def render_markdown(body: str | None) -> SafeString:
    """The article body as sanitized HTML."""
    html = markdown.markdown(body or "", extensions=MARKDOWN_EXTENSIONS, output_format="html")
    return sanitize_html(html)


def diff_rows(old: str, new: str) -> list[tuple[str, str]]:
    """A line diff as (kind, escaped text) rows; kind is "add", "del", "ctx" or "hunk"."""
    rows: list[tuple[str, str]] = []
    lines = difflib.unified_diff((old or "").splitlines(), (new or "").splitlines(), lineterm="", n=3)
    for line in list(lines)[2:]:
        if line.startswith("@@"):
            rows.append(("hunk", escape(line)))
        elif line.startswith("+"):
            rows.append(("add", escape(line[1:])))
        elif line.startswith("-"):
            rows.append(("del", escape(line[1:])))
        else:
            rows.append(("ctx", escape(line[1:])))
    return rows
