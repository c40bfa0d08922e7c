"""Agent home, manager dashboard and CSV exports. Thin: the numbers come from reports.metrics, the
agent home lists from reports.selectors."""

import csv

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_GET

from accounts.models import AssignmentGroup
from accounts.roles import is_workspace_user

from . import metrics, selectors


@login_required
@require_GET
def agent_home(request):
    """Where an agent starts the day: own work, the groups' queue, SLAs about to breach, approvals, watched."""
    if not is_workspace_user(request.user):
        return redirect("portal:home")
    user = request.user
    context = {
        "my_work": selectors.my_open_work(user),
        "unassigned": selectors.group_queue(user),
        "breaching": selectors.breaching_soon(user),
        "approvals": selectors.my_approvals(user),
        "watched": selectors.watched_recently(user),
        "breach_hours": int(selectors.BREACH_SOON.total_seconds() // 3600),
    }
    return render(request, "reports/agent_home.html", context)


def _filters_or_default(request):
    try:
        return metrics.parse_filters(request.GET), {}
    except metrics.FilterError as error:
        return metrics.default_filters(), error.errors


@login_required
@require_GET
def dashboard(request):
    """The manager dashboard: every table with its chart, for the date range and groups asked for."""
    if not metrics.can_view_dashboards(request.user):
        raise Http404
    filters, errors = _filters_or_default(request)
    tables = metrics.dashboard(request.user, filters)
    charts = {t.slug: t.chart for t in tables if t.chart}
    context = {
        "filters": filters,
        "errors": errors,
        "tables": tables,
        "charts": charts,
        "all_groups": AssignmentGroup.objects.order_by("name"),
        "query": request.GET.urlencode(),
    }
    return render(request, "reports/dashboard.html", context)


@login_required
@require_GET
def export_csv(request, slug: str):
    """One dashboard table as CSV, with exactly the numbers the page shows for the same filters."""
    if not metrics.can_view_dashboards(request.user) or slug not in metrics.TABLES:
        raise Http404
    try:
        filters = metrics.parse_filters(request.GET)
    except metrics.FilterError as error:
        return HttpResponse(
            "\n".join(f"{k}: {v}" for k, v in error.errors.items()), status=400, content_type="text/plain"
        )
    table = metrics.table(request.user, filters, slug)
    if table is None:
        raise Http404
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = slugify(f"{slug}-{filters.start}-{filters.end}")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(table.columns)
    for row in table.plain_rows():
        writer.writerow(["" if v is None else _csv_safe(v) for v in row])
    return response


def _csv_safe(value):
    """Neutralise spreadsheet formulas in text cells (a group or CI name starting with = + - @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
