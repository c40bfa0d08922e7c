"""Automation pages of the agent workspace: the rule list (order, last fired, fire count, last error), the
rule and macro editors (htmx rows with field pickers per kind, a preview button), and applying a macro
from a record's page or to a selection on a list. Agents see rules and macros; admins edit them."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.roles import AGENT, CHANGE_MANAGER, has_role, is_admin, is_workspace_user
from core import selectors as core_selectors

from . import editor, selectors, services
from .kinds import KINDS
from .models import KIND_CHOICES, Macro, Rule, Trigger


def _workspace_only(request) -> None:
    if not is_workspace_user(request.user):
        raise Http404


def _admin_only(request) -> None:
    if not is_admin(request.user):
        raise Http404


def _kind(value: str | None) -> str:
    return value if value in KINDS else "incident"


@login_required
def rule_list(request):
    _workspace_only(request)
    return render(
        request,
        "automation/rule_list.html",
        {
            "rules": selectors.rules().order_by("applies_to", "order", "id"),
            "macros": [
                (macro, [editor.ACTION_LABELS.get(a.get("type"), a.get("type")) for a in macro.actions])
                for macro in Macro.objects.order_by("applies_to", "name")
            ],
            "can_edit": is_admin(request.user),
        },
    )


def _rows_context(kind: str, conditions: dict, actions: list) -> dict:
    condition_rows = [
        editor.condition_row(kind, {**item, "group": group})
        for group in ("all", "any")
        for item in conditions.get(group, [])
    ]
    return {
        "kind": kind,
        "condition_rows": condition_rows,
        "action_rows": [editor.action_row(kind, item) for item in actions],
    }


def _posted_rows(kind: str, request, row_errors: dict) -> dict:
    post = request.POST
    condition_rows = []
    for key in post.getlist("cond_row"):
        prefix = f"cond-{key}-"
        values = post.getlist(prefix + "value")
        data = {
            "group": post.get(prefix + "group", "all"),
            "field": post.get(prefix + "field", ""),
            "op": post.get(prefix + "op", ""),
            "value": values if len(values) > 1 else (values[0] if values else None),
            "errors": row_errors.get(key, []),
        }
        condition_rows.append(editor.condition_row(kind, data, key=key))
    _conditions, actions, _c, act_paths = editor.parse(post)
    keys = list(act_paths.values())
    action_rows = [
        editor.action_row(kind, {**item, "errors": row_errors.get(key, [])}, key=key)
        for key, item in zip(keys, actions, strict=False)
    ]
    return {"kind": kind, "condition_rows": condition_rows, "action_rows": action_rows}


@login_required
def rule_edit(request, pk: int | None = None):
    _admin_only(request)
    rule = get_object_or_404(Rule, pk=pk) if pk else None
    kind = _kind(
        request.POST.get("applies_to") or request.GET.get("applies_to") or getattr(rule, "applies_to", None)
    )
    context = {
        "rule": rule,
        "kind_choices": KIND_CHOICES,
        "trigger_choices": Trigger.choices,
        "history": selectors.history(rule)[:20] if rule else [],
    }
    if request.method == "POST":
        conditions, actions, cond_paths, act_paths = editor.parse(request.POST)
        data = {
            "name": request.POST.get("name", "").strip(),
            "description": request.POST.get("description", ""),
            "applies_to": kind,
            "trigger": request.POST.get("trigger", ""),
            "order": request.POST.get("order") or 100,
            "active": bool(request.POST.get("active")),
            "stop_processing": bool(request.POST.get("stop_processing")),
            "conditions": conditions,
            "actions": actions,
        }
        try:
            saved = services.rule_save(actor=request.user, data=data, rule=rule)
        except ValidationError as error:
            row_errors, other = editor.errors_by_row(error.message_dict, {**cond_paths, **act_paths})
            context.update(_posted_rows(kind, request, row_errors))
            context.update(form=data, form_errors=other, has_errors=True)
            return render(request, "automation/rule_form.html", context, status=400)
        messages.success(request, f"Rule {saved.name!r} saved.")
        return HttpResponseRedirect(reverse("automation-rule-list"))
    source = rule or Rule(
        applies_to=kind, trigger=request.GET.get("trigger") or "created", order=100, active=True
    )
    context.update(_rows_context(kind, source.conditions or {}, source.actions or []))
    context["form"] = {
        "name": source.name,
        "description": source.description,
        "applies_to": kind,
        "trigger": source.trigger,
        "order": source.order,
        "active": source.active,
        "stop_processing": source.stop_processing,
    }
    return render(request, "automation/rule_form.html", context)


@login_required
def rows(request):
    """htmx: empty editor rows for another kind (the kind picker changed)."""
    _admin_only(request)
    context = _rows_context(_kind(request.GET.get("applies_to")), {}, [])
    return render(
        request, "automation/partials/rows.html", {**context, "macro_only": bool(request.GET.get("macro"))}
    )


@login_required
def condition_row(request):
    """htmx: one condition row, re-rendered when its field changes (the operators and the value picker
    follow the field's type)."""
    _admin_only(request)
    kind = _kind(request.GET.get("applies_to") or request.GET.get("kind"))
    key = request.GET.get("key") or editor.new_key()
    prefix = f"cond-{key}-"
    data = {
        "group": request.GET.get(prefix + "group", request.GET.get("group", "all")),
        "field": request.GET.get(prefix + "field", ""),
        "op": request.GET.get(prefix + "op", ""),
    }
    return render(
        request,
        "automation/partials/condition_row.html",
        {"row": editor.condition_row(kind, data, key=key), "kind": kind},
    )


@login_required
def action_row(request):
    """htmx: one action row, re-rendered when its type or field changes."""
    _admin_only(request)
    kind = _kind(request.GET.get("applies_to") or request.GET.get("kind"))
    key = request.GET.get("key") or editor.new_key()
    prefix = f"act-{key}-"
    data = {
        "type": request.GET.get(prefix + "type", "assign"),
        "field": request.GET.get(prefix + "field", ""),
    }
    return render(
        request,
        "automation/partials/action_row.html",
        {"row": editor.action_row(kind, data, key=key), "kind": kind},
    )


@login_required
@require_POST
def preview(request):
    """htmx: which records the conditions on the page match now (nothing is saved or changed)."""
    _admin_only(request)
    kind = _kind(request.POST.get("applies_to"))
    conditions, _actions, cond_paths, _a = editor.parse(request.POST)
    try:
        result = services.preview(
            applies_to=kind, trigger=request.POST.get("trigger", "created"), conditions_data=conditions
        )
    except ValidationError as error:
        _rows, other = editor.errors_by_row(error.message_dict, {})
        return render(request, "automation/partials/preview.html", {"errors": other}, status=400)
    return render(request, "automation/partials/preview.html", {"result": result, "kind": kind})


@login_required
@require_POST
def rule_delete(request, pk: int):
    _admin_only(request)
    rule = get_object_or_404(Rule, pk=pk)
    services.rule_delete(rule, actor=request.user)
    messages.success(request, f"Rule {rule.name!r} deleted.")
    return HttpResponseRedirect(reverse("automation-rule-list"))


@login_required
def macro_edit(request, pk: int | None = None):
    _admin_only(request)
    macro = get_object_or_404(Macro, pk=pk) if pk else None
    kind = _kind(
        request.POST.get("applies_to") or request.GET.get("applies_to") or getattr(macro, "applies_to", None)
    )
    context = {
        "macro": macro,
        "kind_choices": KIND_CHOICES,
        "history": selectors.history(macro)[:20] if macro else [],
    }
    if request.method == "POST":
        _conditions, actions, _c, act_paths = editor.parse(request.POST)
        data = {
            "name": request.POST.get("name", "").strip(),
            "description": request.POST.get("description", ""),
            "applies_to": kind,
            "active": bool(request.POST.get("active")),
            "actions": actions,
        }
        try:
            saved = services.macro_save(actor=request.user, data=data, macro=macro)
        except ValidationError as error:
            row_errors, other = editor.errors_by_row(error.message_dict, act_paths)
            context.update(_posted_rows(kind, request, row_errors))
            context.update(form=data, form_errors=other)
            return render(request, "automation/macro_form.html", context, status=400)
        messages.success(request, f"Macro {saved.name!r} saved.")
        return HttpResponseRedirect(reverse("automation-rule-list") + "#macros")
    source = macro or Macro(applies_to=kind, active=True)
    context.update(_rows_context(kind, {}, source.actions or []))
    context["form"] = {
        "name": source.name,
        "description": source.description,
        "applies_to": kind,
        "active": source.active,
    }
    return render(request, "automation/macro_form.html", context)


@login_required
def macro_menu(request, kind: str, number: str):
    """htmx fragment for a record's page: the kind's active macros, each a button applying it."""
    _workspace_only(request)
    if kind not in KINDS or not has_role(request.user, AGENT, CHANGE_MANAGER):
        raise Http404
    record = core_selectors.get_visible_ticket(KINDS[kind].model, request.user, number)
    return render(
        request,
        "automation/partials/macro_menu.html",
        {"record": record, "kind": kind, "macros": selectors.macros_for(kind)},
    )


@login_required
def bulk_macros(request, kind: str):
    """htmx fragment for a list's bulk bar: apply one of the kind's macros to the selected records."""
    _workspace_only(request)
    if kind not in KINDS or not has_role(request.user, AGENT, CHANGE_MANAGER):
        raise Http404
    return render(
        request, "automation/partials/bulk_macros.html", {"kind": kind, "macros": selectors.macros_for(kind)}
    )


@login_required
@require_POST
def apply_macro(request, kind: str, number: str):
    """Apply a macro to one record (its page) or to the records selected on a list (`selected`)."""
    _workspace_only(request)
    if kind not in KINDS or not has_role(request.user, AGENT, CHANGE_MANAGER):
        raise Http404
    model = KINDS[kind].model
    macro = get_object_or_404(Macro, pk=request.POST.get("macro") or 0, applies_to=kind, active=True)
    if number == "selected":
        numbers = request.POST.getlist("selected")[:500]
        records = list(
            core_selectors.visible_tickets(model, request.user).filter(number__in=numbers).order_by("number")
        )
        if not records or len(records) != len(set(numbers)):
            raise Http404
        back = request.POST.get("next") or reverse(f"{kind}-list")
        if not back.startswith("/") or back.startswith("//"):
            back = reverse(f"{kind}-list")
    else:
        records = [core_selectors.get_visible_ticket(model, request.user, number)]
        back = records[0].get_absolute_url()
    try:
        services.apply_macro(macro, records, actor=request.user)
    except ValidationError as error:
        text = (
            "; ".join(m for msgs in error.message_dict.values() for m in msgs)
            if hasattr(error, "error_dict")
            else " ".join(error.messages)
        )
        messages.error(request, f"Nothing was changed: macro {macro.name!r} failed: {text}")
        return HttpResponseRedirect(back)
    label = records[0].number if len(records) == 1 else f"{len(records)} records"
    messages.success(request, f"Macro {macro.name!r} applied to {label}.")
    return HttpResponseRedirect(back)
