"""Permission-scoped reads of articles, and the ranked search behind the API, the pages and suggestions.

Visibility: agents and knowledge managers see every article in every state; other workspace users see
published articles (both audiences); requesters see published articles for everyone only. Anything else
is absent (404), never forbidden.

Search uses the stored weighted tsvector (title A, body B) through `websearch_to_tsquery`, which never
raises on user syntax. Ranking every match does not scale (a common word matches thousands of articles,
and ts_rank reads each one's tsvector), so a search first takes a capped candidate set from the GIN
indexes, without ordering: up to CANDIDATES articles whose title matches (their own `title_vector`
index) plus up to CANDIDATES whose title or body matches; only those are ranked, and ts_headline runs
only for the rows of the page returned (PostgreSQL evaluates the costly snippet after the LIMIT). The
result set, and so an API `count`, is therefore capped at 2 x CANDIDATES (200); snippets come from
the first SNIPPET_SOURCE_CHARS characters of the body.

What is typed goes through knowledge.lexicon first: each word also stands for its synonyms and, when no
indexed record contains it, for the closest indexed words ("pritner" finds "Printer"), on any PostgreSQL.
Every word (or one of its alternatives) must match; when that finds nothing and the query has several
words, articles matching any of them are ranked instead, so "VPN keeps disconnecting" still finds the
article on VPN drops that never says "keeps". Snippets come from ts_headline with
control-character markers that `highlight()` turns into <mark> after escaping everything else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, FloatField, Q, QuerySet, TextField, Value
from django.db.models.functions import Coalesce, Left
from django.http import Http404
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from core.numbering import format_number
from core.templatetags.itsm_ui import strip_markdown

from . import lexicon
from .choices import ArticleState, Audience
from .models import Article, ArticleVersion
from .permissions import can_author, is_active_user, sees_internal

MAX_QUERY_CHARS = 200  # longer input is cut: nobody types more, and it keeps tsquery work bounded
HL_START, HL_STOP = "\x02", "\x03"
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
WORD = re.compile(r"\w{2,}", re.UNICODE)
NUMBER = re.compile(r"^KB0*(\d{1,10})$", re.IGNORECASE)
CANDIDATES = 100  # per GIN pass; only these are ranked (see the module docstring)
SNIPPET_SOURCE_CHARS = 1000  # ts_headline parses only the start of a body: its cost grows with the text
VECTOR_FIELDS = ("search_vector", "title_vector")  # ranked in SQL; never worth sending to Python


def visible_articles(user) -> QuerySet[Article]:
    """Articles `user` may read (see the module docstring for the rule)."""
    queryset = Article.objects.all()
    if not is_active_user(user):
        return queryset.none()
    if can_author(user):
        return queryset
    published = queryset.filter(state=ArticleState.PUBLISHED)
    if sees_internal(user):
        return published
    return published.filter(audience=Audience.EVERYONE)


def get_visible_article(user, number: str) -> Article:
    try:
        return visible_articles(user).select_related("category", "author").get(number=str(number).upper())
    except Article.DoesNotExist:
        raise Http404(f"No article {number}") from None


def versions(article: Article) -> QuerySet[ArticleVersion]:
    return article.versions.select_related("created_by").order_by("-number")


def clean_query(text) -> str:
    """Strip control characters (our highlight markers among them), surrounding space, and excess length."""
    return CONTROL_CHARS.sub(" ", str(text or ""))[:MAX_QUERY_CHARS].strip()


def _candidate_ids(
    queryset: QuerySet[Article], match: Q, title_match: Q | None = None, limit: int | None = None
) -> list[int]:
    """Ids of at most `limit` (CANDIDATES) title matches plus `limit` matches, straight from the GIN indexes.

    No ORDER BY (it would read and sort every match): PostgreSQL stops after `limit` rows.
    """
    limit = CANDIDATES if limit is None else limit
    base = queryset.order_by().values_list("pk", flat=True)
    parts = [base.filter(match)[:limit]]
    if title_match is not None:
        parts.insert(0, base.filter(title_match)[:limit])
    combined = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
    return list(combined)


def search_articles(
    queryset: QuerySet[Article], text, interpretation: lexicon.Interpretation | None = None
) -> QuerySet[Article]:
    """Rank `queryset` by relevance to `text` and annotate `rank` and `snippet_raw` (see highlight()).

    Empty text returns the queryset unchanged. A "KB0000042" query matches that number exactly. The
    result holds at most 2 x CANDIDATES articles (see the module docstring). `interpretation` is
    lexicon.interpret(text), passed by callers that already have it (the global search).
    """
    text = clean_query(text)
    if not text:
        return queryset
    number = NUMBER.match(text)
    if number:
        return queryset.filter(number=format_number("KB", int(number.group(1)))).annotate(
            rank=Value(1.0, output_field=FloatField()), snippet_raw=F("title")
        )
    interpretation = interpretation or lexicon.interpret(text)
    query = interpretation.all_words
    ids = _candidate_ids(queryset, Q(search_vector=query), Q(title_vector=query))
    if not ids and interpretation.relaxable:
        query = interpretation.any_word
        ids = _candidate_ids(queryset, Q(search_vector=query), Q(title_vector=query))
    rank = SearchRank(F("search_vector"), query)
    return (
        queryset.filter(pk__in=ids)
        .defer(*VECTOR_FIELDS)
        .annotate(
            rank=rank,
            snippet_raw=Coalesce(
                SearchHeadline(
                    Left("body", SNIPPET_SOURCE_CHARS),
                    query,
                    config="english",
                    start_sel=HL_START,
                    stop_sel=HL_STOP,
                    max_words=30,
                    min_words=12,
                    max_fragments=2,
                    fragment_delimiter=" … ",
                ),
                Value(""),
                output_field=TextField(),
            ),
        )
        .order_by("-rank", "-published_at", "-id")
    )


def highlight(raw: str | None) -> SafeString:
    """Escape a ts_headline snippet and only then turn its markers into <mark> tags. The body is Markdown:
    a snippet shows its words, not its syntax (`**towards you**` reads "towards you")."""
    text = escape(strip_markdown(raw or ""))
    return mark_safe(text.replace(HL_START, "<mark>").replace(HL_STOP, "</mark>"))  # noqa: S308


@dataclass(frozen=True)
class Suggestion:
    number: str
    title: str
    url: str
    snippet: SafeString
    rank: float


def _as_suggestions(rows) -> list[Suggestion]:
    return [
        Suggestion(
            number=row.number,
            title=row.title,
            url=row.get_absolute_url(),
            snippet=highlight(getattr(row, "snippet_raw", "")),
            rank=float(getattr(row, "rank", 0.0) or 0.0),
        )
        for row in rows
    ]


def suggest(user, text, limit: int = 5) -> list[Suggestion]:
    """The best published articles the user may read for what they are typing (portal deflection)."""
    if not clean_query(text):
        return []
    queryset = visible_articles(user).filter(state=ArticleState.PUBLISHED)
    return _as_suggestions(search_articles(queryset, text)[:limit])


def suggest_for_record(record, user, limit: int = 5) -> list[Suggestion]:
    """Published articles relevant to a ticket: any of the words of its description and its CIs' names.

    Words are OR-ed (a ticket's text rarely contains every word of an article) and ranked, so the
    articles sharing the most, and the rarest, words come first.
    """
    parts = [getattr(record, "short_description", ""), getattr(record, "description", "")]
    if getattr(record, "pk", None) and hasattr(record, "configuration_items"):
        parts.extend(record.configuration_items.values_list("name", flat=True)[:10])
    words: list[str] = []
    for word in WORD.findall(" ".join(p or "" for p in parts)[:4000].lower()):
        if word not in words and not word.isdigit():
            words.append(word)
    if not words:
        return []
    query = SearchQuery(" or ".join(words[:24]), search_type="websearch", config="english")
    published = visible_articles(user).filter(state=ArticleState.PUBLISHED)
    ids = _candidate_ids(published, Q(search_vector=query), Q(title_vector=query))
    rows = (
        published.filter(pk__in=ids)
        .defer(*VECTOR_FIELDS)
        .annotate(
            rank=SearchRank(F("search_vector"), query),
            snippet_raw=SearchHeadline(
                Left("body", SNIPPET_SOURCE_CHARS),
                query,
                config="english",
                start_sel=HL_START,
                stop_sel=HL_STOP,
                max_words=25,
            ),
        )
        .order_by("-rank", "-id")[:limit]
    )
    return _as_suggestions(rows)
