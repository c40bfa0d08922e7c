from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.response import Response

from accounts.roles import AGENT, CAB_MEMBER, CHANGE_MANAGER, has_role
from changes import selectors, services
from changes.conflicts import detect_conflicts
from changes.filtersets import BlackoutWindowFilterSet, ChangeFilterSet
from changes.models import Change
from core.api.mixins import ServiceWritesMixin
from core.api.viewsets import TicketViewSet
from core.approvals import Approval

from .serializers import (
    BlackoutWindowSerializer,
    ChangeSerializer,
    ChangeTemplateSerializer,
    ChangeUpdateSerializer,
)


class ChangeViewSet(TicketViewSet):
    model = Change
    serializer_class = ChangeSerializer
    update_serializer_class = ChangeUpdateSerializer
    filterset_class = ChangeFilterSet
    list_select_related = (*TicketViewSet.list_select_related, "problem", "template")
    list_prefetch_related = (
        *TicketViewSet.list_prefetch_related,
        "cab_approvers",
        Prefetch("approvals", queryset=Approval.objects.select_related("approver")),
    )

    @extend_schema(
        responses=inline_serializer(
            "ChangeConflicts", {"conflicts": serializers.ListField(child=serializers.DictField())}
        )
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def conflicts(self, request, number=None):
        """Conflicts of the change's planned window: changes, blackout windows, P1–P2 incidents."""
        return Response({"conflicts": detect_conflicts(self.get_object())})


class IsChangeStaff(BasePermission):
    """Read: agents, change managers and CAB members; write: change managers."""

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return has_role(request.user, AGENT, CHANGE_MANAGER, CAB_MEMBER)
        return has_role(request.user, CHANGE_MANAGER)


class ChangeTemplateViewSet(ServiceWritesMixin, viewsets.ModelViewSet):
    """Pre-approved standard change templates (`/api/v1/changes/templates/`). Deleting retires one
    (`active: false`): the changes raised from it keep their template."""

    serializer_class = ChangeTemplateSerializer
    permission_classes = [IsChangeStaff]
    filterset_fields = ["active", "risk"]
    save_service = staticmethod(services.template_save)
    instance_kw = "template"
    retire_data = {"active": False}

    def get_queryset(self):
        return selectors.templates()


class BlackoutWindowViewSet(viewsets.ModelViewSet):
    """Blackout windows (`/api/v1/changes/blackouts/`), managed by change managers."""

    serializer_class = BlackoutWindowSerializer
    permission_classes = [IsChangeStaff]
    filterset_class = BlackoutWindowFilterSet

    def get_queryset(self):
        return selectors.blackout_windows()

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        cis = data.pop("configuration_items", [])
        serializer.instance = services.blackout_create(
            actor=self.request.user, configuration_items=cis, **data
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        cis = data.pop("configuration_items", None)
        serializer.instance = services.blackout_update(
            serializer.instance, actor=self.request.user, changes=data, configuration_items=cis
        )

    def perform_destroy(self, instance):
        services.blackout_delete(instance, actor=self.request.user)
