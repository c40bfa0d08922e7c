"""Workspace pages of SPEC §8: contracts (list with an "Expiring" view, detail with covered CIs and the
history timeline, create, edit, renew), vendors, the software catalog with its compliance report, and a
title's compliance page with the CIs behind each number.

Thin: reads from contracts.selectors (requesters get 404), writes through contracts.services (cmdb
managers and admins; other workspace roles get 403).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import selectors, services
from .choices import ContractType, Renewal
from .filtersets import ContractFilterSet
from .forms import ContractForm, LicenseForm, RenewForm, VendorForm
from .models import Vendor
from .permissions import can_edit_contracts

PAGE_SIZE = 50
EXPIRING_DAYS = 90  # what the "Expiring" view shows by default


def _writer(request) -> None:
    selectors.require_reader(request.user)
    if not can_edit_contracts(request.user):
        raise PermissionDenied("Only CMDB managers and admins can change contracts.")


def _form_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
@require_GET
def contract_list(request):
    """Contracts with filters; `?view=expiring` lists those ending within `expiring_within` days (90)."""
    queryset = selectors.contracts(request.user).annotate(ci_count=Count("configuration_items"))
    params = request.GET.copy()
    expiring = params.get("view") == "expiring"
    if expiring and not params.get("expiring_within"):
        params["expiring_within"] = str(EXPIRING_DAYS)
    filterset = ContractFilterSet(params, queryset=queryset)
    rows = filterset.qs if filterset.is_valid() else queryset.none()
    if "ordering" not in params:
        rows = rows.order_by("end_date", "number")
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page_obj": page,
        "contracts": page.object_list,
        "filters": params,
        "errors": filterset.errors,
        "expiring": expiring,
        "vendors": list(Vendor.objects.order_by("name").values_list("pk", "name")),
        "types": ContractType.choices,
        "renewals": Renewal.choices,
        "can_edit": can_edit_contracts(request.user),
    }
    return render(request, "contracts/contract_list.html", context)


@login_required
@require_GET
def contract_detail(request, number: str):
    contract = selectors.get_contract(request.user, number)
    context = {
        "contract": contract,
        "cis": contract.configuration_items.select_related("ci_class").order_by("name"),
        "licenses": contract.licenses.select_related("software"),
        "history": selectors.contract_history(contract)[:100],
        "can_edit": can_edit_contracts(request.user),
        "renew_form": RenewForm(),
    }
    return render(request, "contracts/contract_detail.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def contract_create(request):
    _writer(request)
    form = ContractForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        cis = data.pop("configuration_items")
        try:
            contract = services.contract_create(actor=request.user, fields=data, configuration_items=cis)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Contract {contract.number} created.")
            return redirect(contract)
    return render(request, "contracts/contract_form.html", {"form": form, "contract": None})


@login_required
@require_http_methods(["GET", "POST"])
def contract_edit(request, number: str):
    contract = selectors.get_contract(request.user, number)
    _writer(request)
    form = ContractForm(request.POST or None, initial=ContractForm.initial_for(contract))
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        cis = data.pop("configuration_items")
        try:
            services.contract_update(contract, actor=request.user, changes=data, configuration_items=cis)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, f"Contract {contract.number} saved.")
            return redirect(contract)
    return render(request, "contracts/contract_form.html", {"form": form, "contract": contract})


@login_required
@require_POST
def contract_renew(request, number: str):
    contract = selectors.get_contract(request.user, number)
    _writer(request)
    form = RenewForm(request.POST)
    if form.is_valid():
        try:
            services.contract_renew(contract, actor=request.user, end_date=form.cleaned_data["end_date"])
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request, f"Contract {contract.number} renewed until {form.cleaned_data['end_date']}."
            )
    else:
        messages.error(request, "Give the new end date.")
    return redirect(contract)


@login_required
@require_http_methods(["GET", "POST"])
def vendor_list(request):
    """Vendors with their support contact and contract count; cmdb managers add vendors here."""
    selectors.require_reader(request.user)
    can_edit = can_edit_contracts(request.user)
    form = VendorForm(request.POST or None)
    if request.method == "POST":
        _writer(request)
        if form.is_valid():
            try:
                vendor = services.vendor_save(actor=request.user, fields=form.cleaned_data)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, f"Vendor {vendor.name} added.")
                return redirect("vendor-list")
    vendors = selectors.vendors(request.user).annotate(contract_count=Count("contracts")).order_by("name")
    q = (request.GET.get("q") or "").strip()[:200]
    if q:
        vendors = vendors.filter(name__icontains=q)
    page = Paginator(vendors, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page_obj": page, "vendors": page.object_list, "form": form, "can_edit": can_edit, "q": q}
    return render(request, "contracts/vendor_list.html", context)


@login_required
@require_GET
def software_list(request):
    """The catalog's compliance report: every installed or licensed title with its three numbers."""
    selectors.require_reader(request.user)
    only_short = request.GET.get("short") in ("1", "true")
    q = (request.GET.get("q") or "").strip()[:200]
    report = selectors.ComplianceReport(only_short=only_short, q=q)
    page = Paginator(report, PAGE_SIZE).get_page(request.GET.get("page"))  # two queries, whatever the size
    context = {
        "page_obj": page,
        "rows": page.object_list,
        "only_short": only_short,
        "q": q,
    }
    return render(request, "contracts/software_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def software_detail(request, pk: int):
    """A title's compliance: entitled, consumed, shortfall, with the licenses, the licensed CIs, the
    installations and the installed CIs no license is assigned to. Cmdb managers add licenses here."""
    software = get_object_or_404(selectors.software(request.user), pk=pk)
    detail = selectors.compliance_detail(software)
    form = LicenseForm(request.POST or None, unlicensed=[row.ci for row in detail.unlicensed])
    if request.method == "POST":
        _writer(request)
        if form.is_valid():
            cis = form.assigned_cis()
            data = {
                k: v for k, v in form.cleaned_data.items() if k not in ("configuration_items", "installed_on")
            }
            try:
                services.license_save(
                    actor=request.user, fields={**data, "software": software}, configuration_items=cis
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                seats = data["quantity"]
                messages.success(request, f"License of {seats} seat{'' if seats == 1 else 's'} added.")
                return redirect(software)
    context = {
        "software": software,
        "detail": detail,
        "numbers": detail.numbers,
        "form": form,
        "can_edit": can_edit_contracts(request.user),
    }
    return render(request, "contracts/software_detail.html", context)
