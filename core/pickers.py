"""Autocomplete pickers: the searches behind every field that references a user, group, CI or ticket, and
the form widget that asks for them.

A picked field holds the record's *name*, never its id: a username, a group name, a CI as "name (Class)",
a ticket number. So the form works without JavaScript (type the name, the form resolves it, and names
what it could not), and `static/js/picker.js` turns the same input into an ARIA combobox that lists the
matches of `GET /pick/<source>/?q=` as the user types (arrows move, Enter picks, Escape closes).

Every source is scoped to the asking user: the workspace-only sources (users, agents, groups) answer 404
to requesters, tickets come from `core.selectors.visible_tickets`, CIs from `cmdb.selectors.visible_cis`.
Each search is a fixed number of queries, whatever it finds, each one backed by an index (see `SOURCES`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery
from django.db.models import Q, Value
from django.db.models.functions import Collate, Upper
from django.urls import reverse

from accounts.models import AssignmentGroup
from accounts.roles import AGENT, is_workspace_user
from core.extensions import provided
from core.numbering import format_number
from core.selectors import visible_tickets

LIMIT = 10
MAX_QUERY_LENGTH = 100
# The four ticket kinds a picker can ask for, by KIND.
TICKET_MODELS = {
    "incident": "incidents.Incident",
    "problem": "problems.Problem",
    "change": "changes.Change",
    "request": "requests_app.Request",
}


@dataclass(frozen=True)
class Choice:
    """One line of a picker's list: `value` goes into the input, `label` and `detail` are shown."""

    value: str
    label: str
    detail: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"value": self.value, "label": self.label, "detail": self.detail}


def _prefix(field: str, text: str) -> tuple[str, Any, Any]:
    """(alias, expression, lookup value) for a case-insensitive prefix match served by an
    `Index(Collate(Upper(field), "C"))`: `upper(field) COLLATE "C" LIKE 'TEXT%'` is a range scan."""
    return f"{field}_key", Collate(Upper(field), "C"), Collate(Upper(Value(text)), "C")


def _prefix_filter(queryset, fields: tuple[str, ...], text: str):
    aliases, condition = {}, Q()
    for field in fields:
        alias, expression, value = _prefix(field, text)
        aliases[alias] = expression
        condition |= Q(**{f"{alias}__startswith": value})
    return queryset.alias(**aliases).filter(condition)


# ------------------------------------------------------------------------------------------- sources
def search_users(user, text: str, *, agents_only: bool = False) -> list[Choice]:
    """Active users whose username, first or last name starts with `text` (one query; the three
    `user_*_prefix_idx` indexes, OR-ed in a bitmap scan). Workspace users only."""
    queryset = get_user_model().objects.filter(is_active=True)
    if agents_only:
        queryset = queryset.filter(groups__name__in=[AGENT, "admin"]).distinct()
    found = _prefix_filter(queryset, ("username", "first_name", "last_name"), text)
    rows = found.order_by("username").values_list("username", "first_name", "last_name")[:LIMIT]
    return [
        Choice(username, f"{first} {last}".strip() or username, username if (first or last) else "")
        for username, first, last in rows
    ]


def search_agents(user, text: str) -> list[Choice]:
    return search_users(user, text, agents_only=True)


def search_groups(user, text: str) -> list[Choice]:
    """Active assignment groups whose name starts with `text` (one query, `group_name_prefix_idx`)."""
    queryset = _prefix_filter(AssignmentGroup.objects.filter(active=True), ("name",), text)
    rows = queryset.order_by("name").values_list("name", "description")[:LIMIT]
    return [Choice(name, name, _first_line(description)) for name, description in rows]


def ci_value(ci) -> str:
    """How a picked CI is written in a field: its name and class label ("webshop (Application)"), which is
    unique (a CI's name is unique within its class) and readable."""
    return f"{ci.name} ({ci.ci_class.label or ci.ci_class.name})"


def search_cis(user, text: str, *, ci_class: str | None = None) -> list[Choice]:
    """The CIs the user may see (`cmdb.selectors.autocomplete_cis`: exact serial, name prefix through
    `ci_name_prefix_idx`, then the trigram index): at most three queries, the class joined in each."""
    autocomplete_cis = provided("autocomplete_cis")  # cmdb.selectors.autocomplete_cis (core.extensions)
    found = autocomplete_cis(user, text, ci_class=ci_class, limit=LIMIT)
    return [Choice(ci_value(ci), ci.name, ci.ci_class.label or ci.ci_class.name) for ci in found]


def search_services(user, text: str) -> list[Choice]:
    return search_cis(user, text, ci_class="business_service")


