"""The end user's self-service pages. Every read goes through the apps' requester-scoped selectors.

Tickets are addressed by number and read with core.selectors.get_visible_ticket, so a record the user
may not see is a 404 on every page here, exactly as in the API.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import chain

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.postgres.search import SearchQuery
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from core import approvals as core_approvals
from core import inbox, selectors
from core import services as core_services
from core.ticket_views import apply_service_error
from incidents.models import Incident
from incidents.services import incident_create, incident_transition
from knowledge import selectors as kb
from knowledge.choices import ArticleState
from requests_app import selectors as request_selectors
from requests_app.forms import VariablesForm
from requests_app.models import OPEN_REQUEST_STATES, Request
from requests_app.services import request_create, request_transition
from requests_app.variables import display_rows

from . import services
from .forms import CancelForm, CommentForm, ReopenForm, ReportProblemForm, SurveyForm

# The ticket kinds a requester follows in the portal, by number prefix.
PORTAL_KINDS = {"INC": Incident, "REQ": Request}


def _model_for(number: str):
    for prefix, model in PORTAL_KINDS.items():
        if number.upper().startswith(prefix):
            return model
    raise Http404("No such ticket")


def _articles(user, text: str, limit: int = 5) -> list:
    return kb.suggest(user, text, limit=limit)


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@login_required
def home(request):
    """One search box (articles and catalog items as you type), shortcuts, and the user's open tickets."""
    user = request.user
    incidents = (
        selectors.visible_tickets(Incident, user)
        .exclude(state__in=Incident.workflow.final_states)
        .order_by("-opened_at")[:5]
    )
    requests = (
        selectors.visible_tickets(Request, user)
        .filter(state__in=OPEN_REQUEST_STATES)
        .order_by("-opened_at")[:5]
    )
    return render(
        request,
        "portal/home.html",
        {
            "open_tickets": sorted(chain(incidents, requests), key=lambda t: t.opened_at, reverse=True),
            "pending_approvals": core_approvals.pending_for(user).count(),
            "categories": request_selectors.catalog_categories()[:6],
        },
    )


@login_required
@require_GET
def search(request):
    """htmx partial: knowledge articles and catalog items matching what the user is typing."""
    text = (request.GET.get("q") or "").strip()[:200]
    context = {"q": text, "articles": [], "items": []}
    if len(text) >= 2:
        context["articles"] = _articles(request.user, text)
        context["items"] = request_selectors.search_items(text)
    return render(request, "portal/partials/suggestions.html", context)


def _major_incidents(text: str) -> list[Incident]:
    """Open major incidents matching the text (all of them when there is no text yet): the outage
    banner every user may see, by number and summary only."""
    open_majors = Incident.objects.filter(major=True).exclude(
        state__in=[*Incident.workflow.final_states, *Incident.workflow.done_states]
    )
    words = " OR ".join(w for w in text.split() if len(w) > 2)[:200]
    if words:
        open_majors = open_majors.filter(
            search_vector=SearchQuery(words, search_type="websearch", config="english")
        )
    return list(open_majors.order_by("-opened_at").only("number", "short_description", "opened_at")[:3])


@login_required
def report(request):
    """Report a problem: a short incident form that suggests articles and shows a matching outage."""
    form = ReportProblemForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            # The file is part of the report: a refused file leaves no incident behind.
            with transaction.atomic():
                incident = incident_create(
                    actor=request.user,
                    short_description=form.cleaned_data["short_description"],
                    description=form.cleaned_data["description"],
                    urgency=form.cleaned_data["urgency"],
                    impact=3,
                )
                if form.cleaned_data.get("attachment"):
                    core_services.add_attachment(
                        incident,
                        actor=request.user,
                        uploaded_file=form.cleaned_data["attachment"],
                        public=True,
                    )
        except ValidationError as error:
            apply_service_error(form, _file_error(error))
        else:
            messages.success(request, f"Thanks — we logged {incident.number} and will keep you posted here.")
            return redirect("portal:ticket-detail", number=incident.number)
    return render(request, "portal/report.html", {"form": form, "majors": _major_incidents("")})


@login_required
@require_GET
def report_suggest(request):
    """htmx partial for the report form: matching outages and articles for the text typed so far."""
    text = (request.GET.get("short_description") or request.GET.get("q") or "").strip()[:200]
    articles = _articles(request.user, text) if len(text) >= 3 else []
    majors = _major_incidents(text) if len(text) >= 3 else []
    return render(
        request, "portal/partials/report_suggestions.html", {"articles": articles, "majors": majors}
    )


@login_required
def catalog(request):
    items = request_selectors.orderable_items().order_by("category__order", "category__name", "order", "name")
    return render(request, "portal/catalog.html", {"items": items})


