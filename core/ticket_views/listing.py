"""The agent list page: saved views with counts, the shared FilterSet, the user's columns, a capped
paginator. Its bulk actions (POST to the same URL) are in `bulk`."""

from __future__ import annotations

from datetime import time as datetime_time
from typing import Any, ClassVar

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import cached_property
from django.views import View

from accounts.selectors import active_group_names
from accounts.services import save_list_columns

from .. import selectors
from ..choices import Priority
from ..forms import BulkActionForm, resolve_cis, split_names
from ..numbers import parse_id
from .base import TicketViewMixin
from .bulk import BulkActionsMixin
from .columns import (
    DEFAULT_COLUMNS,
    DEFAULT_HIDDEN_COLUMNS,
    LEFT_COLUMNS,
    LIST_TIMER_PREFETCH,
    CellHTML,
    Column,
    SavedView,
    default_saved_views,
)


def date_input(raw: str) -> tuple[str, str]:
    """(input type, value) that shows a date filter the way the browser can display it.

    Report links carry ISO date-times (`2026-12-01T00:00:00+00:00`); a `date` input cannot show those, so the
    list looked unfiltered and pressing Filter dropped the range. The value is shown in the user's time
    zone (the one the filter reads a typed value in): a plain date when it falls on midnight, else a
    `datetime-local` input with the time.
    """
    raw = (raw or "").strip()
    if not raw or parse_date(raw) is not None:
        return "date", raw
    try:
        parsed = parse_datetime(raw)
    except ValueError:
        parsed = None
    if parsed is None:
        return "date", raw  # invalid: shown as typed, with the filter's error under it
    if timezone.is_aware(parsed):
        parsed = timezone.localtime(parsed)
    if parsed.time() == datetime_time.min:
        return "date", parsed.date().isoformat()
    fmt = "%Y-%m-%dT%H:%M:%S" if parsed.second else "%Y-%m-%dT%H:%M"
    return "datetime-local", parsed.strftime(fmt)


