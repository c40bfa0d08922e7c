"""Presentation helpers shared by every template: badges, SLA countdowns and pagination links.

Everything here returns markup built with `format_html`, so values coming from the database are escaped;
no helper ever marks user input safe.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django import template
from django.forms.utils import flatatt
from django.http import QueryDict
from django.utils.html import format_html

register = template.Library()

PRIORITY_LABELS = {1: "Critical", 2: "High", 3: "Moderate", 4: "Low", 5: "Planning"}

# State slug -> colour family used by itsm.css (`.state-badge.state-<tone>`). Slugs not listed are neutral.
STATE_TONES = {
    # open work
    "new": "new",
    "submitted": "new",
    "draft": "new",
    "planned": "new",
    "open": "new",
    # being worked
    "in_progress": "active",
    "assess": "active",
    "root_cause_analysis": "active",
    "fix_in_progress": "active",
    "in_fulfillment": "active",
    "implement": "active",
    "review": "active",
    "running": "active",
    "in_service": "done",
    # waiting on someone
    "on_hold": "waiting",
    "pending_approval": "waiting",
    "authorize": "waiting",
    "paused": "waiting",
    "maintenance": "waiting",
    "requested": "waiting",
    "pending": "waiting",
    # scheduled / approved
    "approved": "scheduled",
    "scheduled": "scheduled",
    "published": "done",
    # finished well
    "resolved": "done",
    "fulfilled": "done",
    "done": "done",
    "met": "done",
    # finished, archived
    "closed": "closed",
    "retired": "closed",
    "canceled": "closed",
    # finished badly
    "rejected": "bad",
    "breached": "bad",
}


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def humanize_slug(slug: Any) -> str:
    """`in_progress` -> `In progress`."""
    text = str(slug or "").replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


@register.simple_tag(takes_context=True)
def querystring_replace(context: template.Context, **kwargs: Any) -> str:
    """The current query string with the given keys replaced (a value of None drops the key).

    Returns the encoded string without the leading "?", e.g. `href="?{% querystring_replace page=3 %}"`.
    Repeated keys (`?state=new&state=on_hold`) are kept as they are.
    """
    request = context.get("request")
    query = request.GET.copy() if request is not None else None
    if query is None:
        query = QueryDict(mutable=True)
    for key, value in kwargs.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.filter(is_safe=True)
def priority_badge(value: Any) -> str:
    """Priority 1..5 as a coloured badge: `1 - Critical` ... `5 - Planning`."""
    try:
        priority = int(value)
    except (TypeError, ValueError):
        priority = None
    if priority not in PRIORITY_LABELS:
        return format_html('<span class="badge priority-badge priority-none">{}</span>', "—")
    return format_html(
        '<span class="badge priority-badge priority-p{0}" title="Priority {0}: {1}">'
        '<span class="priority-num">{0}</span>{1}</span>',
        priority,
        PRIORITY_LABELS[priority],
    )


@register.filter(is_safe=True)
def state_badge(value: Any, label: Any = None) -> str:
    """A state slug as a badge with a humanised label: `{{ obj.state|state_badge:obj.get_state_display }}`."""
    slug = str(value or "")
    tone = STATE_TONES.get(slug, "neutral")
    return format_html(
        '<span class="badge state-badge state-{}" data-state="{}">{}</span>',
        tone,
        slug,
        label if label not in (None, "") else humanize_slug(slug) or "—",
    )


def _sla_level(state: str, percent: float | None) -> str:
    if state in ("paused", "met", "canceled"):
        return state
    if state == "breached" or (percent is not None and percent >= 100):
        return "breached"
    if percent is not None and percent >= 75:
        return "warning"
    return "ok"


@register.filter(is_safe=True)
def sla_badge(timer: Any) -> str:
    """An SLA timer (dict or object with state, due_at, percent) as a live countdown span.

    The server-rendered text is what a browser without JavaScript shows; itsm.js replaces it every second.
    """
    if timer is None:
        return ""
    state = str(_get(timer, "state", "") or "running")
    due_at = _get(timer, "due_at")
    percent_raw = _get(timer, "percent")
    try:
        percent = float(percent_raw) if percent_raw is not None else None
    except (TypeError, ValueError):
        percent = None
    due_iso = due_at.isoformat() if isinstance(due_at, datetime) else str(due_at or "")
    level = _sla_level(state, percent)
    fallback = {
        "paused": "Paused",
        "met": "Met",
        "canceled": "Canceled",
        "breached": "Breached",
    }.get(level, f"{percent:.0f}% used" if percent is not None else "Running")
    name = _get(timer, "name") or _get(_get(timer, "definition"), "name") or ""
    return format_html(
        '<span class="sla-countdown sla-{}" data-due="{}" data-state="{}" data-percent="{}" data-label="{}" '
        'title="{}">{}</span>',
        level,
        due_iso,
        state,
        "" if percent is None else f"{percent:.1f}",
        name,
        f"{name} — due {due_iso}" if name else f"Due {due_iso}",
        fallback,
    )


@register.filter
def initials(name: Any) -> str:
    """`Alice van Dyke` -> `AD`; `bob` -> `BO`. Used for avatar circles."""
    words = [w for w in str(name or "").replace(".", " ").replace("_", " ").split() if w]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[-1][0]).upper()


@register.simple_tag
def elided_pages(page_obj: Any, on_each_side: int = 2, on_ends: int = 1) -> list:
    """Page numbers around the current one, with `…` gaps: `{% elided_pages page_obj as pages %}`."""
    paginator = page_obj.paginator
    return list(paginator.get_elided_page_range(page_obj.number, on_each_side=on_each_side, on_ends=on_ends))


_CHECK_WIDGETS = {"checkbox"}
_SELECT_WIDGETS = {"select", "selectmultiple", "nullbooleanselect"}


@register.filter
def form_widget(field: Any) -> str:
    """Render a bound field's widget with Tabler classes, `is-invalid` and aria links to hint and errors."""
    widget_type = getattr(field, "widget_type", "")
    if widget_type in _CHECK_WIDGETS:
        css = "form-check-input"
    elif widget_type in _SELECT_WIDGETS:
        css = "form-select"
    else:
        css = "form-control"
    classes = [field.field.widget.attrs.get("class", ""), css]
    attrs: dict[str, str] = {}
    described_by = []
    if field.help_text:
        described_by.append(f"{field.auto_id}_hint")
    if field.errors:
        classes.append("is-invalid")
        attrs["aria-invalid"] = "true"
        described_by.append(f"{field.auto_id}_errors")
    attrs["class"] = " ".join(c for c in classes if c)
    if described_by and field.auto_id:
        attrs["aria-describedby"] = " ".join(described_by)
    return field.as_widget(attrs=attrs)


