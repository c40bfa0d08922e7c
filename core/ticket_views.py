"""Generic web pages for every ticket kind: list, detail, create, edit, transition, comment, attach, watch.

A ticket app plugs in by subclassing and wiring the URLs with `ticket_urlpatterns`:

    # problems/views.py
    class ProblemListView(TicketListView):
        model = Problem
        filterset_class = ProblemFilterSet
        columns = [*TicketListView.columns, Column("known_error", "Known error", sort=None)]

    class ProblemDetailView(TicketDetailView):
        model = Problem
        detail_extra_template = "problems/_detail_extra.html"            # optional side panel

    class ProblemCreateView(TicketCreateView):
        model = Problem
        form_class = ProblemForm                 # a ModelForm; cleaned_data goes to the create service

    class ProblemEditView(TicketEditView):
        model = Problem
        form_class = ProblemForm

    # problems/urls.py
    urlpatterns = ticket_urlpatterns(
        Problem, list_view=ProblemListView, detail_view=ProblemDetailView,
        create_view=ProblemCreateView, edit_view=ProblemEditView,
    )

Every write goes through the services problems/services.py declares with
`register_ticket_services(Problem, create=..., update=..., transition=...)` (core.ticket_services); the
API's TicketViewSet reads the same declaration. That yields the URL names `<kind>-list`, `-create`, `-detail`, `-edit`, `-transition`, `-comment`,
`-attach`, `-watch` (kind = `Model.KIND`). Every page reads through core.selectors (404 for hidden records)
and writes through services; the transition page also serves an htmx partial, comments are posted in place.
List pages run a fixed number of queries whatever the page size: columns render from `select_related`
fields only (list them in `list_select_related`), saved-view counts are one query each.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import time as datetime_time
from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import QuerySet
from django.forms.utils import flatatt
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.views import View

from accounts.models import AssignmentGroup
from accounts.roles import is_workspace_user
from accounts.services import save_list_columns
from core.templatetags.itsm_ui import priority_badge, sla_badge, state_badge

from . import selectors, services
from .choices import Priority
from .exceptions import IllegalTransition, StaleVersion
from .extensions import provided
from .forms import (
    AttachmentForm,
    BulkActionForm,
    CommentForm,
    TransitionForm,
    agent_users,
    resolve_cis,
    split_names,
)
from .models import TicketBase
from .numbers import parse_id
from .ticket_services import TicketServices, services_for

STALE_MESSAGE = (
    "This record was changed by someone else since you opened it (now version {version}). "
    "Nothing was saved: reload the page to see their change, then apply yours again."
)


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def apply_service_error(form: django_forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (or on top of the form)."""
    if hasattr(error, "error_dict"):
        for name, messages_ in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


# --------------------------------------------------------------------------------------------- columns
# The SLA column's timers and their calendars, loaded for the page in a fixed number of queries.
LIST_TIMER_PREFETCH = (
    "sla_timers__definition__calendar__hours",
    "sla_timers__definition__calendar__holidays",
)


@dataclass
class Column:
    """One list column. `accessor` is an attribute path ("assigned_to.username") or a callable(record);
    `sort` is the FilterSet ordering key (None: not sortable); `render` picks the cell format."""

    name: str
    label: str
    sort: str | None = None
    accessor: str | Callable[[Any], Any] | None = None
    render: str = "text"  # text | link | state | priority | datetime | reltime | bool | sla
    # A related set the cell reads (prefetched once for the page, only when the column is shown).
    prefetch: str | None = None

    def value(self, record) -> Any:
        if callable(self.accessor):
            return self.accessor(record)
        value: Any = record
        for part in (self.accessor or self.name).split("."):
            value = getattr(value, part, None) if value is not None else None
        # An accessor may name a method (`get_type_display`): show what it returns, never the method.
        return value() if callable(value) else value

    def cell(self, record) -> str:
        value = self.value(record)
        if self.render == "link":
            return format_html('<a href="{}" class="fw-medium">{}</a>', record.get_absolute_url(), value)
        if self.render == "state":
            return state_badge(value, record.workflow.label(value))
        if self.render == "priority":
            return priority_badge(value)
        if self.render == "datetime":
            if value is None:
                return ""
            from django.utils import timezone

            local = timezone.localtime(value)
            return format_html(
                '<time datetime="{}" title="{}">{}</time>',
                value.isoformat(),
                local.strftime("%Y-%m-%d %H:%M %Z"),
                local.strftime("%a %d %b %H:%M"),
            )
        if self.render == "reltime":
            return relative_time(value)
        if self.render == "sla":
            return sla_badge(value)
        if self.render == "bool":
            return format_html('<i class="ti ti-check text-danger" aria-label="yes"></i>') if value else ""
        return format_html("{}", "" if value is None else value)


