"""Article representations for /api/v1/kb/: the Markdown source and its sanitized HTML side by side."""

from __future__ import annotations

from django.urls import reverse
from rest_framework import serializers

from core.api.fields import NamedRelatedField, RequiredBooleanField

from ..choices import Audience
from ..models import Article, ArticleVersion, Category
from ..rendering import render_markdown
from ..selectors import highlight


class ArticleSerializer(serializers.ModelSerializer):
    """An article; `body_html` is rendered and sanitized, `snippet` (search only) is escaped + <mark>."""

    url = serializers.SerializerMethodField()
    web_url = serializers.SerializerMethodField()
    category = NamedRelatedField(
        slug_field="name", queryset=Category.objects.all(), required=False, allow_null=True
    )
    audience = serializers.ChoiceField(choices=Audience.choices, default=Audience.EVERYONE)
    author = serializers.CharField(source="author.username", read_only=True)
    body = serializers.CharField(allow_blank=True, required=False, default="", max_length=200_000)
    body_html = serializers.SerializerMethodField()
    helpful = serializers.IntegerField(source="helpful_count", read_only=True)
    not_helpful = serializers.IntegerField(source="not_helpful_count", read_only=True)
    rank = serializers.SerializerMethodField()
    snippet = serializers.SerializerMethodField()

    class Meta:
        model = Article
        fields = [
            "number",
            "url",
            "web_url",
            "title",
            "body",
            "body_html",
            "category",
            "audience",
            "state",
            "author",
            "created_at",
            "updated_at",
            "published_at",
            "version",
            "helpful",
            "not_helpful",
            "view_count",
            "solved_count",
            "source_number",
            "rank",
            "snippet",
        ]
        read_only_fields = [
            "number",
            "state",
            "created_at",
            "updated_at",
            "published_at",
            "version",
            "view_count",
            "solved_count",
            "source_number",
        ]

    def get_url(self, obj) -> str:
        url = reverse("api:article-detail", kwargs={"number": obj.number})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url

    def get_web_url(self, obj) -> str:
        return obj.get_absolute_url()

    def get_body_html(self, obj) -> str:
        if self.context.get("list_view"):
            return ""
        return str(render_markdown(obj.body))

    def get_rank(self, obj) -> float | None:
        rank = getattr(obj, "rank", None)
        return round(float(rank), 6) if rank is not None else None

    def get_snippet(self, obj) -> str | None:
        raw = getattr(obj, "snippet_raw", None)
        return str(highlight(raw)) if raw is not None else None


class ArticleVersionSerializer(serializers.ModelSerializer):
    body_html = serializers.SerializerMethodField()

    class Meta:
        model = ArticleVersion
        fields = [
            "number",
            "title",
            "body",
            "body_html",
            "category_label",
            "created_by_name",
            "created_at",
            "note",
        ]

    def get_body_html(self, obj) -> str:
        return str(render_markdown(obj.body))


class VoteSerializer(serializers.Serializer):
    helpful = RequiredBooleanField()


class LinkSerializer(serializers.Serializer):
    """Link this article to a ticket by number; `solved` marks "this solved it"."""

    record = serializers.CharField(max_length=20)
    solved = serializers.BooleanField(default=False)


class SuggestionSerializer(serializers.Serializer):
    number = serializers.CharField()
    title = serializers.CharField()
    url = serializers.CharField()
    snippet = serializers.CharField()


class SuggestionListSerializer(serializers.Serializer):
    results = SuggestionSerializer(many=True)
