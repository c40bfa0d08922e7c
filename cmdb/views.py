"""CMDB pages: the CI list, the CI detail (attributes, relationships, graph, tickets, history), the
import page for cmdb managers, the graph JSON and the CI autocomplete used by ticket forms.

Views are thin: reads come from cmdb.selectors (a hidden CI is a 404), writes from cmdb.importer /
cmdb.services.
"""

from __future__ import annotations

import json

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from accounts.roles import is_workspace_user
from accounts.selectors import active_group_names

from . import selectors
from .filtersets import CIFilterSet
from .importer import PRESETS, ImportFileError, guess_format, import_file
from .models import ChangeSource, CIClass, CIStatus, Environment
from .permissions import can_edit_cmdb

PAGE_SIZES = (25, 50, 100)
AUTOCOMPLETE_LIMIT = selectors.AUTOCOMPLETE_LIMIT


def _page_size(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page_size", PAGE_SIZES[0])), 100))
    except ValueError:
        return PAGE_SIZES[0]


@login_required
@require_GET
def ci_list(request):
    """CIs with class, status, environment, group and text filters; a fixed number of queries per page."""
    filterset = CIFilterSet(request.GET, queryset=selectors.visible_cis(request.user))
    queryset = filterset.qs if filterset.is_valid() else selectors.visible_cis(request.user).none()
    if "ordering" not in request.GET:
        queryset = queryset.order_by("name", "id")
    page = Paginator(queryset, _page_size(request)).get_page(request.GET.get("page"))
    classes = CIClass.objects.order_by("label")
    if not is_workspace_user(request.user):
        classes = classes.filter(name__in=selectors.REQUESTER_VISIBLE_CLASSES)
    context = {
        "page_obj": page,
        "cis": page.object_list,
        "filters": request.GET,
        "classes": list(classes.values_list("name", "label")),
        "statuses": CIStatus.choices,
        "environments": Environment.choices,
        "groups": active_group_names(),
        "can_edit": can_edit_cmdb(request.user),
        "page_sizes": PAGE_SIZES,
    }
    return render(request, "cmdb/ci_list.html", context)


@login_required
@require_GET
def ci_detail(request, pk: int):
    ci = selectors.get_visible_ci(request.user, pk)
    outgoing, incoming = selectors.ci_relationships(ci, user=request.user)
    impacted = selectors.impact(ci.pk, user=request.user)
    context = {
        "ci": ci,
        "attributes": sorted((ci.attributes or {}).items()),
        "schema_properties": (ci.ci_class.attribute_schema or {}).get("properties", {}),
        "outgoing": outgoing,
        "incoming": incoming,
        "impacted_services": [row for row in impacted if row["is_business_service"]],
        "impact_count": len(impacted),
        "tickets": selectors.open_tickets_for_ci(ci, user=request.user),
        "history": selectors.ci_history(ci)[:50],
        "can_edit": can_edit_cmdb(request.user),
    }
    return render(request, "cmdb/ci_detail.html", context)


@login_required
@require_GET
def ci_graph(request, pk: int):
    """The CI's neighbourhood for the detail page's cytoscape graph (`?hops=1..3`)."""
    ci = selectors.get_visible_ci(request.user, pk)
    try:
        hops = max(1, min(int(request.GET.get("hops", "1")), 3))
    except ValueError:
        hops = 1
    return JsonResponse(selectors.neighbourhood_graph(ci, user=request.user, max_hops=hops))


@login_required
@require_GET
def ci_autocomplete(request):
    """CIs matching `q` for linking CIs from ticket forms (selectors.autocomplete_cis: exact serial or id,
    name prefix, then name substring where pg_trgm exists).

    JSON `{"results": [{"id", "name", "ci_class", "label"}]}`, or an htmx partial of options when the
    request comes from htmx.
    """
    text = (request.GET.get("q") or "").strip()[:100]
    results = selectors.autocomplete_cis(
        request.user, text, ci_class=request.GET.get("ci_class") or None, limit=AUTOCOMPLETE_LIMIT
    )
    if request.headers.get("HX-Request"):
        return render(request, "cmdb/partials/autocomplete.html", {"results": results, "q": text})
    return JsonResponse(
        {
            "results": [
                {
                    "id": ci.pk,
                    "name": ci.name,
                    "ci_class": ci.ci_class.name,
                    "label": f"{ci.name} ({ci.ci_class.label})",
                }
                for ci in results
            ]
        }
    )


class ImportForm(forms.Form):
    file = forms.FileField(help_text="CSV (a column per field, attributes.<name> per attribute) or JSON.")
    preset = forms.ChoiceField(
        required=False,
        choices=[("", "Our own columns")]
        + [(name, f"{name.capitalize()} export") for name in sorted(PRESETS)],
        help_text="Read another tool's export without editing it.",
    )
    default_class = forms.ChoiceField(required=False, help_text="Class for rows without a ci_class column.")
    mapping = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text='Optional column mapping as JSON, e.g. {"Hostname": "name", "Cores": "attributes.cpu_count"}.',
    )
    encoding = forms.ChoiceField(
        choices=[("utf-8", "UTF-8"), ("cp1252", "Windows-1252"), ("latin-1", "ISO-8859-1")], initial="utf-8"
    )
    dry_run = forms.BooleanField(
        required=False, initial=True, help_text="Report what would change, write nothing."
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["default_class"].choices = [("", "—")] + list(
            CIClass.objects.values_list("name", "label")
        )

    def clean_mapping(self):
        raw = self.cleaned_data["mapping"].strip()
        if not raw:
            return None
        try:
            mapping = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"Not valid JSON: {exc}") from None
        if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
            raise forms.ValidationError('Must be a JSON object of "source column": "field".')
        return mapping


@login_required
@require_http_methods(["GET", "POST"])
def ci_import(request):
    """Upload a file for cmdb managers; shows the per-row report (dry run by default)."""
    if not can_edit_cmdb(request.user):
        raise PermissionDenied
    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        data = upload.read()
        try:
            report = import_file(
                data,
                format=guess_format(upload.name, upload.content_type or "", data),
                actor=request.user,
                dry_run=form.cleaned_data["dry_run"],
                mapping=form.cleaned_data["mapping"],
                preset=form.cleaned_data["preset"] or None,
                default_class=form.cleaned_data["default_class"] or None,
                encoding=form.cleaned_data["encoding"],
                source=ChangeSource.IMPORT,
            )
        except ImportFileError as exc:
            form.add_error("file", str(exc))
    return render(request, "cmdb/ci_import.html", {"form": form, "report": report})