# ------------------------------------------------------------------------------------------- move verbs
# A move button says what the person does ("Resolve"), not where the record lands ("Resolved").
MOVE_VERBS = {
    "in_progress": "Start work",
    "on_hold": "Put on hold",
    "resolved": "Resolve",
    "closed": "Close",
    "canceled": "Cancel",
    "new": "Send back to new",
    "assess": "Start assessment",
    "root_cause_analysis": "Start root cause analysis",
    "fix_in_progress": "Start the fix",
    "authorize": "Ask the CAB to authorize",
    "scheduled": "Schedule",
    "implement": "Start implementation",
    "review": "Start the review",
    "pending_approval": "Ask for approval",
    "approved": "Approve",
    "rejected": "Reject",
    "in_fulfillment": "Start fulfillment",
    "fulfilled": "Mark fulfilled",
    "done": "Mark done",
    "open": "Reopen",
}


def move_verb(record: TicketBase, to: str) -> str:
    """The button text of the move from the record's state to `to`: back out of a finished state is
    "Reopen", leaving a hold is "Resume work"."""
    workflow = record.workflow
    finished = workflow.done_states | workflow.final_states
    if record.state in finished and to not in finished:
        return "Reopen"
    if record.state == "on_hold" and to == "in_progress":
        return "Resume work"
    return MOVE_VERBS.get(to, f"Move to {workflow.label(to)}")


def date_input(raw: str) -> tuple[str, str]:
    """(input type, value) that shows a date filter the way the browser can display it.

    Report links carry ISO date-times (`2026-12-01T00:00:00+00:00`); a `date` input cannot show those, so the
    list looked unfiltered and pressing Filter dropped the range. The value is shown in the user's time
    zone (the one the filter reads a typed value in): a plain date when it falls on midnight, else a
    `datetime-local` input with the time.
    """
    from django.utils import timezone
    from django.utils.dateparse import parse_date, parse_datetime

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


def display_value(record, name: str) -> Any:
    """A field for a page: a method (`get_risk_display`) is called, a choice field shows its label."""
    value = getattr(record, name, None)
    if callable(value):
        return value()
    try:
        field = record._meta.get_field(name)
    except Exception:
        return value
    if getattr(field, "choices", None) and value not in (None, ""):
        return dict(field.flatchoices).get(value, value)
    return value


class CellHTML(SafeString):
    """A rendered cell that knows its column (the template marks `<td data-column>` for the CSS)."""

    column = ""

    @classmethod
    def of(cls, html: str, column: str) -> CellHTML:
        cell = cls(html)
        cell.column = column
        return cell


def relative_time(value) -> str:
    """ "3 hours ago", with the absolute time and its zone on hover (and for screen readers in `datetime`)."""
    if value is None:
        return ""
    from django.utils import timezone
    from django.utils.timesince import timesince

    local = timezone.localtime(value)
    now = timezone.now()
    text = (
        "just now"
        if abs((now - value).total_seconds()) < 60
        else (
            f"{timesince(value, now).split(', ')[0]} ago"
            if value <= now
            else f"in {timesince(now, value).split(', ')[0]}"
        )
    )
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M %Z"),
        text.replace("\xa0", " "),
    )