@login_required
def catalog_item(request, pk: int):
    """The order form: the item's variables as a real Django form, errors next to each field."""
    item = get_object_or_404(request_selectors.orderable_items().prefetch_related("task_templates"), pk=pk)
    form = VariablesForm(item.variables.all(), data=request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ticket = request_create(
                actor=request.user, catalog_item=item, variables=request.POST, variables_from_api=False
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, f"Your request {ticket.number} has been submitted.")
            return redirect("portal:ticket-detail", number=ticket.number)
    return render(request, "portal/catalog_item.html", {"item": item, "form": form})


@login_required
def tickets(request):
    """My requests and incidents: opened, watched, for me, or mine to approve."""
    show = request.GET.get("show", "open")
    incidents = selectors.visible_tickets(Incident, request.user).order_by("-opened_at")
    requests = selectors.visible_tickets(Request, request.user).order_by("-opened_at")
    if show == "open":
        incidents = incidents.exclude(state__in=Incident.workflow.final_states)
        requests = requests.exclude(state__in=Request.workflow.final_states)
    rows = sorted(chain(incidents[:100], requests[:100]), key=lambda t: t.opened_at, reverse=True)
    return render(request, "portal/tickets.html", {"tickets": rows, "show": show})


def _file_error(error: ValidationError) -> ValidationError:
    """The attachment service names its field `file`; the portal's forms call it `attachment`."""
    if hasattr(error, "error_dict") and "file" in error.error_dict:
        return ValidationError({("attachment" if k == "file" else k): v for k, v in error.error_dict.items()})
    return error


def _is_requester_of(record, user) -> bool:
    """The person the ticket is for (its caller or opener), not a watcher: they may cancel or reopen it."""
    return user.pk in (getattr(record, "caller_id", None), record.opened_by_id)


def can_cancel(record, user) -> bool:
    return _is_requester_of(record, user) and "canceled" in record.allowed_moves()


def reopen_until(record):
    """Until when a resolved incident can be reopened from the portal (its auto-close), else None."""
    if not isinstance(record, Incident) or record.state != "resolved" or record.resolved_at is None:
        return None
    until = record.resolved_at + timedelta(days=settings.INCIDENT_AUTO_CLOSE_DAYS)
    return until if until > timezone.now() else None


def _detail_context(request, record, comment_form=None, survey_form=None, reopen_form=None) -> dict:
    context = {
        "attachments": selectors.attachments(record, request.user).order_by("uploaded_at", "id"),
        "can_cancel": can_cancel(record, request.user),
        "cancel_form": CancelForm(),
        "reopen_until": reopen_until(record) if _is_requester_of(record, request.user) else None,
        "reopen_form": reopen_form or ReopenForm(),
        "resolution": _resolution(record),
        "record": record,
        "kind": record.KIND,
        "state_label": record.workflow.label(record.state),
        "activities": selectors.timeline(record, request.user),
        "comment_form": comment_form or CommentForm(),
        "can_comment": record.state not in record.workflow.final_states,
        "survey": services.survey_for(record),
        "survey_offered": services.survey_offered(record, request.user),
        "survey_form": survey_form or SurveyForm(),
    }
    if isinstance(record, Request):
        context["variables"] = display_rows(record.catalog_item, record.variables)
        context["tasks"] = request_selectors.request_tasks(record, request.user)
        context["approvals"] = (
            core_approvals.approvals_for(record).exclude(state="canceled").order_by("stage", "id")
        )
        context["my_approvals"] = [
            a for a in context["approvals"] if a.approver_id == request.user.pk and a.state == "pending"
        ]
        context["steps"] = _request_steps(record)
    return context


def _resolution(record) -> dict | None:
    """What the agent wrote when resolving: shown with the survey, so the requester rates the work they
    can read."""
    if not isinstance(record, Incident) or record.state not in ("resolved", "closed"):
        return None
    if not (record.resolution_code or record.resolution_notes):
        return None
    return {"code": record.get_resolution_code_display(), "notes": record.resolution_notes}


def _request_steps(record: Request) -> list[dict]:
    """The progress bar of a request: which of the four steps are done, current, or still to come."""
    order = ["submitted", "pending_approval", "in_fulfillment", "fulfilled"]
    labels = ["Submitted", "Approval", "Fulfilment", "Done"]
    position = {
        "submitted": 0,
        "pending_approval": 1,
        "approved": 2,
        "in_fulfillment": 2,
        "fulfilled": 3,
        "closed": 3,
    }
    current = position.get(record.state, -1)
    return [
        {
            "label": label,
            "done": i < current or record.state in ("fulfilled", "closed"),
            "current": i == current,
        }
        for i, (_, label) in enumerate(zip(order, labels, strict=True))
    ]


@login_required
def ticket_detail(request, number: str):
    record = selectors.get_visible_ticket(_model_for(number), request.user, number)
    return render(request, "portal/ticket_detail.html", _detail_context(request, record))


@login_required
@require_POST
def ticket_comment(request, number: str):
    record = selectors.get_visible_ticket(_model_for(number), request.user, number)
    form = CommentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            with transaction.atomic():
                core_services.add_comment(
                    record, actor=request.user, body=form.cleaned_data["body"], public=True
                )
                if form.cleaned_data.get("attachment"):
                    core_services.add_attachment(
                        record, actor=request.user, uploaded_file=form.cleaned_data["attachment"], public=True
                    )
        except ValidationError as error:
            apply_service_error(form, _file_error(error))
        else:
            messages.success(request, "Your comment was added.")
            return redirect("portal:ticket-detail", number=record.number)
    return render(
        request, "portal/ticket_detail.html", _detail_context(request, record, comment_form=form), status=400
    )


@login_required
@require_POST
def ticket_reopen(request, number: str):
    """The requester says the fix did not work: their comment, then the incident back to in progress,
    while it is resolved and not yet closed by itself."""
    record = selectors.get_visible_ticket(_model_for(number), request.user, number)
    if not _is_requester_of(record, request.user):
        raise Http404("Only the person the ticket is for can reopen it.")
    form = ReopenForm(request.POST)
    if reopen_until(record) is None:
        form.add_error(None, "This ticket can no longer be reopened: report a new problem instead.")
    if form.is_valid():
        try:
            with transaction.atomic():
                core_services.add_comment(
                    record, actor=request.user, body=form.cleaned_data["body"], public=True
                )
                record.refresh_from_db()
                if record.state == "resolved":  # a rule may already have reopened it on the comment
                    incident_transition(
                        record, to="in_progress", actor=request.user, note="Reopened by the caller"
                    )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, f"{record.number} is reopened: the service desk will look at it again.")
            return redirect("portal:ticket-detail", number=record.number)
    return render(
        request, "portal/ticket_detail.html", _detail_context(request, record, reopen_form=form), status=400
    )


