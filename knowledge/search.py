"""The agents' one search box: tickets of every kind, CIs and articles, grouped by kind.

Each ticket kind is found through the apps registry (every concrete TicketBase subclass), so a new
ticket app appears here without a change; each is read through core.selectors.visible_tickets, CIs
through cmdb.selectors.visible_cis, articles through knowledge.selectors.visible_articles. A query that
looks like a number ("INC0000042", "inc42") is an exact number lookup; anything else is full-text search
on each table's stored tsvector (GIN-indexed), a few rows per kind, of the query as knowledge.lexicon
reads it (synonyms, and typo corrections from the indexed words, so "pritner" finds printers everywhere);
CIs match by name substring, as typed or as corrected ("exhcange-01" finds "exchange-01").

A common word matches a large share of a million incidents, so nothing here may order or rank every
match: each kind takes at most TICKET_CANDIDATES matching rows straight from its GIN index (a LIMIT-ed
subquery without ORDER BY, which PostgreSQL stops early), ranks only those by ts_rank (then newest first),
and computes ts_headline snippets only for the few rows shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db.models import F, Q
from django.db.models.functions import Left
from django.urls import NoReverseMatch, reverse
from django.utils.http import urlencode
from django.utils.safestring import SafeString

from cmdb.selectors import visible_cis
from core.models import TicketBase
from core.numbering import format_number
from core.numbers import parse_id
from core.selectors import visible_tickets

from . import lexicon, selectors

NUMBER_QUERY = re.compile(r"^([A-Za-z]{2,4})0*(\d{1,10})$")
PER_KIND = 5
TICKET_CANDIDATES = 200  # matches per kind that are ranked (see the module docstring)


@dataclass
class Hit:
    number: str
    title: str
    url: str
    snippet: SafeString | str = ""
    state: str = ""


@dataclass
class Group:
    kind: str
    label: str
    hits: list[Hit] = field(default_factory=list)
    see_all_url: str = ""
    more: bool = False


def ticket_models() -> list[type[TicketBase]]:
    """Every installed, concrete TicketBase subclass, in a stable order."""
    found = [
        model
        for model in apps.get_models()
        if issubclass(model, TicketBase) and not model._meta.abstract and getattr(model, "KIND", None)
    ]
    return sorted(found, key=lambda model: model._meta.label)


def _parse_number(text: str) -> str | None:
    match = NUMBER_QUERY.match(text)
    if not match:
        return None
    return format_number(match.group(1).upper(), int(match.group(2)))


def find_ticket_by_number(user, number: str):
    """The ticket of any kind with this number that `user` may see, or None."""
    normalized = _parse_number((number or "").strip())
    if normalized is None:
        return None
    for model in ticket_models():
        if normalized.startswith(model.NUMBER_PREFIX) and parse_id(normalized[len(model.NUMBER_PREFIX) :]):
            found = visible_tickets(model, user).filter(number=normalized).first()
            if found is not None:
                return found
    return None


def _url(name: str, params: dict | None = None, **kwargs) -> str:
    try:
        base = reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        return ""
    return f"{base}?{urlencode(params)}" if params else base


def _ticket_group(
    model: type[TicketBase], user, text: str, number: str | None, limit: int, query: SearchQuery | None = None
) -> Group:
    queryset = visible_tickets(model, user).only("number", "short_description", "state", "opened_at")
    if number is not None:
        rows = list(queryset.filter(number=number)[:1]) if number.startswith(model.NUMBER_PREFIX) else []
    else:
        query = query or SearchQuery(text, search_type="websearch", config="english")
        candidates = queryset.filter(search_vector=query).order_by().values("pk")[:TICKET_CANDIDATES]
        rows = list(
            queryset.filter(pk__in=candidates)
            .annotate(
                rank=SearchRank(F("search_vector"), query),
                snippet_raw=SearchHeadline(
                    Left("description", selectors.SNIPPET_SOURCE_CHARS),
                    query,
                    config="english",
                    start_sel=selectors.HL_START,
                    stop_sel=selectors.HL_STOP,
                    max_words=20,
                    min_words=8,
                ),
            )
            .order_by("-rank", "-opened_at", "-id")[: limit + 1]
        )
    group = Group(
        kind=model.KIND,
        label=str(model._meta.verbose_name_plural).capitalize(),
        see_all_url=_url(f"{model.KIND}-list", {"search": text}),
        more=len(rows) > limit,
    )
    for row in rows[:limit]:
        try:
            url = row.get_absolute_url()
        except NoReverseMatch:
            url = ""
        group.hits.append(
            Hit(
                number=row.number,
                title=row.short_description,
                url=url,
                snippet=selectors.highlight(getattr(row, "snippet_raw", "")),
                state=row.state,
            )
        )
    return group


def _ci_group(user, text: str, limit: int, texts: tuple[str, ...] = ()) -> Group | None:
    if not apps.is_installed("cmdb"):
        return None
    match = Q(serial_number__iexact=text)
    for variant in texts or (text,):
        match |= Q(name__icontains=variant)
    rows = list(visible_cis(user).filter(match).order_by("name", "id")[: limit + 1])
    group = Group(
        kind="ci",
        label="Configuration items",
        see_all_url=_url("ci-list", {"q": text}),
        more=len(rows) > limit,
    )
    for ci in rows[:limit]:
        try:
            url = ci.get_absolute_url()
        except NoReverseMatch:
            url = ""
        group.hits.append(Hit(number=ci.ci_class.name, title=ci.name, url=url, state=ci.status))
    return group


def _article_group(user, text: str, limit: int, interpretation=None) -> Group:
    rows = list(
        selectors.search_articles(selectors.visible_articles(user), text, interpretation)[: limit + 1]
    )
    group = Group(
        kind="article",
        label="Knowledge articles",
        see_all_url=_url("article-list", {"q": text}),
        more=len(rows) > limit,
    )
    for row in rows[:limit]:
        group.hits.append(
            Hit(
                number=row.number,
                title=row.title,
                url=row.get_absolute_url(),
                snippet=selectors.highlight(getattr(row, "snippet_raw", "")),
                state=row.state,
            )
        )
    return group


def search_everything(user, text, *, limit: int = PER_KIND) -> list[Group]:
    """Groups of hits the user may see, tickets first, then CIs and articles; empty text finds nothing."""
    return search_everything_with_hint(user, text, limit=limit)[0]


def search_everything_with_hint(user, text, *, limit: int = PER_KIND) -> tuple[list[Group], str]:
    """search_everything's groups and the "did you mean" text ("" when every word is known)."""
    text = selectors.clean_query(text)
    if not text or not (user and user.is_authenticated and user.is_active):
        return [], ""
    number = _parse_number(text)
    known_prefixes = {model.NUMBER_PREFIX for model in ticket_models()} | {"KB"}
    if number is not None and number.rstrip("0123456789") not in known_prefixes:
        number = None  # "ab12" is a word, not a number
    interpretation = lexicon.interpret(text) if number is None else None
    query = interpretation.all_words if interpretation else None
    groups = [_ticket_group(model, user, text, number, limit, query) for model in ticket_models()]
    if number is None:
        ci_group = _ci_group(user, text, limit, interpretation.texts)
        if ci_group is not None:
            groups.append(ci_group)
    groups.append(_article_group(user, text, limit, interpretation))
    hint = interpretation.did_you_mean if interpretation else ""
    return [group for group in groups if group.hits], hint