def ci_names(record) -> str:
    """The record's CIs from the page's prefetch: the first two names, then "+n"."""
    names = sorted(ci.name for ci in record.configuration_items.all())
    return ", ".join(names[:2]) + (f" +{len(names) - 2}" if len(names) > 2 else "")


def most_urgent_timer(record) -> dict | None:
    """The list row's SLA: its most urgent timer (running or breached first, soonest due), from the
    page's prefetched timers."""
    ticket_timers = provided("ticket_timers")
    timers = ticket_timers(record)
    return timers[0] if timers else None


DEFAULT_COLUMNS = [
    Column("number", "Number", sort="number", render="link"),
    Column("short_description", "Short description", sort="short_description"),
    Column("priority", "Priority", sort="priority", render="priority"),
    Column("state", "State", sort="state", render="state"),
    Column("assignment_group", "Group", accessor="assignment_group.name"),
    Column("assigned_to", "Assigned to", accessor="assigned_to.username"),
    Column("opened_at", "Opened", sort="opened_at", render="reltime"),
    Column("sla", "SLA", accessor=most_urgent_timer, render="sla"),
    Column("updated_at", "Updated", sort="updated_at", render="reltime"),
    Column("ci", "CI", accessor=ci_names, prefetch="configuration_items"),
]
# Shown until a user picks their own; the SLA countdown sits next to the number, where triage starts.
DEFAULT_HIDDEN_COLUMNS = ("ci", "opened_at", "category", "major")
LEFT_COLUMNS = ("number", "sla")


class SelectWidget(django_forms.Select):
    """A plain single `<select>` rendered in Python, for the list page's bulk bar.

    Django renders every `<option>` through a template include; the bulk bar's assignee list has one option
    per agent (hundreds), which made rendering it the largest cost of a list page view. The markup is the
    same as Django's (attributes, `selected`), and `widget_type` stays "select" (the class name's "Widget"
    suffix is dropped) so templates style it the same way. Grouped choices fall back to Django's renderer.
    """

    def render(self, name, value, attrs=None, renderer=None):
        choices = list(iter(self.choices))  # list() alone would ask a ModelChoiceIterator for a COUNT
        if any(isinstance(label, list | tuple) for _, label in choices):
            return super().render(name, value, attrs, renderer)
        final_attrs = self.build_attrs(self.attrs, attrs)
        selected = set(self.format_value(value))
        options = format_html_join(
            "",
            '<option value="{}"{}>{}</option>',
            (
                (option, " selected" if str(option) in selected else "", label)
                for option, label in ((("" if v is None else v), label) for v, label in choices)
            ),
        )
        return format_html('<select name="{}"{}>{}</select>', name, flatatt(final_attrs), options)


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


# ----------------------------------------------------------------------------------------- saved views
@dataclass
class SavedView:
    """A named, counted slice of the list ("My work"). `filter(queryset, user)` narrows the visible
    records; `ordering` is the default sort inside the view; `counted=False` skips the badge count (for
    views whose count would scan the whole table)."""

    slug: str
    label: str
    filter: Callable[[QuerySet, Any], QuerySet]
    ordering: tuple[str, ...] = ("-opened_at", "-id")
    counted: bool = True
    help_text: str = ""


def open_states(model: type[TicketBase]) -> list[str]:
    return model.workflow.open_states


def default_saved_views(model: type[TicketBase]) -> list[SavedView]:
    """The views every ticket kind has; apps add their own (see incidents.views)."""
    states = open_states(model)
    return [
        SavedView("open", "All open", lambda qs, user: qs.filter(state__in=states)),
        SavedView(
            "my_work",
            "My work",
            lambda qs, user: qs.filter(assigned_to=user, state__in=states),
            ordering=("priority", "-opened_at", "-id"),
        ),
        SavedView(
            "unassigned",
            "Unassigned in my groups",
            lambda qs, user: qs.filter(
                assigned_to__isnull=True,
                state__in=states,
                assignment_group__in=AssignmentGroup.objects.filter(members=user).values("pk"),
            ),
            ordering=("priority", "opened_at", "id"),
        ),
        SavedView("all", "All", lambda qs, user: qs, counted=False),
    ]


