"""Every write to the knowledge base: create, edit, move through the workflow, vote, count, link.

Keyword-only, with an explicit `actor`, one transaction each, the timeline row written before the event.
Publishing rules live in knowledge.workflow's docstring; the permission checks are here so the API, the
pages and other apps (problems' "publish known error") get the same answer.
"""

from __future__ import annotations

from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from core import events
from core.choices import ActivityKind
from core.exceptions import StaleVersion
from core.services import record_activity
from incidents.services import incident_transition

from .choices import ArticleState, Audience
from .models import Article, ArticleLink, ArticleVersion, ArticleVote, Category
from .permissions import can_author, can_manage

EDITABLE_FIELDS = ("title", "body", "category", "audience")
MAX_BODY_CHARS = 200_000


def _lock(article: Article) -> Article:
    return Article.objects.select_for_update().get(pk=article.pk)


def _validate(article: Article) -> None:
    errors: dict[str, str] = {}
    article.title = (article.title or "").strip()
    if not article.title:
        errors["title"] = "An article needs a title."
    elif len(article.title) > 200:
        errors["title"] = "A title is limited to 200 characters."
    if len(article.body or "") > MAX_BODY_CHARS:
        errors["body"] = f"The body is limited to {MAX_BODY_CHARS:,} characters."
    if article.audience not in Audience.values:
        errors["audience"] = f"Choose one of: {', '.join(Audience.values)}."
    if errors:
        raise ValidationError(errors)


def _resolve_category(category) -> Category | None:
    if category in (None, ""):
        return None
    if isinstance(category, Category):
        return category
    found = Category.objects.filter(name=str(category)).first()
    if found is None:
        raise ValidationError({"category": f"Unknown category {category!r}."})
    return found


def _snapshot(article: Article, *, actor, note: str = "") -> ArticleVersion:
    """Freeze the article as published now as its next version."""
    last = article.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return ArticleVersion.objects.create(
        article=article,
        number=last + 1,
        title=article.title,
        body=article.body,
        category_label=article.category.label if article.category_id else "",
        created_by=actor if actor is not None and actor.pk else None,
        created_by_name=getattr(actor, "username", "") or "system",
        note=note[:500],
    )


@transaction.atomic
def article_create(
    *,
    actor,
    title: str,
    body: str,
    category=None,
    audience: str = Audience.EVERYONE,
    source_record: models.Model | None = None,
) -> Article:
    """Write a new draft. `source_record` (e.g. a known-error problem) is remembered for publish_now."""
    if actor is not None and not can_author(actor):
        raise PermissionDenied("Only agents and knowledge managers write articles.")
    article = Article(
        title=title,
        body=body or "",
        category=_resolve_category(category),
        audience=audience,
        state=ArticleState.DRAFT,
        author=actor,
    )
    if source_record is not None:
        article.source_content_type = ContentType.objects.get_for_model(source_record)
        article.source_object_id = source_record.pk
        article.source_number = getattr(source_record, "number", "") or ""
    _validate(article)
    article.save()  # the database gives the number (core.numbering.number_field)
    record_activity(
        article,
        kind=ActivityKind.CREATED,
        actor=actor,
        body=article.title,
        data={"source": article.source_number} if article.source_number else None,
    )
    events.publish("article.created", record=article, actor=actor)
    return article


@transaction.atomic
def article_update(
    article: Article,
    *,
    actor,
    changes: dict[str, Any],
    expected_version: int | None = None,
    note: str = "",
) -> Article:
    """Edit title, body, category or audience.

    Drafts and articles in review: any author (agent or knowledge manager). Published articles: knowledge
    managers only, and the edit becomes a new version at once. Retired articles are moved back to draft
    first. An edit that changes nothing writes nothing.
    """
    article = _lock(article)
    if expected_version is not None and article.version != expected_version:
        raise StaleVersion(article.version)
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise ValidationError({name: "This field cannot be changed here." for name in unknown})
    if not can_author(actor):
        raise PermissionDenied("Only agents and knowledge managers edit articles.")
    if article.state == ArticleState.PUBLISHED and not can_manage(actor):
        raise PermissionDenied("Only knowledge managers edit a published article.")
    if article.state == ArticleState.RETIRED:
        raise ValidationError({"state": "A retired article cannot be edited; move it back to draft first."})

    if "category" in changes:
        changes = {**changes, "category": _resolve_category(changes["category"])}
    before = {name: getattr(article, name) for name in EDITABLE_FIELDS}
    for name, value in changes.items():
        setattr(article, name, value if value is not None or name == "category" else "")
    _validate(article)
    diffs = [
        {"field": name, "old": _display(old), "new": _display(getattr(article, name))}
        for name, old in before.items()
        if getattr(article, name) != old
    ]
    if not diffs:
        return article
    article.version += 1
    article.save()
    record_activity(article, kind=ActivityKind.FIELD_CHANGE, actor=actor, body=note, data={"changes": diffs})
    if article.state == ArticleState.PUBLISHED:
        _snapshot(article, actor=actor, note=note or "Edited while published")
    events.publish("article.updated", record=article, actor=actor, data={"changes": diffs})
    return article


def _display(value):
    if value is None or isinstance(value, bool | int | str):
        return value if not isinstance(value, str) or len(value) <= 200 else value[:200] + "…"
    return str(value)


def _check_move_permission(article: Article, to: str, actor) -> None:
    if to == ArticleState.REVIEW:
        if not (can_author(actor) or (actor is not None and actor.pk == article.author_id)):
            raise PermissionDenied("Only agents and knowledge managers submit articles for review.")
        return
    if not can_manage(actor):
        raise PermissionDenied(f"Only knowledge managers may move an article to {to!r}.")


