"""Knowledge pages for the workspace: list with search, article, versions and diff, the edit form, and
the small POST actions (move, vote, attach, link to a ticket, resolve an incident with the article).

Thin: reads through knowledge.selectors, writes through knowledge.services. Articles the user may not
read are 404; actions a role may not take are refused with a message, nothing changed.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import services as core_services
from core.selectors import attachments as attachments_of

from . import selectors, services
from .choices import ArticleState
from .forms import ArticleForm
from .models import Category
from .permissions import can_author, can_manage
from .rendering import diff_rows, render_markdown
from .search import find_ticket_by_number

PAGE_SIZE = 20


def _errors_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    return " ".join(error.messages)


@login_required
def article_list(request):
    queryset = selectors.visible_articles(request.user).select_related("category", "author")
    category = request.GET.get("category", "")
    state = request.GET.get("state", "")
    if category:
        queryset = queryset.filter(category__name=category)
    if state and can_author(request.user):
        queryset = queryset.filter(state=state)
    query = selectors.clean_query(request.GET.get("q", ""))
    searching = bool(query)
    queryset = (
        selectors.search_articles(queryset, query) if searching else queryset.order_by("-updated_at", "-id")
    )
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(article, selectors.highlight(getattr(article, "snippet_raw", ""))) for article in page_obj]
    return render(
        request,
        "knowledge/article_list.html",
        {
            "page_obj": page_obj,
            "rows": rows,
            "query": query,
            "searching": searching,
            "categories": Category.objects.all(),
            "category": category,
            "state": state,
            "states": ArticleState.choices,
            "can_author": can_author(request.user),
        },
    )


def _moves(article, user) -> list[dict]:
    moves = []
    for to in article.allowed_moves():
        if to == ArticleState.REVIEW and can_author(user) or can_manage(user):
            moves.append({"to": to, "label": article.workflow.label(to)})
    return moves


@login_required
def article_detail(request, number: str):
    article = selectors.get_visible_article(request.user, number)
    if request.method == "GET" and article.state == ArticleState.PUBLISHED:
        services.article_record_view(article)
    my_vote = article.votes.filter(user=request.user).values_list("helpful", flat=True).first()
    editable = can_author(request.user) and (
        article.state in (ArticleState.DRAFT, ArticleState.REVIEW)
        or (article.state == ArticleState.PUBLISHED and can_manage(request.user))
    )
    return render(
        request,
        "knowledge/article_detail.html",
        {
            "article": article,
            "body_html": render_markdown(article.body),
            "versions": list(selectors.versions(article)[:50]),
            "attachments": list(attachments_of(article, request.user)),
            "links": list(article.links.all()[:20]) if can_author(request.user) else [],
            "my_vote": my_vote,
            "moves": _moves(article, request.user),
            "can_edit": editable,
            "can_author": can_author(request.user),
        },
    )


@login_required
def article_create(request):
    if not can_author(request.user):
        raise Http404
    form = ArticleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            article = services.article_create(
                actor=request.user,
                title=data["title"],
                body=data["body"],
                category=data["category"],
                audience=data["audience"],
            )
        except ValidationError as error:
            _add_form_errors(form, error)
        else:
            messages.success(request, f"{article.number} created as a draft.")
            return redirect(article)
    return render(request, "knowledge/article_form.html", {"form": form, "article": None})


def _add_form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


@login_required
def article_edit(request, number: str):
    article = selectors.get_visible_article(request.user, number)
    if not can_author(request.user):
        raise Http404
    initial = {
        "title": article.title,
        "body": article.body,
        "category": article.category,
        "audience": article.audience,
    }
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.article_update(
                article,
                actor=request.user,
                changes={k: data[k] for k in ("title", "body", "category", "audience")},
                note=data["note"],
            )
        except ValidationError as error:
            _add_form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{article.number} saved.")
            return redirect(article)
    return render(request, "knowledge/article_form.html", {"form": form, "article": article})


@login_required
@require_POST
def article_transition(request, number: str):
    article = selectors.get_visible_article(request.user, number)
    try:
        article = services.article_transition(
            article,
            to=request.POST.get("to", ""),
            actor=request.user,
            note=request.POST.get("note", "")[:2000],
        )
    except ValidationError as error:
        messages.error(request, _errors_text(error))
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"{article.number} is now {article.get_state_display().lower()}.")
    return redirect(article)


@login_required
@require_POST
def article_vote(request, number: str):
    article = selectors.get_visible_article(request.user, number)
    try:
        services.article_vote(article, actor=request.user, helpful=request.POST.get("helpful") == "yes")
    except ValidationError as error:
        messages.error(request, _errors_text(error))
    else:
        messages.success(request, "Thanks for your feedback.")
    return redirect(article)


@login_required
@require_POST
def article_attach(request, number: str):
    article = selectors.get_visible_article(request.user, number)
    if not can_author(request.user):
        raise Http404
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, "file: choose a file to attach.")
        return redirect(article)
    try:
        attachment = core_services.add_attachment(article, actor=request.user, uploaded_file=upload)
    except ValidationError as error:
        messages.error(request, _errors_text(error))
    else:
        url = reverse("attachment-download", kwargs={"pk": attachment.pk})
        messages.success(
            request,
            f"Attached {attachment.filename}. Embed it in Markdown as ![{attachment.filename}]({url}).",
        )
    return redirect(article)


@login_required
@require_POST
def article_link(request, number: str):
    """Link the article to a ticket (from the ticket's suggestions); `solved=1` counts "this solved it",
    `resolve=1` resolves an incident with the article as its resolution."""
    if not can_author(request.user):
        raise Http404
    article = selectors.get_visible_article(request.user, number)
    record = find_ticket_by_number(request.user, request.POST.get("record", ""))
    if record is None:
        raise Http404
    try:
        if request.POST.get("resolve") == "1" and getattr(record, "KIND", "") == "incident":
            services.resolve_incident_with_article(record, article, actor=request.user)
            messages.success(request, f"{record.number} resolved with {article.number}.")
        else:
            solved = request.POST.get("solved") == "1"
            services.link_article(record, article, actor=request.user, solved=solved)
            messages.success(request, f"{article.number} linked to {record.number}.")
    except ValidationError as error:
        messages.error(request, _errors_text(error))
    try:
        return redirect(record)
    except Exception:  # a ticket kind without a web page yet: back to the article
        return redirect(article)


@login_required
def article_version(request, number: str, version: int):
    article = selectors.get_visible_article(request.user, number)
    snapshot = get_object_or_404(article.versions, number=version)
    return render(
        request,
        "knowledge/article_version.html",
        {"article": article, "snapshot": snapshot, "body_html": render_markdown(snapshot.body)},
    )


@login_required
def article_diff(request, number: str):
    article = selectors.get_visible_article(request.user, number)
    all_versions = list(selectors.versions(article))
    if not all_versions:
        raise Http404
    by_number = {v.number: v for v in all_versions}

    def pick(name: str, default):
        try:
            return by_number[int(request.GET.get(name, ""))]
        except (TypeError, ValueError, KeyError):
            return default

    newer = pick("to", all_versions[0])
    older = pick("from", all_versions[1] if len(all_versions) > 1 else all_versions[0])
    return render(
        request,
        "knowledge/article_diff.html",
        {
            "article": article,
            "older": older,
            "newer": newer,
            "versions": all_versions,
            "title_rows": diff_rows(older.title, newer.title),
            "rows": diff_rows(older.body, newer.body),
        },
    )
