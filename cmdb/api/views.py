"""CMDB API: CIs (with impact, dependencies, history), relationships, classes, import.

Reads are scoped by cmdb.selectors (a hidden CI is a 404); writes need cmdb_manager or admin and go
through cmdb.services with source "api", which validate and log the history.
"""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.db.models import Count
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.numbers import parse_id

from .. import selectors, services
from ..filtersets import CIFilterSet, RelationshipFilterSet
from ..importer import ImportFileError, guess_format, import_file
from ..models import ChangeSource, CIClass
from ..permissions import AdminWritePermission, CMDBWritePermission, can_edit_cmdb
from .serializers import (
    CIChangeSerializer,
    CIClassSerializer,
    CISerializer,
    GraphSerializer,
    ImpactRowSerializer,
    ImpactSerializer,
    RelationshipSerializer,
)


def _raise_drf(exc: ValidationError):
    raise DRFValidationError(services.error_detail(exc)) from exc


def _whole_number(request, name: str, *, default: int, highest: int) -> int:
    """`?name=` as a whole number from 1 to `highest`; absent or empty means `default`; anything else is a
    400 naming the parameter."""
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return default
    number = parse_id(raw)
    if number is None or number > highest:
        raise DRFValidationError({name: [f"Must be a whole number from 1 to {highest}."]})
    return number


def _depth(request) -> int:
    return _whole_number(request, "max_depth", default=6, highest=selectors.MAX_DEPTH_LIMIT)


# A JSON import is a list of CIs or {"cis": [...], "relationships": [...]}; every row is checked and reported
# on its own (a row that is not an object is a failed row in the 200 report, not a refused request).
_ROWS = {"type": "array", "items": {}, "description": "Rows; each is checked and reported on its own."}
JSON_IMPORT_SCHEMA = {
    "oneOf": [
        _ROWS,
        {
            "type": "object",
            "properties": {"cis": _ROWS, "relationships": _ROWS},
            "additionalProperties": False,
        },
    ]
}

DEPTH_PARAM = OpenApiParameter(
    "max_depth",
    {"type": "integer", "minimum": 1, "maximum": selectors.MAX_DEPTH_LIMIT},
    description=f"Hops to follow (default 6, at most {selectors.MAX_DEPTH_LIMIT}).",
)
HOPS_PARAM = OpenApiParameter(
    "hops",
    {"type": "integer", "minimum": 1, "maximum": 3},
    description="Hops around the CI (1 to 3, default 1).",
)