# ------------------------------------------------------------------------------------------ base mixin
class TicketViewMixin(LoginRequiredMixin):
    """Model wiring shared by every generic ticket page; workspace users only (requesters use the portal)."""

    model: ClassVar[type[TicketBase]]
    detail_select_related: ClassVar[tuple[str, ...]] = ("assignment_group", "assigned_to", "opened_by")

    @property
    def ticket_services(self) -> TicketServices:
        """The services the app declared for this kind (core.ticket_services); the API uses the same."""
        return services_for(self.model)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_workspace_user(request.user):
            return redirect("portal:home")
        return super().dispatch(request, *args, **kwargs)

    @property
    def kind(self) -> str:
        return self.model.KIND

    def url(self, name: str, **kwargs) -> str:
        return reverse(f"{self.kind}-{name}", kwargs=kwargs or None)

    def get_record(self, number: str) -> TicketBase:
        record = selectors.get_visible_ticket(self.model, self.request.user, number)
        # Re-read with the related rows the page shows, still through the visible queryset.
        return (
            selectors.visible_tickets(self.model, self.request.user)
            .select_related(*self.detail_select_related)
            .get(pk=record.pk)
        )

    def base_context(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kind_label": self.model._meta.verbose_name,
            "kind_label_plural": self.model._meta.verbose_name_plural,
            "list_url": self.url("list"),
            "create_url": self.url("create") if self.has_url("create") else None,
        }

    def has_url(self, name: str) -> bool:
        try:
            reverse(f"{self.kind}-{name}")
        except Exception:
            return False
        return True


