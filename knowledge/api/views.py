"""/api/v1/kb/: articles (scoped, ranked search, transition like tickets, votes, versions, attachments,
links to tickets) and /api/v1/kb/suggest/ for the portal's type-ahead deflection."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core import services as core_services
from core.api.parsers import BoundedJSONParser
from core.api.serializers import AttachmentSerializer, AttachmentUploadSerializer, TransitionSerializer
from core.api.viewsets import StaleVersion
from core.selectors import attachments as attachments_of

from .. import selectors, services
from ..permissions import can_author
from ..search import find_ticket_by_number
from .serializers import (
    ArticleSerializer,
    ArticleVersionSerializer,
    LinkSerializer,
    SuggestionListSerializer,
    VoteSerializer,
)


def etag_for(article) -> str:
    return f'"{article.number}-v{article.version}"'


def expected_version(request, article) -> int | None:
    header = request.headers.get("If-Match")
    if not header or header.strip() == "*":
        return None
    if header.strip().removeprefix("W/") == etag_for(article):
        return article.version
    raise StaleVersion(article.version)


class ArticleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Articles by number. `?search=` ranks by relevance with highlighted `snippet`s; `?state=`,
    `?category=`, `?audience=` filter. Retire articles instead of deleting them."""

    extra_error_codes = ["404"]  # writing is for authors; to anyone else the operation is not there

    serializer_class = ArticleSerializer
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z]{2}[0-9]+"

    def get_queryset(self):
        queryset = selectors.visible_articles(self.request.user).select_related("category", "author")
        params = self.request.query_params
        for name, field in (("state", "state"), ("category", "category__name"), ("audience", "audience")):
            value = params.get(name)
            if value:
                queryset = queryset.filter(**{f"{field}__in": value.split(",")})
        if self.action == "list" and params.get("search"):
            return selectors.search_articles(queryset, params["search"])
        return queryset

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "list_view": self.action == "list"}

    def get_object(self):
        article = selectors.get_visible_article(self.request.user, self.kwargs["number"])
        self.check_object_permissions(self.request, article)
        return article

    @extend_schema(parameters=[OpenApiParameter("search", str, description="Ranked full-text search")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    def create(self, request, *args, **kwargs):
        if not can_author(request.user):
            raise Http404
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        article = services.article_create(
            actor=request.user,
            title=data["title"],
            body=data.get("body", ""),
            category=data.get("category"),
            audience=data.get("audience", "everyone"),
        )
        return Response(
            self.get_serializer(article).data,
            status=status.HTTP_201_CREATED,
            headers={"ETag": etag_for(article)},
        )

    def retrieve(self, request, *args, **kwargs):
        article = self.get_object()
        return Response(self.get_serializer(article).data, headers={"ETag": etag_for(article)})

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        article = self.get_object()
        version = expected_version(request, article)
        serializer = self.get_serializer(article, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        changes = {k: v for k, v in serializer.validated_data.items() if k in services.EDITABLE_FIELDS}
        article = services.article_update(
            article, actor=request.user, changes=changes, expected_version=version
        )
        article = selectors.get_visible_article(request.user, article.number)
        return Response(self.get_serializer(article).data, headers={"ETag": etag_for(article)})

    @extend_schema(request=TransitionSerializer, responses=ArticleSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, number=None):
        article = self.get_object()
        expected_version(request, article)
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        article = services.article_transition(
            article,
            to=serializer.validated_data["to"],
            actor=request.user,
            note=serializer.validated_data["note"],
        )
        article = selectors.get_visible_article(request.user, article.number)
        return Response(self.get_serializer(article).data, headers={"ETag": etag_for(article)})

    @extend_schema(request=VoteSerializer, responses=ArticleSerializer)
    @action(detail=True, methods=["post"])
    def vote(self, request, number=None):
        article = self.get_object()
        serializer = VoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        article = services.article_vote(
            article, actor=request.user, helpful=serializer.validated_data["helpful"]
        )
        return Response(self.get_serializer(article).data)

    @extend_schema(responses=ArticleVersionSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def versions(self, request, number=None):
        article = self.get_object()
        return Response(ArticleVersionSerializer(selectors.versions(article), many=True).data)

    @extend_schema(
        request={"multipart/form-data": AttachmentUploadSerializer},
        responses={200: AttachmentSerializer(many=True), 201: AttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[MultiPartParser, FormParser, BoundedJSONParser],
        pagination_class=None,
        filter_backends=[],
    )
    def attachments(self, request, number=None):
        article = self.get_object()
        context = {"request": request}
        if request.method == "GET":
            return Response(
                AttachmentSerializer(attachments_of(article, request.user), many=True, context=context).data
            )
        if not can_author(request.user):
            raise Http404
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = core_services.add_attachment(
            article, actor=request.user, uploaded_file=serializer.validated_data["file"]
        )
        return Response(
            AttachmentSerializer(attachment, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=LinkSerializer, responses={201: None})
    @action(detail=True, methods=["post"])
    def link(self, request, number=None):
        """Link the article to a ticket the caller can see (agents); `solved` counts "this solved it"."""
        if not can_author(request.user):
            raise Http404
        article = self.get_object()
        serializer = LinkSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = find_ticket_by_number(request.user, serializer.validated_data["record"])
        if record is None:
            raise ValidationError({"record": "No ticket with this number that you can see."})
        link = services.link_article(
            record, article, actor=request.user, solved=serializer.validated_data["solved"]
        )
        return Response(
            {"article": article.number, "record": link.record_number, "solved": link.solved},
            status=status.HTTP_201_CREATED,
        )


class SuggestView(APIView):
    """`GET /api/v1/kb/suggest/?q=` → the best 5 published articles the caller may read."""

    @extend_schema(parameters=[OpenApiParameter("q", str)], responses=SuggestionListSerializer)
    def get(self, request):
        rows = selectors.suggest(request.user, request.query_params.get("q", ""), limit=5)
        data = [{"number": r.number, "title": r.title, "url": r.url, "snippet": str(r.snippet)} for r in rows]
        return Response({"results": data})
