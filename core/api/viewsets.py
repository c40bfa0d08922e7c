"""The one fat base under every ticket API: scoping, lookup by number, ETag / If-Match, the shared actions.

A ticket app's viewset declares its model, serializer, filterset and create/update services; everything
SPEC §5 asks of every ticket (`transition/`, `comments/`, `attachments/`, `timeline/`, 412 on a stale
If-Match, 404 for what the user may not see) is implemented once here.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from core import selectors, services
from core.api.parsers import BoundedJSONParser
from core.exceptions import StaleVersion
from core.models import TicketBase
from core.perf.orm import carry_loaded_relations
from core.ticket_services import TicketServices, services_for

from .serializers import (
    LISTED_RELATIONS,
    ActivitySerializer,
    AttachmentSerializer,
    AttachmentUploadSerializer,
    CommentSerializer,
    TransitionSerializer,
)


def etag_for(record: TicketBase) -> str:
    return f'"{record.number}-v{record.version}"'


def expected_version(request: Request, record: TicketBase) -> int | None:
    """The version named by If-Match, or None when the client sent none. A malformed tag is stale."""
    header = request.headers.get("If-Match")
    if not header or header.strip() == "*":
        return None
    tag = header.strip().removeprefix("W/")
    if tag == etag_for(record):
        return record.version
    raise StaleVersion(record.version)


class TicketViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Base for incidents, requests, tasks, problems and changes. Tickets are never deleted: cancel them."""

    model: type[TicketBase]
    lookup_field = "number"
    lookup_value_regex = "[A-Za-z]{2,4}[0-9]+"
    list_select_related: tuple[str, ...] = ("assignment_group", "assigned_to", "opened_by")
    list_prefetch_related: tuple[str, ...] = (
        "configuration_items",
        "sla_timers__definition__calendar__hours",
        "sla_timers__definition__calendar__holidays",
    )
    search_ordering_default = "-opened_at"

    # What only a single record's answer carries (TicketSerializer.Meta.detail_only_fields).
    detail_prefetch_related: tuple = ()
    # PUT and PATCH's serializer where fields chosen when the record is raised (a change's type, a request's
    # item) are read-only afterwards: its own class, so the OpenAPI schema of an update says so.
    update_serializer_class = None

    def get_serializer_class(self):
        if self.update_serializer_class is not None and getattr(self, "action", None) in (
            "update",
            "partial_update",
        ):
            return self.update_serializer_class
        return super().get_serializer_class()

    def get_queryset(self):
        queryset = selectors.visible_tickets(self.model, self.request.user)
        return queryset.select_related(*self.list_select_related).prefetch_related(*self.prefetch_lookups())

    def prefetch_lookups(self) -> list:
        """`list_prefetch_related`, with a list's SLA timers and CIs loaded into plain list attributes.

        A related-manager prefetch builds a related manager and a filtered queryset per listed record (~0.5
        ms a row here, most of a 50-row list's Python time even with no timers at all); `to_attr` just
        sets a list, which TicketSerializer's `sla_timers` and `configuration_items` read when present
        (LISTED_RELATIONS).
        """
        lookups = list(self.list_prefetch_related)
        if getattr(self, "action", None) != "list":
            return lookups + list(self.detail_prefetch_related)
        for relation, attribute in LISTED_RELATIONS.items():
            mine = [
                lookup for lookup in lookups if isinstance(lookup, str) and lookup.split("__")[0] == relation
            ]
            if not mine:
                continue
            related_model = self.model._meta.get_field(relation).related_model
            inner = [lookup.removeprefix(f"{relation}__") for lookup in mine if lookup != relation]
            listed = Prefetch(
                relation, queryset=related_model.objects.prefetch_related(*inner), to_attr=attribute
            )
            lookups = [lookup for lookup in lookups if lookup not in mine] + [listed]
        return lookups

    def get_object(self, *, lock: bool = False) -> TicketBase:
        number = self.kwargs[self.lookup_field].upper()
        record = selectors.get_visible_ticket(self.model, self.request.user, number, lock=lock)
        self.check_object_permissions(self.request, record)
        return record

    # --- every write goes through the services the app declared (core.ticket_services) ------------------
    @property
    def ticket_services(self) -> TicketServices:
        return services_for(self.model)

    def perform_create_service(self, data: dict) -> TicketBase:
        """Open the record through the app's create service (keyword-only, with actor)."""
        return self.ticket_services.create(actor=self.request.user, **data)

    def perform_update_service(self, record: TicketBase, data: dict, version: int | None) -> TicketBase:
        cis = data.pop("configuration_items", None)
        return self.ticket_services.update(
            record, actor=self.request.user, changes=data, expected_version=version, configuration_items=cis
        )

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = self.perform_create_service(dict(serializer.validated_data))
        # The service returns the saved record with its references already loaded; re-reading it through the
        # list queryset would cost a many-join query whose planning alone outweighs the insert. As DRF's
        # own `save()` does, the validating serializer then renders the saved record.
        serializer.instance = record
        return Response(serializer.data, status=status.HTTP_201_CREATED, headers={"ETag": etag_for(record)})

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        return Response(self.get_serializer(record).data, headers={"ETag": etag_for(record)})

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        record = self.get_object()
        version = expected_version(request, record)
        serializer = self.get_serializer(record, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        record = self.perform_update_service(record, dict(serializer.validated_data), version)
        record = self.get_queryset().get(pk=record.pk)
        return Response(self.get_serializer(record).data, headers={"ETag": etag_for(record)})

    # --- actions every ticket has ---------------------------------------------------------------------
    def perform_transition(self, record: TicketBase, to: str, fields: dict, note: str, version: int | None):
        return self.ticket_services.transition(
            record, to=to, actor=self.request.user, fields=fields, note=note, expected_version=version
        )

    def transition_fields(self, record: TicketBase, to: str, data: dict) -> dict:
        """Pick and convert the fields this move may carry (subclasses convert e.g. numbers to objects)."""
        return {name: data[name] for name in record.workflow.fields_for(to) if name in data}

    @action(detail=True, methods=["post"])
    def transition(self, request, number=None):
        # The move's one read of the record: under its row lock, in the move's transaction (the service
        # uses this row instead of reading it again, core.locking).
        with transaction.atomic():
            record = self.get_object(lock=True)
            version = expected_version(request, record)
            serializer = TransitionSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            to = serializer.validated_data["to"]
            unknown = sorted(set(request.data) - {"to", "note"} - set(record.workflow.fields_for(to)))
            if unknown and to in record.allowed_moves():
                raise ValidationError({name: f"Not set by a move to {to!r}." for name in unknown})
            fields = self.transition_fields(record, to, request.data)
            moved = self.perform_transition(record, to, fields, serializer.validated_data["note"], version)
        # As a create does, render the record the service returns instead of reading it again; when the
        # service moved another copy of it, that copy gets what this one loaded that a move cannot change.
        if moved is not record:
            carry_loaded_relations(record, moved, keep_empty=("sla_timers",))
        return Response(self.get_serializer(moved).data, headers={"ETag": etag_for(moved)})

    @extend_schema(
        request=CommentSerializer, responses={200: CommentSerializer(many=True), 201: CommentSerializer}
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def comments(self, request, number=None):
        record = self.get_object()
        if request.method == "GET":
            rows = selectors.comments(record, request.user)
            return Response(CommentSerializer(rows, many=True).data)
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        public = serializer.validated_data["public"]
        if not public and not selectors.is_staff_viewer(record, request.user):
            raise ValidationError({"public": "Only agents can write work notes."})
        activity = services.add_comment(
            record, actor=request.user, body=serializer.validated_data["body"], public=public
        )
        return Response(CommentSerializer(activity).data, status=status.HTTP_201_CREATED)

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
        record = self.get_object()
        context = {"request": request}
        if request.method == "GET":
            return Response(
                AttachmentSerializer(
                    selectors.attachments(record, request.user), many=True, context=context
                ).data
            )
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        public = serializer.validated_data["public"] or not selectors.is_staff_viewer(record, request.user)
        attachment = services.add_attachment(
            record, actor=request.user, uploaded_file=serializer.validated_data["file"], public=public
        )
        return Response(
            AttachmentSerializer(attachment, context=context).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(responses=ActivitySerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def timeline(self, request, number=None):
        record = self.get_object()
        return Response(ActivitySerializer(selectors.timeline(record, request.user), many=True).data)