# ---------------------------------------------------------------------------------------------- list
class TicketListView(TicketViewMixin, View):
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
    # (name, label); each has a `bulk_<name>(records, form)` method. Apps append their own.
    bulk_actions: ClassVar[list[tuple[str, str]]] = [("assign", "Assign"), ("transition", "Change state")]
    bulk_limit: ClassVar[int] = 500
    # Saved-view badges and the page total count up to this many records, then say so (None: exact).
    count_cap: ClassVar[int | None] = 10_000

    # --- hooks ---------------------------------------------------------------------------------------
    def get_saved_views(self) -> list[SavedView]:
        return default_saved_views(self.model)

    def filter_controls(self, params) -> list[dict[str, Any]]:
        """The filter bar: each control is a dict the template renders (select, text or date)."""
        workflow = self.model.workflow
        return [
            {"name": "search", "label": "Search", "type": "text", "placeholder": "Number or words"},
            {"name": "state", "label": "State", "type": "select", "choices": [(s, workflow.label(s)) for s in workflow.states]},
            {"name": "priority", "label": "Priority", "type": "select", "choices": [(str(v), label) for v, label in Priority.choices]},
            {"name": "assignment_group", "label": "Group", "type": "select", "choices": [(g, g) for g in AssignmentGroup.objects.filter(active=True).values_list("name", flat=True)]},
            {"name": "assigned_to", "label": "Assigned to", "type": "text", "placeholder": "Type a name", "picker": "agent"},
            {"name": "opened_after", "label": "Opened from", "type": "date"},
            {"name": "opened_before", "label": "Opened before", "type": "date"},
        ]  # fmt: skip

    def bulk_extra_fields(self) -> dict[str, django_forms.Field]:
        return {}

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

    # --- bulk actions --------------------------------------------------------------------------------
    def make_bulk_form(self, data) -> BulkActionForm:
        form = BulkActionForm(
            data, model=self.model, actions=self.bulk_actions, extra_fields=self.bulk_extra_fields()
        )
        if data is None and isinstance(form.fields.get("assigned_to"), django_forms.ModelChoiceField):
            # Rendering only needs each agent's id and username (its label): not the whole user row.
            form.fields["assigned_to"].queryset = form.fields["assigned_to"].queryset.only("pk", "username")
        for field in form.fields.values():
            if type(field.widget) is django_forms.Select:
                widget = SelectWidget(attrs=field.widget.attrs)
                widget.choices = field.widget.choices
                widget.is_required = field.widget.is_required
                field.widget = widget
        return form

    def post(self, request, *args, **kwargs):
        """Apply one action to the selected records, all or nothing: a failure on any record rolls back
        every change and names the record and the field."""
        form = self.make_bulk_form(request.POST)
        if not form.is_valid():
            return self.render_list(request, bulk_form=form, status=400)
        numbers = form.cleaned_data["selected"][: self.bulk_limit]
        records = list(self.visible().filter(number__in=numbers).order_by("number"))
        if len(records) != len(set(numbers)):
            form.add_error("selected", "Some selected records do not exist or are not visible to you.")
            return self.render_list(request, bulk_form=form, status=400)
        handler = getattr(self, f"bulk_{form.cleaned_data['action']}")
        try:
            with transaction.atomic():
                for record in records:
                    try:
                        handler(record, form)
                    except ValidationError as error:
                        error.record_number = record.number
                        raise
        except ValidationError as error:
            number = getattr(error, "record_number", "")
            if hasattr(error, "error_dict"):
                for name, msgs in error.message_dict.items():
                    target = name if name in form.fields else None
                    form.add_error(target, [f"{number}: {m}" for m in msgs])
            else:
                form.add_error(None, [f"{number}: {m}" for m in error.messages])
            messages.error(request, f"Nothing was changed: {number} could not be updated.")
            return self.render_list(request, bulk_form=form, status=400)
        label = dict(self.bulk_actions)[form.cleaned_data["action"]]
        messages.success(request, f"{label}: {len(records)} {self.model._meta.verbose_name_plural} updated.")
        return HttpResponseRedirect(request.get_full_path())

    def bulk_assign(self, record: TicketBase, form: BulkActionForm) -> None:
        changes = {}
        if form.cleaned_data.get("assignment_group"):
            changes["assignment_group"] = form.cleaned_data["assignment_group"]
        if form.cleaned_data.get("assigned_to"):
            changes["assigned_to"] = form.cleaned_data["assigned_to"]
        self.ticket_services.update(record, actor=self.request.user, changes=changes)

    def bulk_transition(self, record: TicketBase, form: BulkActionForm) -> None:
        to = form.cleaned_data["to"]
        self.ticket_services.transition(
            record,
            to=to,
            actor=self.request.user,
            fields=form.move_fields(to),
            note=form.cleaned_data.get("note", ""),
        )