class CappedPaginator(Paginator):
    """A paginator whose count stops at `cap` (`capped` then says so).

    Paging through a slice of a million records needs neither the exact total nor page 6,000: counting
    stops after cap + 1 index entries, where an exact count reads them all on every page view. With
    `cap=None` it is Django's paginator.
    """

    def __init__(self, object_list, per_page, *, cap: int | None = None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        if self.cap is None or not isinstance(self.object_list, QuerySet):
            return super().count
        counted = self.object_list.order_by()[: self.cap + 1].count()
        self.capped = counted > self.cap
        return min(counted, self.cap)


def ci_control() -> dict[str, Any]:
    """A filter-bar CI picker: the list turns the picked "name (Class)" into ids (ci_names_to_ids)."""
    return {"name": "ci", "label": "CI", "type": "text", "placeholder": "Type a CI's name", "picker": "ci"}


def yes_no_control(name: str, label: str) -> dict[str, Any]:
    """A filter-bar select for a boolean filter (core.filtersets.BooleanFilter takes "true" / "false")."""
    return {"name": name, "label": label, "type": "select", "choices": [("true", "Yes"), ("false", "No")]}


class TicketListView(TicketViewMixin, BulkActionsMixin, View):
    """The agent list: saved views with counts, the shared FilterSet, sortable columns, server-side
    pagination and bulk actions (POST to the same URL)."""

    filterset_class: ClassVar[type]
    columns: ClassVar[list[Column]] = DEFAULT_COLUMNS
    # Offered in the Columns menu but off until the user turns them on.
    hidden_columns: ClassVar[tuple[str, ...]] = DEFAULT_HIDDEN_COLUMNS
    list_select_related: ClassVar[tuple[str, ...]] = ("assignment_group", "assigned_to")
    page_sizes: ClassVar[tuple[int, ...]] = (25, 50, 100)
    default_view: ClassVar[str] = "open"
    template_name: ClassVar[str] = "core/ticket_list.html"
    # Saved-view badges and the page total count up to this many records, then say so (None: exact).
    count_cap: ClassVar[int | None] = 10_000

    # --- hooks ---------------------------------------------------------------------------------------
    def get_saved_views(self) -> list[SavedView]:
        return default_saved_views(self.model, self.extra_saved_views())

    def extra_saved_views(self) -> list[SavedView]:
        """The kind's own saved views, shown after the shared ones and before "All"."""
        return []

    def filter_controls(self, params) -> list[dict[str, Any]]:
        """The filter bar: each control is a dict the template renders (select, text or date); the kind's
        own controls (`extra_filter_controls`) come after the assignment ones, before the dates."""
        workflow = self.model.workflow
        controls = [
            {"name": "search", "label": "Search", "type": "text", "placeholder": "Number or words"},
            {"name": "state", "label": "State", "type": "select", "choices": [(s, workflow.label(s)) for s in workflow.states]},
            {"name": "priority", "label": "Priority", "type": "select", "choices": [(str(v), label) for v, label in Priority.choices]},
            {"name": "assignment_group", "label": "Group", "type": "select", "choices": [(g, g) for g in active_group_names()]},
            {"name": "assigned_to", "label": "Assigned to", "type": "text", "placeholder": "Type a name", "picker": "agent"},
            {"name": "opened_after", "label": "Opened from", "type": "date"},
            {"name": "opened_before", "label": "Opened before", "type": "date"},
        ]  # fmt: skip
        controls[5:5] = self.extra_filter_controls()
        return controls

    def extra_filter_controls(self) -> list[dict[str, Any]]:
        """The kind's own filter-bar controls."""
        return []

    # --- columns -------------------------------------------------------------------------------------
    def visible_columns(self) -> list[Column]:
        """The user's chosen columns (kept on their user row, `User.list_columns`), else the kind's default set; the SLA
        countdown always comes right after the number."""
        chosen = (getattr(self.request.user, "list_columns", None) or {}).get(self.kind)
        names = {c.name for c in self.columns}
        if chosen:
            shown = [c for c in self.columns if c.name in chosen or c.name == "number"]
        else:
            shown = [c for c in self.columns if c.name not in self.hidden_columns]
        if not shown or (chosen and not set(chosen) & names):
            shown = [c for c in self.columns if c.name not in self.hidden_columns]
        left = [c for name in LEFT_COLUMNS for c in shown if c.name == name]
        return left + [c for c in shown if c not in left]

    def save_columns(self, request) -> HttpResponse | None:
        """`?columns=...&save_columns=1` stores the choice and reloads without those parameters."""
        if request.GET.get("save_columns") != "1":
            return None
        names = {c.name for c in self.columns}
        chosen = [n for n in request.GET.getlist("columns") if n in names]
        save_list_columns(user=request.user, kind=self.kind, columns=chosen)
        query = request.GET.copy()
        query.pop("columns", None)
        query.pop("save_columns", None)
        return HttpResponseRedirect(f"{request.path}?{query.urlencode()}" if query else request.path)

    # --- reading -------------------------------------------------------------------------------------
    @staticmethod
    def ci_names_to_ids(params) -> None:
        """The filter bar's CI picker gives names ("webshop (Application)"); the shared FilterSet (and the
        API) filters by id. Names are read here, one query; an unknown name filters to nothing."""
        text = params.get("ci", "")
        if not text or all(parse_id(t) is not None for t in split_names(text)):
            return
        found, _problems = resolve_cis(split_names(text))
        params.setlist("ci", [",".join(str(ci.pk) for ci in found) or "0"])

    def visible(self) -> QuerySet:
        return selectors.visible_tickets(self.model, self.request.user)

    def current_view(self, saved_views: list[SavedView]) -> SavedView:
        slug = self.request.GET.get("view") or self.default_view
        for view in saved_views:
            if view.slug == slug:
                return view
        raise Http404(f"No saved view {slug!r}")

    def page_size(self) -> int:
        try:
            size = int(self.request.GET.get("page_size", self.page_sizes[0]))
        except ValueError:
            size = self.page_sizes[0]
        return max(1, min(size, 100))

    def get(self, request, *args, **kwargs):
        return self.save_columns(request) or self.render_list(request)

    def render_list(self, request, bulk_form: BulkActionForm | None = None, status: int = 200):
        saved_views = self.get_saved_views()
        view = self.current_view(saved_views)
        base = self.visible()
        params = request.GET.copy()
        params.pop("view", None)
        params.pop("page", None)
        params.pop("page_size", None)
        self.ci_names_to_ids(params)
        filterset = self.filterset_class(params, queryset=view.filter(base, request.user))
        queryset = filterset.qs if filterset.is_valid() else view.filter(base, request.user).none()
        if not params.get("ordering"):
            queryset = queryset.order_by(*view.ordering)
        # The stored tsvector is only for searching; never ship it to Python for a list.
        columns = self.visible_columns()
        queryset = (
            queryset.select_related(*self.list_select_related)
            .prefetch_related(*LIST_TIMER_PREFETCH, *(c.prefetch for c in columns if c.prefetch))
            .defer("search_vector")
        )
        paginator = CappedPaginator(queryset, self.page_size(), cap=self.count_cap)
        page_obj = paginator.get_page(request.GET.get("page"))
        rows = [
            (record, [CellHTML.of(column.cell(record), column.name) for column in columns])
            for record in page_obj.object_list
        ]
        # Without filters the page's own count is the current view's count: do not count it twice.
        unfiltered = filterset.is_valid() and not any(
            value for key in params if key != "ordering" for value in params.getlist(key)
        )
        view_tabs = []
        for v in saved_views:
            count, capped = self.view_count(v, base, paginator if unfiltered and v is view else None)
            view_tabs.append(
                {
                    "slug": v.slug,
                    "label": v.label,
                    "help": v.help_text,
                    "active": v.slug == view.slug,
                    "count": count,
                    "capped": capped,
                }
            )
        ordering = params.get("ordering", "")
        headers = []
        for column in columns:
            header = {
                "name": column.name,
                "label": column.label,
                "sort": column.sort,
                "direction": None,
                "next": None,
            }
            if column.sort:
                if ordering == column.sort:
                    header["direction"], header["next"] = "asc", f"-{column.sort}"
                elif ordering == f"-{column.sort}":
                    header["direction"], header["next"] = "desc", column.sort
                else:
                    header["next"] = column.sort
            headers.append(header)
        controls = self.filter_controls(params)
        filter_errors = filterset.errors if filterset.is_bound else {}
        for control in controls:
            control["value"] = request.GET.get(control["name"], "")
            control["errors"] = filter_errors.get(control["name"], [])
            if control["type"] == "date":
                control["input_type"], control["value"] = date_input(control["value"])
        context = {
            **self.base_context(),
            "saved_views": view_tabs,
            "current_view": view,
            "filterset": filterset,
            "controls": controls,
            "active_filters": any(params.get(c["name"]) for c in controls),
            "headers": headers,
            "rows": rows,
            "page_obj": page_obj,
            "page_sizes": self.page_sizes,
            "page_size": self.page_size(),
            "bulk_form": bulk_form or self.make_bulk_form(None),
            "bulk_actions": self.bulk_actions,
            "assign_url_name": f"{self.kind}-assign-to-me",
            "column_choices": [
                {"name": c.name, "label": c.label, "shown": c in columns}
                for c in self.columns
                if c.name != "number"
            ],
            "noun": self.model._meta.verbose_name_plural,
            # Shown after the (capped) total in the pagination footer.
            "pagination_noun": (
                f"{self.model._meta.verbose_name_plural} (counting stops at {self.count_cap:,}: filter to narrow)"
                if paginator.capped
                else self.model._meta.verbose_name_plural
            ),
        }
        return render(request, self.template_name, context, status=status)

    def view_count(
        self, view: SavedView, base: QuerySet, paginator: CappedPaginator | None
    ) -> tuple[int | None, bool]:
        """(count, capped) for a saved view's badge: one COUNT query, or the page's count when it is the
        same. Past `count_cap` the badge says "10,000+": counting stops there, so a tab over a large slice
        ("All open" on a million tickets) reads cap + 1 index entries instead of counting them all."""
        if not view.counted:
            return None, False
        if paginator is not None:
            return paginator.count, paginator.capped
        queryset = view.filter(base, self.request.user)
        if self.count_cap is None:
            return queryset.count(), False
        counted = queryset.order_by()[: self.count_cap + 1].count()
        return min(counted, self.count_cap), counted > self.count_cap
