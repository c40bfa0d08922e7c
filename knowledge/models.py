"""Knowledge articles: Markdown bodies, a review workflow, versions, votes, and full-text search.

An article is not a ticket (no assignment, no SLA), so it does not subclass TicketBase; it borrows the
ticket conventions that users rely on: a `KB0000001` number from a sequence, state moves through the
shared Workflow engine and the `transition/` action, and the one Activity timeline for its history.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericRelation
from django.contrib.contenttypes.models import ContentType
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db import models
from django.urls import reverse
from django.utils import timezone

from core.limits import ARTICLE_BODY_MAX_LENGTH, TEXT_MAX_LENGTH
from core.models import Activity, Attachment
from core.numbering import number_field

from .choices import ArticleState, Audience
from .workflow import ARTICLE_WORKFLOW


class Category(models.Model):
    """A knowledge category (managed list; portal and agents browse by it)."""

    name = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=120)
    description = models.TextField(blank=True, max_length=TEXT_MAX_LENGTH)

    class Meta:
        ordering = ["label"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.label


class Article(models.Model):
    """A knowledge article. State is written only by knowledge.services (article_transition / publish)."""

    NUMBER_PREFIX = "KB"
    number = number_field(NUMBER_PREFIX)
    KIND = "article"
    workflow = ARTICLE_WORKFLOW

    title = models.CharField(max_length=200)
    body = models.TextField(
        blank=True, help_text="Markdown; rendered sanitized", max_length=ARTICLE_BODY_MAX_LENGTH
    )
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="articles"
    )
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.EVERYONE)
    state = models.CharField(max_length=16, choices=ArticleState.choices, default=ArticleState.DRAFT)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)
    helpful_count = models.PositiveIntegerField(default=0, editable=False)
    not_helpful_count = models.PositiveIntegerField(default=0, editable=False)
    view_count = models.PositiveIntegerField(default=0, editable=False)
    solved_count = models.PositiveIntegerField(default=0, editable=False)
    # Where the article came from (a problem's known error); `publish_now` lets agents publish those.
    source_content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source_object_id = models.BigIntegerField(null=True, blank=True)
    source_number = models.CharField(max_length=16, blank=True)
    # Kept current by PostgreSQL itself: title outranks body (weights A and B).
    search_vector = models.GeneratedField(
        expression=SearchVector("number", "title", weight="A", config="english")
        + SearchVector("body", weight="B", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    # The title part alone, with its own GIN index: search takes its capped candidate set from title
    # matches first (knowledge.selectors), so a common word still ranks the articles titled with it.
    title_vector = models.GeneratedField(
        expression=SearchVector("number", "title", config="english"),
        output_field=SearchVectorField(),
        db_persist=True,
    )
    activities = GenericRelation(Activity)
    attachments = GenericRelation(Attachment)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            # fastupdate off: articles are written rarely and searched constantly, and a GIN pending list
            # (left by a burst of writes until the next vacuum) is scanned linearly by every search.
            GinIndex(fields=["search_vector"], name="article_search_idx", fastupdate=False),
            GinIndex(fields=["title_vector"], name="article_title_search_idx", fastupdate=False),
            # The title trigram index (typo tolerance) is in migration 0001 only, created where pg_trgm
            # exists (core.pg.RunSQLIfExtension); declaring it here would fail on servers without pg_trgm.
            models.Index(fields=["state", "audience", "-published_at"], name="article_state_idx"),
            models.Index(fields=["category", "state"], name="article_category_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("article-detail", kwargs={"number": self.number})

    def allowed_moves(self) -> list[str]:
        return self.workflow.allowed(self.state)

    def user_can_view(self, user) -> bool:
        """The visibility rule of knowledge.selectors.visible_articles, for one loaded article.

        core.views.attachment_download calls it for attachments on articles.
        """
        from .selectors import visible_articles  # cycle: knowledge.selectors imports this module

        return visible_articles(user).filter(pk=self.pk).exists()


class ArticleVersion(models.Model):
    """A frozen copy of an article as published; every published edit adds one, old ones stay readable."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True, max_length=ARTICLE_BODY_MAX_LENGTH)
    category_label = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="article_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.article.number} v{self.number}"


class ArticleVote(models.Model):
    """One helpful / not-helpful vote per user per article (a second vote changes the first)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    helpful = models.BooleanField()
    voted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["article", "user"], name="article_vote_unique")]


class ArticleLink(models.Model):
    """An article linked to a ticket; `solved` marks "this solved it" (counted on the article)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="links")
    content_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    object_id = models.BigIntegerField()
    record_number = models.CharField(max_length=16)
    solved = models.BooleanField(default=False)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-linked_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["article", "content_type", "object_id"], name="article_link_unique"
            )
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="article_link_record_idx")]


class SearchWord(models.Model):
    """One word the suite has indexed (article titles and bodies, CI names), for typo tolerance.

    Filled by database triggers on those tables (migration 0005), so every write path (services, bulk
    loads, imports, raw SQL) keeps it current without Python code; words are never removed (a word no
    record uses any more only costs a correction that finds nothing). knowledge.lexicon matches what
    people type against these words with rapidfuzz, on any PostgreSQL, with or without pg_trgm.
    """

    word = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = "search word"

    def __str__(self) -> str:
        return self.word