# -------------------------------------------------------------------------------------------- detail
class TicketDetailView(TicketViewMixin, View):
    """The record page: fields, allowed moves, timeline with the comment box, attachments, watchers.

    `detail_extra_template` is included in the side column (linked records, CIs); `get_extra_context`
    feeds it.
    """

    template_name: ClassVar[str] = "core/ticket_detail.html"
    detail_extra_template: ClassVar[str | None] = None
    detail_fields: ClassVar[list[tuple[str, str]]] = [
        ("Assignment group", "assignment_group"),
        ("Assigned to", "assigned_to"),
        ("Opened by", "opened_by"),
        ("Opened", "opened_at"),
        ("Updated", "updated_at"),
    ]

    def get_extra_context(self, record: TicketBase) -> dict[str, Any]:
        return {}

    def move_refusal(self, record: TicketBase, to: str) -> str | None:
        """Why the current user cannot make the move `to` now (None: they can). Apps override it with
        their services' guards (a change waiting for its CAB cannot be scheduled), so the page shows only
        the buttons that can succeed."""
        return None

    def available_moves(self, record: TicketBase) -> list[str]:
        return [to for to in record.allowed_moves() if self.move_refusal(record, to) is None]

    def get(self, request, number: str):
        record = self.get_record(number)
        return render(request, self.template_name, self.detail_context(record))

    def detail_context(self, record: TicketBase, **overrides) -> dict[str, Any]:
        user = self.request.user
        staff = selectors.is_staff_viewer(record, user)
        moves = [
            {
                "to": to,
                "label": move_verb(record, to),
                "state_label": record.workflow.label(to),
                "url": self.url("transition", number=record.number, to=to),
                "needs_fields": bool(record.workflow.fields_for(to)),
            }
            for to in self.available_moves(record)
        ]
        fields = [(label, display_value(record, name)) for label, name in self.detail_fields]
        context = {
            **self.base_context(),
            "record": record,
            "state_label": record.workflow.label(record.state),
            "fields": fields,
            "moves": moves,
            "activities": selectors.timeline(record, user),
            "attachments": selectors.attachments(record, user).select_related("uploaded_by"),
            "watchers": list(record.watchers.order_by("username")),
            "is_watching": record.watchers.filter(pk=user.pk).exists(),
            "comment_form": CommentForm(staff=staff),
            "attachment_form": AttachmentForm(),
            "staff": staff,
            "edit_url": self.url("edit", number=record.number) if self.has_url_kw("edit") else None,
            "comment_url": self.url("comment", number=record.number),
            "attach_url": self.url("attach", number=record.number),
            "watch_url": self.url("watch", number=record.number),
            "assign_to_me_url": self.url("assign-to-me", number=record.number),
            "detail_extra_template": self.detail_extra_template,
            **self.get_extra_context(record),
        }
        context.update(overrides)
        return context

    def has_url_kw(self, name: str) -> bool:
        try:
            reverse(f"{self.kind}-{name}", kwargs={"number": "X"})
        except Exception:
            return False
        return True


class TicketCommentView(TicketDetailView):
    """POST a public comment or a work note; with htmx the activity panel is swapped in place."""

    def get(self, request, number: str):
        return redirect(self.url("detail", number=number.upper()))

    def post(self, request, number: str):
        record = self.get_record(number)
        staff = selectors.is_staff_viewer(record, request.user)
        form = CommentForm(request.POST, staff=staff)
        if form.is_valid():
            try:
                services.add_comment(
                    record,
                    actor=request.user,
                    body=form.cleaned_data["body"],
                    public=form.is_public or not staff,
                )
            except ValidationError as error:
                apply_service_error(form, error)
        if form.errors:
            if is_htmx(request):
                context = self.detail_context(record, comment_form=form)
                return render(request, "core/partials/ticket_activity.html", context, status=400)
            return render(
                request, self.template_name, self.detail_context(record, comment_form=form), status=400
            )
        if is_htmx(request):
            record = self.get_record(number)
            return render(request, "core/partials/ticket_activity.html", self.detail_context(record))
        messages.success(request, "Comment added." if form.is_public else "Work note added.")
        return redirect(record.get_absolute_url())


class TicketAttachView(TicketDetailView):
    """POST an attachment (multipart); the list and the timeline show it."""

    def get(self, request, number: str):
        return redirect(self.url("detail", number=number.upper()))

    def post(self, request, number: str):
        record = self.get_record(number)
        staff = selectors.is_staff_viewer(record, request.user)
        form = AttachmentForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.add_attachment(
                    record,
                    actor=request.user,
                    uploaded_file=form.cleaned_data["file"],
                    public=form.cleaned_data["public"] or not staff,
                )
            except ValidationError as error:
                apply_service_error(form, error)
        if form.errors:
            return render(
                request, self.template_name, self.detail_context(record, attachment_form=form), status=400
            )
        messages.success(request, f"Attached {form.cleaned_data['file'].name}.")
        return redirect(record.get_absolute_url())


class TicketWatchView(TicketDetailView):
    """POST `watching=1|0`: start or stop watching the record yourself."""

    def get(self, request, number: str):
        return redirect(self.url("detail", number=number.upper()))

    def post(self, request, number: str):
        record = self.get_record(number)
        watching = request.POST.get("watching") == "1"
        services.set_watching(record, actor=request.user, user=request.user, watching=watching)
        messages.success(request, "You are watching this record." if watching else "You stopped watching.")
        return redirect(record.get_absolute_url())