def _apply_move(article: Article, *, to: str, actor, note: str) -> Article:
    previous = article.state
    article.state = to
    article.version += 1
    if to == ArticleState.PUBLISHED:
        article.published_at = timezone.now()
    article.save()
    record_activity(
        article, kind=ActivityKind.STATE_CHANGE, actor=actor, body=note, data={"from": previous, "to": to}
    )
    if to == ArticleState.PUBLISHED:
        _snapshot(article, actor=actor, note=note or "Published")
    events.publish(
        "article.state_changed", record=article, actor=actor, data={"from": previous, "to": to, "fields": {}}
    )
    return article


@transaction.atomic
def article_transition(article: Article, *, to: str, actor, note: str = "") -> Article:
    """Move an article through draft → review → published → retired (rules: knowledge.workflow).

    An illegal move raises core.exceptions.IllegalTransition (400 with the allowed moves, like tickets);
    a move the actor's role does not allow raises PermissionDenied (403). Publishing snapshots a version.
    """
    article = _lock(article)
    article.workflow.check(article.state, to, {})
    _check_move_permission(article, to, actor)
    return _apply_move(article, to=to, actor=actor, note=note)


def source_is_known_error(article: Article) -> bool:
    """True when the article was written from a record flagged as a known error (a problem)."""
    if not (article.source_content_type_id and article.source_object_id):
        return False
    model = article.source_content_type.model_class()
    if model is None:
        return False
    return (
        model.objects.filter(pk=article.source_object_id, known_error=True).exists()
        if hasattr(model, "known_error")
        else False
    )


@transaction.atomic
def article_publish_now(article: Article, *, actor, note: str = "") -> Article:
    """Publish a draft (or an article in review) in one step, skipping review.

    Knowledge managers may always do this. An agent may do it only for an article whose source record is a
    known error (problems' "publish known error" action): the problem's own review stands in for the
    knowledge review. Anyone else gets PermissionDenied; an article already published is returned as is.
    """
    article = _lock(article)
    if article.state == ArticleState.PUBLISHED:
        return article
    article.workflow.check(article.state, ArticleState.PUBLISHED, {})
    if not can_manage(actor) and not (can_author(actor) and source_is_known_error(article)):
        raise PermissionDenied("Only knowledge managers publish articles (agents: known errors only).")
    return _apply_move(article, to=ArticleState.PUBLISHED, actor=actor, note=note or "Published directly")


@transaction.atomic
def article_vote(article: Article, *, actor, helpful: bool) -> Article:
    """Record the actor's one vote on the article; voting again changes (not adds to) their vote."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied("Sign in to vote.")
    if article.state != ArticleState.PUBLISHED:
        raise ValidationError({"helpful": "Only published articles take votes."})
    vote, created = ArticleVote.objects.select_for_update().get_or_create(
        article=article, user=actor, defaults={"helpful": helpful}
    )
    if not created and vote.helpful == helpful:
        return Article.objects.get(pk=article.pk)
    delta_yes = (1 if helpful else 0) - (0 if created or not vote.helpful else 1)
    delta_no = (0 if helpful else 1) - (0 if created or vote.helpful else 1)
    if not created:
        vote.helpful = helpful
        vote.voted_at = timezone.now()
        vote.save(update_fields=["helpful", "voted_at"])
    Article.objects.filter(pk=article.pk).update(
        helpful_count=F("helpful_count") + delta_yes, not_helpful_count=F("not_helpful_count") + delta_no
    )
    return Article.objects.get(pk=article.pk)


def article_record_view(article: Article) -> None:
    """Count one view (an atomic UPDATE; no lock, no timeline row, no version bump)."""
    Article.objects.filter(pk=article.pk).update(view_count=F("view_count") + 1)


@transaction.atomic
def link_article(record, article: Article, *, actor, solved: bool = False) -> ArticleLink:
    """Link an article to a ticket, optionally as "this solved it", with a timeline row on the ticket.

    Linking twice keeps one link; marking an existing link solved counts once on the article's
    `solved_count`. The article must be visible to the actor (callers fetch it through the selectors).
    """
    if article.state not in (ArticleState.PUBLISHED, ArticleState.RETIRED) and not can_author(actor):
        raise ValidationError({"article": "Only published articles can be linked."})
    content_type = ContentType.objects.get_for_model(record)
    link, created = ArticleLink.objects.select_for_update().get_or_create(
        article=article,
        content_type=content_type,
        object_id=record.pk,
        defaults={
            "record_number": getattr(record, "number", str(record.pk)),
            "solved": solved,
            "linked_by": actor if actor is not None and actor.pk else None,
        },
    )
    newly_solved = solved and (created or not link.solved)
    if not created and not newly_solved:
        return link
    if not created:
        link.solved = True
        link.save(update_fields=["solved"])
    if newly_solved:
        Article.objects.filter(pk=article.pk).update(solved_count=F("solved_count") + 1)
    record_activity(
        record,
        kind=ActivityKind.LINK,
        actor=actor,
        public=False,
        body=f"{article.number} {article.title}" + (" — this solved it" if solved else ""),
        data={"kind": "article", "number": article.number, "action": "solved" if solved else "linked"},
    )
    return link


@transaction.atomic
def resolve_incident_with_article(incident, article: Article, *, actor, note: str = ""):
    """Resolve an incident with an article as its resolution: "this solved it" link plus the incident's
    own resolve move (code `solved`, notes naming the article), so its follow-ups (children) run too."""
    link_article(incident, article, actor=actor, solved=True)
    notes = f"Resolved with knowledge article {article.number}: {article.title}"
    if note:
        notes = f"{notes}\n\n{note}"
    return incident_transition(
        incident,
        to="resolved",
        actor=actor,
        fields={"resolution_code": "solved", "resolution_notes": notes},
        note=f"Resolved with {article.number}",
    )