@register.filter
def choice_input(subwidget: Any) -> str:
    """One radio or checkbox of a RadioSelect / CheckboxSelectMultiple, with Tabler's `form-check-input`."""
    data = subwidget.data
    attrs = {**data.get("attrs", {}), "type": data.get("type", "checkbox"), "name": data["name"]}
    attrs["class"] = "form-check-input"
    if data.get("value") is not None:
        attrs["value"] = str(data["value"])
    return format_html("<input{}>", flatatt(attrs))


# ------------------------------------------------------------------------------------------ display layer
# One place turns stored values into words: codes into labels, seconds into durations, Markdown into text.

_DURATION_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))
# Words that read better in capitals than `humanize_slug` makes them (`cpu_count` → "CPU count").
_ACRONYMS = {
    "cpu": "CPU",
    "gb": "GB",
    "os": "OS",
    "ip": "IP",
    "url": "URL",
    "id": "ID",
    "ram": "RAM",
    "vm": "VM",
}


@register.filter
def duration(seconds: Any) -> str:
    """Seconds in people's units: 14400 → "4 hours", 5400 → "1 hour 30 minutes", 90061 → "1 day 1 hour"
    (two units at most: the rest is noise on a target)."""
    try:
        remaining = int(seconds)
    except (TypeError, ValueError):
        return "—" if seconds in (None, "") else str(seconds)
    if remaining <= 0:
        return "0 minutes"
    parts = []
    for unit, size in _DURATION_UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {unit}{'' if count == 1 else 's'}")
        if len(parts) == 2:
            break
    return " ".join(parts)


@register.filter
def humanize(value: Any) -> str:
    """A code or key as words: `in_progress` → "In progress", `cpu_count` → "CPU count"."""
    words = humanize_slug(value).split(" ")
    return " ".join(_ACRONYMS.get(w.lower(), w if i else w) for i, w in enumerate(words))


@register.filter
def humanize_each(values: Any) -> list[str]:
    """`["on_hold", "awaiting_caller"]` → `["On hold", "Awaiting caller"]` (for `|join:", "`)."""
    return [humanize(v) for v in (values or [])]


_MARKDOWN = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: their alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # links: their text
    (re.compile(r"^\s{0,3}(#{1,6}|>|[-*+]|\d+\.)\s+", re.MULTILINE), ""),  # headings, quotes, list marks
    (re.compile(r"(\*\*|__)(.+?)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])"), r"\2"),  # italics
    (re.compile(r"`{1,3}([^`]*)`{1,3}"), r"\1"),  # code
    (re.compile(r"^\s*([-*_]\s*){3,}$", re.MULTILINE), ""),  # rules
]


@register.filter
def strip_markdown(text: Any) -> str:
    """Markdown as the plain text a snippet shows (`**towards you**` → "towards you"); the result is
    still escaped by the template like any text."""
    value = str(text or "")
    for pattern, replacement in _MARKDOWN:
        value = pattern.sub(replacement, value)
    return re.sub(r"\s+", " ", value).strip()


@register.filter
def field_label(name: Any) -> str:
    """A stored field path as words: `attributes.cpu_count` → "CPU count", `support_group` → "Support group"."""
    return humanize(str(name or "").rsplit(".", 1)[-1])


@register.filter
def change_value(value: Any) -> Any:
    """A CMDB history value for people: a relationship reads "Online shop depends on Shop web app" (rows
    stored the type's code in their label), choice codes become words, other values stay as they are."""
    if isinstance(value, Mapping):
        label = str(value.get("label") or "")
        rel_type = str(value.get("type") or "")
        if label and rel_type and f" {rel_type} " in label:
            return label.replace(f" {rel_type} ", f" {humanize(rel_type).lower()} ", 1)
        return label or value
    if isinstance(value, str) and re.fullmatch(r"[a-z]+(_[a-z]+)+", value):
        return humanize(value)
    return value


@register.simple_tag
def choice_label(record: Any, field: str, value: Any) -> str:
    """The label of `value` among `record`'s `field` choices (`solved` → "Solved"); unknown values are
    humanized, so a code never reaches the page."""
    try:
        choices = dict(record._meta.get_field(field).flatchoices)
    except Exception:  # noqa: BLE001 - no record or no such field: fall back to words
        choices = {}
    return str(choices.get(value) or humanize(value))