class TicketAssignToMeView(TicketDetailView):
    """POST: the current user takes the record ("Assign to me" on the list, the detail page and the `a`
    key). The group stays; the service refuses an assignee outside it, and the message says so. Goes back
    to `next` (the list the button was on) when it is a local URL."""

    def get(self, request, number: str):
        return redirect(self.url("detail", number=number.upper()))

    def post(self, request, number: str):
        from django.utils.http import url_has_allowed_host_and_scheme

        record = self.get_record(number)
        target = request.POST.get("next") or ""
        if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
            target = record.get_absolute_url()
        if record.assigned_to_id == request.user.pk:
            messages.info(request, f"{record.number} is already assigned to you.")
            return redirect(target)
        try:
            self.ticket_services.update(record, actor=request.user, changes={"assigned_to": request.user})
        except ValidationError as error:
            messages.error(request, f"{record.number} was not assigned: {' '.join(error.messages)}")
        else:
            messages.success(request, f"{record.number} is now assigned to you.")
        return redirect(target)


class TicketTransitionView(TicketDetailView):
    """GET: the small form for one move (an htmx partial, or a page without htmx). POST: apply it."""

    form_template_name: ClassVar[str] = "core/partials/transition_form.html"
    page_template_name: ClassVar[str] = "core/ticket_transition.html"

    def respond(self, request, record, form, status=200):
        context = {
            **self.base_context(),
            "record": record,
            "form": form,
            "verb": move_verb(record, form.to),
            "action_url": self.url("transition", number=record.number, to=form.to),
        }
        template = self.form_template_name if is_htmx(request) else self.page_template_name
        return render(request, template, context, status=status)

    def check_move(self, record, to: str) -> None:
        if to not in record.allowed_moves():
            raise Http404(f"{record.number} cannot move to {to}")
        refusal = self.move_refusal(record, to)
        if refusal:
            raise PermissionDenied(refusal)

    def get(self, request, number: str, to: str):
        record = self.get_record(number)
        self.check_move(record, to)
        return self.respond(request, record, TransitionForm(record=record, to=to))

    def post(self, request, number: str, to: str):
        record = self.get_record(number)
        form = TransitionForm(request.POST, record=record, to=to)
        if form.is_valid():
            try:
                self.ticket_services.transition(
                    record,
                    to=to,
                    actor=request.user,
                    fields=form.move_fields(),
                    note=form.cleaned_data.get("note") or "",
                    expected_version=form.cleaned_data.get("version"),
                )
            except StaleVersion as error:
                form.add_error(None, STALE_MESSAGE.format(version=error.current_version))
            except IllegalTransition as error:
                form.add_error(None, error.message_dict["to"])
            except ValidationError as error:
                apply_service_error(form, error)
        if form.errors:
            # With htmx the form comes back in place, under the ticket, with the errors next to the fields
            # (itsm.js swaps 400 answers); without it, as a page.
            return self.respond(request, record, form, status=400)
        label = record.workflow.label(to)
        messages.success(request, f"{record.number} moved to {label}.")
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = record.get_absolute_url()
            return response
        return redirect(record.get_absolute_url())


# ---------------------------------------------------------------------------------------- create/edit
class TicketFormViewBase(TicketViewMixin, View):
    form_class: ClassVar[type[django_forms.Form]]
    template_name: ClassVar[str] = "core/ticket_form.html"

    def form_kwargs(self) -> dict[str, Any]:
        """Extra keyword arguments for the form (subclasses pass e.g. the user)."""
        return {}

    def render_form(self, form, record=None, status=200):
        context = {**self.base_context(), "form": form, "record": record}
        return render(self.request, self.template_name, context, status=status)