def ticket_search(model, user, text: str):
    """The tickets of `model` the user may see matching `text`: a number (INC0000042, or just 42), else
    every word as a prefix of a word of the title or description (the stored `search_vector` and its GIN
    index). One query."""
    queryset = visible_tickets(model, user)
    upper = text.upper()
    if re.fullmatch(r"[A-Z]{2,4}\d+", upper):
        digits = upper.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return queryset.filter(number=format_number(upper[: len(upper) - len(digits)], int(digits)))
    if text.isdigit():
        return queryset.filter(number=format_number(model.NUMBER_PREFIX, int(text)))
    words = re.findall(r"\w+", text)[:8]
    if not words:
        return queryset.none()
    query = " & ".join(f"{word}:*" for word in words)
    return queryset.filter(search_vector=SearchQuery(query, search_type="raw", config="english")).order_by(
        "-opened_at", "-id"
    )


def _ticket_source(kind: str) -> Callable[[Any, str], list[Choice]]:
    def search(user, text: str) -> list[Choice]:
        model = apps.get_model(TICKET_MODELS[kind])
        rows = ticket_search(model, user, text).values_list("number", "short_description", "state")[:LIMIT]
        workflow = model.workflow
        return [Choice(number, f"{number} · {title}", workflow.label(state)) for number, title, state in rows]

    return search


def _first_line(text: str) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line[:80]


@dataclass(frozen=True)
class Source:
    search: Callable[[Any, str], list[Choice]]
    workspace_only: bool
    multiple_separator: str = ","


SOURCES: dict[str, Source] = {
    "user": Source(search_users, workspace_only=True),
    "agent": Source(search_agents, workspace_only=True),
    "group": Source(search_groups, workspace_only=True),
    "ci": Source(search_cis, workspace_only=False),
    "service": Source(search_services, workspace_only=False),
    **{kind: Source(_ticket_source(kind), workspace_only=False) for kind in TICKET_MODELS},
}


def allowed(source: str, user) -> bool:
    """Whether `user` may ask `source` at all (the view answers 404 when not, as for a missing record)."""
    spec = SOURCES.get(source)
    if spec is None or not (user and user.is_authenticated and user.is_active):
        return False
    return not spec.workspace_only or is_workspace_user(user)


def search(source: str, user, text: str) -> list[Choice]:
    text = (text or "").replace("\x00", "").strip()[:MAX_QUERY_LENGTH]
    if not text:
        return []
    return SOURCES[source].search(user, text)


# -------------------------------------------------------------------------------------------- widget
class PickerInput(forms.TextInput):
    """A text input that names its picker source; `static/js/picker.js` makes it a combobox.

    `multiple=True`: several values separated by commas; the picker completes the last one.
    """

    def __init__(self, source: str, *, multiple: bool = False, placeholder: str = "", attrs=None):
        self.source = source
        self.multiple = multiple
        attrs = {"autocomplete": "off", "spellcheck": "false", **(attrs or {})}
        if placeholder:
            attrs.setdefault("placeholder", placeholder)
        super().__init__(attrs)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["data-picker"] = reverse("picker", kwargs={"source": self.source})
        if self.multiple:
            widget_attrs["data-picker-multiple"] = "true"
        return context


PLACEHOLDERS = {
    "user": "Type a name or username",
    "agent": "Type an agent's name",
    "group": "Type a group's name",
    "ci": "Type a CI's name",
    "service": "Type a service's name",
    "incident": "Type a number or words of the title",
    "problem": "Type a number or words of the title",
    "change": "Type a number or words of the title",
    "request": "Type a number or words of the title",
}


def picker(source: str, *, multiple: bool = False, **attrs) -> PickerInput:
    return PickerInput(source, multiple=multiple, placeholder=PLACEHOLDERS[source], attrs=attrs)


class PickModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField addressed by a name (`to_field_name`) in a picker instead of a <select>: the
    page renders no option list (a select of every agent was one query and kilobytes per page), and an
    edit form shows the name, not the id, of the current value."""

    def __init__(self, queryset, *, source: str, to_field_name: str, **kwargs):
        kwargs.setdefault("widget", picker(source))
        kwargs.setdefault(
            "error_messages",
            {"invalid_choice": "Nothing by that name: pick one from the list as you type."},
        )
        super().__init__(queryset, to_field_name=to_field_name, **kwargs)

    def prepare_value(self, value):
        if hasattr(value, "_meta"):
            return value.serializable_value(self.to_field_name)
        if isinstance(value, int):
            found = self.queryset.model._default_manager.filter(pk=value).values_list(
                self.to_field_name, flat=True
            )
            return found.first() or ""
        return value

    def to_python(self, value):
        return super().to_python(value.strip() if isinstance(value, str) else value)