@login_required
@require_POST
def ticket_cancel(request, number: str):
    """The requester withdraws their own open ticket (an incident they no longer need help with, a
    request they no longer want)."""
    record = selectors.get_visible_ticket(_model_for(number), request.user, number)
    if not can_cancel(record, request.user):
        raise Http404("Only the person the ticket is for can cancel it while it is open.")
    form = CancelForm(request.POST)
    form.is_valid()
    reason = (form.cleaned_data.get("reason") or "").strip()
    note = f"Canceled by the requester: {reason}" if reason else "Canceled by the requester."
    try:
        if isinstance(record, Request):
            request_transition(record, to="canceled", actor=request.user, note=note)
        else:
            incident_transition(record, to="canceled", actor=request.user, note=note)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"{record.number} is canceled.")
    return redirect("portal:ticket-detail", number=record.number)


@login_required
@require_POST
def ticket_survey(request, number: str):
    record = selectors.get_visible_ticket(_model_for(number), request.user, number)
    form = SurveyForm(request.POST)
    if form.is_valid():
        try:
            services.survey_submit(
                record,
                actor=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            apply_service_error(form, error)
        else:
            messages.success(request, "Thank you for your feedback!")
            return redirect("portal:ticket-detail", number=record.number)
    return render(
        request, "portal/ticket_detail.html", _detail_context(request, record, survey_form=form), status=400
    )


def _record_url(approval) -> str:
    record = approval.record
    prefix = getattr(record, "NUMBER_PREFIX", "")
    if prefix in PORTAL_KINDS:
        return reverse("portal:ticket-detail", kwargs={"number": record.number})
    try:
        return record.get_absolute_url()
    except Exception:  # noqa: BLE001 - a kind without a page yet simply shows no link
        return ""


@login_required
def approvals(request):
    rows = [
        {
            "approval": a,
            "record_url": _record_url(a),
            "decide_url": reverse("portal:approval-decide", args=[a.pk]),
        }
        for a in inbox.inbox(request.user)
    ]
    return render(request, "portal/approvals.html", {"rows": rows})


@login_required
@require_POST
def approval_decide(request, pk: int):
    approval, error = inbox.decide_from_post(request.user, pk, request.POST)
    if _is_htmx(request):
        return render(
            request,
            "core/partials/approval_item.html",
            {
                "approval": approval,
                "record_url": _record_url(approval),
                "decide_url": reverse("portal:approval-decide", args=[approval.pk]),
                "error": error,
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"You {approval.get_state_display().lower()} {approval.record.number}.")
    return redirect("portal:approvals")


@login_required
def knowledge(request):
    """Search the knowledge base (ranked by the knowledge app) or browse the latest published articles."""
    text = (request.GET.get("q") or "").strip()[:200]
    if text:
        results = kb.suggest(request.user, text, limit=20)
        articles = [{"number": r.number, "title": r.title, "url": r.url} for r in results]
    else:
        latest = (
            kb.visible_articles(request.user)
            .filter(state=ArticleState.PUBLISHED)
            .select_related("category")
            .order_by("-published_at")[:20]
        )
        articles = [
            {"number": a.number, "title": a.title, "url": a.get_absolute_url(), "category": a.category}
            for a in latest
        ]
    return render(request, "portal/kb.html", {"q": text, "articles": articles})