class TicketCreateView(TicketFormViewBase):
    """Open a record through the kind's create service (`create(actor=..., **form.cleaned_data)`)."""

    def get(self, request):
        return self.render_form(self.form_class(**self.form_kwargs()))

    def post(self, request):
        form = self.form_class(request.POST, **self.form_kwargs())
        if form.is_valid():
            try:
                record = self.ticket_services.create(actor=request.user, **self.service_data(form))
            except ValidationError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, f"{record.number} created.")
                return redirect(record.get_absolute_url())
        return self.render_form(form, status=400)

    def service_data(self, form) -> dict[str, Any]:
        return {k: v for k, v in form.cleaned_data.items() if k != "version"}


class TicketEditView(TicketFormViewBase):
    """Edit through the kind's update service (record, actor, changes, expected_version, CIs); the
    form's hidden `version` makes a concurrent edit fail loudly instead of overwriting."""

    def get(self, request, number: str):
        record = self.get_record(number)
        form = self.form_class(instance=record, initial={"version": record.version}, **self.form_kwargs())
        return self.render_form(form, record)

    def post(self, request, number: str):
        record = self.get_record(number)
        # Bind to a throw-away copy: ModelForm validation writes into its instance.
        form = self.form_class(request.POST, instance=self.get_record(number), **self.form_kwargs())
        if form.is_valid():
            data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
            cis = data.pop("configuration_items", None)
            try:
                self.ticket_services.update(
                    record,
                    actor=request.user,
                    changes=data,
                    expected_version=form.cleaned_data.get("version"),
                    configuration_items=cis,
                )
            except StaleVersion as error:
                form.add_error(None, STALE_MESSAGE.format(version=error.current_version))
            except ValidationError as error:
                apply_service_error(form, error)
            else:
                messages.success(request, f"{record.number} saved.")
                return redirect(record.get_absolute_url())
        return self.render_form(form, record, status=400)


# ---------------------------------------------------------------------------------------------- urls
def ticket_urlpatterns(
    model: type[TicketBase],
    *,
    list_view: type[TicketListView],
    detail_view: type[TicketDetailView],
    create_view: type[TicketCreateView] | None = None,
    edit_view: type[TicketEditView] | None = None,
) -> list:
    """The standard URLs of a ticket kind, named `<kind>-list`, `<kind>-detail`, ... (see module doc)."""
    kind = model.KIND
    attrs = {
        "model": model,
        "detail_select_related": detail_view.detail_select_related,
    }
    number = "<str:number>"
    patterns = [
        path("", list_view.as_view(), name=f"{kind}-list"),
        path(f"{number}/", detail_view.as_view(), name=f"{kind}-detail"),
        path(
            f"{number}/transition/<slug:to>/",
            type(f"{model.__name__}TransitionView", (TicketTransitionView, detail_view), attrs).as_view(),
            name=f"{kind}-transition",
        ),
        path(
            f"{number}/comment/",
            type(f"{model.__name__}CommentView", (TicketCommentView, detail_view), attrs).as_view(),
            name=f"{kind}-comment",
        ),
        path(
            f"{number}/attachments/",
            type(f"{model.__name__}AttachView", (TicketAttachView, detail_view), attrs).as_view(),
            name=f"{kind}-attach",
        ),
        path(
            f"{number}/assign-to-me/",
            type(f"{model.__name__}AssignToMeView", (TicketAssignToMeView, detail_view), attrs).as_view(),
            name=f"{kind}-assign-to-me",
        ),
        path(
            f"{number}/watch/",
            type(f"{model.__name__}WatchView", (TicketWatchView, detail_view), attrs).as_view(),
            name=f"{kind}-watch",
        ),
    ]
    if create_view is not None:
        patterns.insert(1, path("new/", create_view.as_view(), name=f"{kind}-create"))
    if edit_view is not None:
        patterns.append(path(f"{number}/edit/", edit_view.as_view(), name=f"{kind}-edit"))
    return patterns


__all__ = [
    "Column",
    "DEFAULT_COLUMNS",
    "SavedView",
    "TicketCreateView",
    "TicketDetailView",
    "TicketEditView",
    "TicketListView",
    "agent_users",
    "move_verb",
    "default_saved_views",
    "open_states",
    "ticket_urlpatterns",
]