class CIViewSet(viewsets.ModelViewSet):
    serializer_class = CISerializer
    filterset_class = CIFilterSet
    permission_classes = [CMDBWritePermission]

    def get_queryset(self):
        return selectors.visible_cis(self.request.user)

    def perform_create(self, serializer):
        try:
            serializer.instance = services.create_ci(
                actor=self.request.user, fields=dict(serializer.validated_data), source=ChangeSource.API
            )
        except ValidationError as exc:
            _raise_drf(exc)

    def perform_update(self, serializer):
        try:
            serializer.instance = services.update_ci(
                serializer.instance,
                actor=self.request.user,
                changes=dict(serializer.validated_data),
                source=ChangeSource.API,
            )
        except ValidationError as exc:
            _raise_drf(exc)

    def perform_destroy(self, instance):
        try:
            services.delete_ci(instance, actor=self.request.user, source=ChangeSource.API)
        except services.CIInUse as exc:
            raise _Conflict(exc.messages[0]) from exc

    def _rows(self, rows):
        return Response(
            {
                "ci": self.get_object().pk,
                "count": len(rows),
                "business_services": [row["ci"].pk for row in rows if row["is_business_service"]],
                "results": ImpactRowSerializer(rows, many=True, context={"request": self.request}).data,
            }
        )

    @extend_schema(parameters=[DEPTH_PARAM], responses=ImpactSerializer)
    @action(detail=True, methods=["get"], filter_backends=[])
    def impact(self, request, pk=None):
        """Every CI a failure of this CI impacts, with distance, path and business services marked."""
        ci = self.get_object()
        return self._rows(selectors.impact(ci.pk, _depth(request), user=request.user))

    @extend_schema(parameters=[DEPTH_PARAM], responses=ImpactSerializer)
    @action(detail=True, methods=["get"], filter_backends=[])
    def dependencies(self, request, pk=None):
        """Every CI whose failure would impact this CI."""
        ci = self.get_object()
        return self._rows(selectors.dependencies(ci.pk, _depth(request), user=request.user))

    @extend_schema(responses=CIChangeSerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def history(self, request, pk=None):
        """The CI's change history, newest first (paginated)."""
        ci = self.get_object()
        page = self.paginate_queryset(selectors.ci_history(ci))
        return self.get_paginated_response(CIChangeSerializer(page, many=True).data)

    @extend_schema(parameters=[HOPS_PARAM], responses=GraphSerializer)
    @action(detail=True, methods=["get"], filter_backends=[])
    def graph(self, request, pk=None):
        """The neighbourhood in cytoscape's format (`?hops=1..3`), for the CI page's graph."""
        ci = self.get_object()
        hops = _whole_number(request, "hops", default=1, highest=3)
        return Response(selectors.neighbourhood_graph(ci, user=request.user, max_hops=hops))


class _Conflict(DRFValidationError):
    status_code = status.HTTP_409_CONFLICT

    def __init__(self, message: str):
        super().__init__({"detail": message})


class RelationshipViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Relationships are created and deleted, never edited (delete and create another)."""

    serializer_class = RelationshipSerializer
    filterset_class = RelationshipFilterSet
    permission_classes = [CMDBWritePermission]

    def get_queryset(self):
        return selectors.visible_relationships(self.request.user)

    def perform_create(self, serializer):
        data = serializer.validated_data
        try:
            serializer.instance = services.add_relationship(
                actor=self.request.user,
                source=data["source"],
                target=data["target"],
                type=data["type"],
                origin=ChangeSource.API,
            )
        except ValidationError as exc:
            _raise_drf(exc)

    def perform_destroy(self, instance):
        services.remove_relationship(instance, actor=self.request.user, origin=ChangeSource.API)


class CIClassViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """CI classes and their attribute schemas; everyone who reads the CMDB reads them, admins write."""

    serializer_class = CIClassSerializer
    permission_classes = [AdminWritePermission]
    pagination_class = None

    def get_queryset(self):
        return CIClass.objects.annotate(ci_count=Count("items")).order_by("name")

    def _save(self, serializer, name):
        data = serializer.validated_data
        try:
            ci_class = services.save_ci_class(
                actor=self.request.user,
                name=name,
                label=data.get("label", getattr(serializer.instance, "label", "")),
                description=data.get("description", getattr(serializer.instance, "description", "")),
                attribute_schema=data.get(
                    "attribute_schema", getattr(serializer.instance, "attribute_schema", None)
                ),
            )
        except ValidationError as exc:
            _raise_drf(exc)
        serializer.instance = self.get_queryset().get(pk=ci_class.pk)

    def perform_create(self, serializer):
        name = serializer.validated_data["name"]
        if CIClass.objects.filter(name=name).exists():
            raise DRFValidationError({"name": f"A class named {name!r} already exists."})
        self._save(serializer, name)

    def perform_update(self, serializer):
        name = serializer.validated_data.get("name", serializer.instance.name)
        if name != serializer.instance.name:
            raise DRFValidationError({"name": "A class cannot be renamed (imports and links refer to it)."})
        self._save(serializer, name)


class RawBodyParser(BaseParser):
    """Keep a text/csv or application/json import body as bytes: the importer decodes it itself."""

    def parse(self, stream, media_type=None, parser_context=None):
        return {"_raw": stream.read() if stream else b"", "_media_type": media_type or ""}


class CSVBodyParser(RawBodyParser):
    media_type = "text/csv"


class JSONBodyParser(RawBodyParser):
    media_type = "application/json"


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class ImportFailureSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    reason = serializers.CharField()


class ImportReportSerializer(serializers.Serializer):
    format = serializers.CharField(
        required=False, help_text="The export recognised, e.g. NetBox devices (CSV)"
    )
    skipped = serializers.IntegerField(required=False)
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    failed = ImportFailureSerializer(many=True)


class ImportView(APIView):
    """POST a CSV or JSON file of CIs and relationships (multipart `file`, or a raw text/csv or
    application/json body). Query: `dry_run=1`, `preset=netbox|glpi`, `default_class`, `encoding`, and
    `mapping` (a JSON object of source column → field). Answers the per-row report."""

    parser_classes = [MultiPartParser, FormParser, CSVBodyParser, JSONBodyParser]
    permission_classes = [CMDBWritePermission]

    @extend_schema(
        request={
            "multipart/form-data": ImportUploadSerializer,
            "text/csv": str,
            "application/json": JSON_IMPORT_SCHEMA,
        },
        responses={200: ImportReportSerializer},
    )
    def post(self, request):
        if not can_edit_cmdb(request.user):
            return Response({"detail": CMDBWritePermission.message}, status=status.HTTP_403_FORBIDDEN)
        options = {**request.query_params.dict()}
        if "_raw" in request.data:
            data, content_type, filename = request.data["_raw"], request.data["_media_type"], ""
        else:
            upload = request.FILES.get("file")
            if upload is None:
                raise DRFValidationError(
                    {"file": "Send the file as multipart part `file` or as the raw body."}
                )
            data, content_type, filename = upload.read(), upload.content_type or "", upload.name
            options.update({k: v for k, v in request.data.items() if k != "file"})
        mapping = options.get("mapping") or None
        if mapping:
            try:
                mapping = json.loads(mapping)
            except json.JSONDecodeError:
                raise DRFValidationError({"mapping": "Must be a JSON object of source column to field."})
            if not isinstance(mapping, dict):
                raise DRFValidationError({"mapping": "Must be a JSON object of source column to field."})
        fmt = options.get("format") or guess_format(filename, content_type, data)
        try:
            report = import_file(
                data,
                format=fmt,
                actor=request.user,
                dry_run=options.get("dry_run", "").lower() in ("1", "true", "yes", "on"),
                mapping=mapping,
                preset=options.get("preset") or None,
                default_class=options.get("default_class") or None,
                encoding=options.get("encoding") or "utf-8",
                source=ChangeSource.IMPORT,
            )
        except ImportFileError as exc:
            raise DRFValidationError({"file": str(exc)})
        return Response(report.as_dict())
