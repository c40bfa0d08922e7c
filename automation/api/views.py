"""API of automation: rules and macros (agents read, admins write), rule preview, applying a macro."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import AGENT, CHANGE_MANAGER, has_role, is_admin, is_workspace_user
from automation import services
from automation.kinds import KINDS
from automation.models import Macro, Rule
from core import selectors as core_selectors
from core.api.mixins import ServiceWritesMixin

from .serializers import (
    AppliedMacroSerializer,
    ApplyMacroSerializer,
    MacroSerializer,
    PreviewResultSerializer,
    PreviewSerializer,
    RuleSerializer,
)


class AgentReadAdminWrite(permissions.BasePermission):
    """Workspace users read rules and macros (agents apply macros); only admins change them. Requesters
    get 404, as for anything they may not see."""

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        if request.method.upper() not in view.allowed_methods:
            return True  # let the view answer 405 for a method no one may use
        if not is_workspace_user(user):
            raise Http404
        reading = request.method in permissions.SAFE_METHODS or getattr(view, "action", "") in READ_ACTIONS
        return reading or is_admin(user)


# POST actions that change nothing: any workspace user may preview a rule.
READ_ACTIONS = {"preview", "preview_unsaved"}


class _AuditedViewSet(ServiceWritesMixin, viewsets.ModelViewSet):
    permission_classes = [AgentReadAdminWrite]


class RuleViewSet(_AuditedViewSet):
    queryset = Rule.objects.all()
    serializer_class = RuleSerializer
    filterset_fields = ["applies_to", "trigger", "active"]
    save_service = staticmethod(services.rule_save)
    delete_service = staticmethod(services.rule_delete)
    instance_kw = "rule"

    @extend_schema(request=None, responses=PreviewResultSerializer)
    @action(detail=True, methods=["post"])
    def preview(self, request, pk=None):
        """Which records (not closed or canceled) the rule's conditions match now; changes nothing."""
        rule = self.get_object()
        return Response(
            services.preview(
                applies_to=rule.applies_to, trigger=rule.trigger, conditions_data=rule.conditions
            )
        )

    @extend_schema(
        request=PreviewSerializer,
        responses=PreviewResultSerializer,
        operation_id="automation_rules_preview_unsaved",
    )
    @action(detail=False, methods=["post"], url_path="preview")
    def preview_unsaved(self, request):
        """The same preview for a rule not saved yet (the editor's preview button)."""
        data = PreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            services.preview(
                applies_to=data.validated_data["applies_to"],
                trigger=data.validated_data["trigger"],
                conditions_data=data.validated_data["conditions"],
            )
        )


class MacroViewSet(_AuditedViewSet):
    queryset = Macro.objects.all()
    serializer_class = MacroSerializer
    filterset_fields = ["applies_to", "active"]
    save_service = staticmethod(services.macro_save)
    delete_service = staticmethod(services.macro_delete)
    instance_kw = "macro"


class ApplyMacroView(APIView):
    """`POST /api/v1/<kind>/{number}/apply_macro/` with `{"macro": id}`: all actions in one transaction."""

    kind = ""
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(request=ApplyMacroSerializer, responses=AppliedMacroSerializer)
    def post(self, request, number: str):
        model = KINDS[self.kind].model
        record = core_selectors.get_visible_ticket(model, request.user, number.upper())
        if not has_role(request.user, AGENT, CHANGE_MANAGER):
            raise Http404
        body = ApplyMacroSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        macro = Macro.objects.filter(
            pk=body.validated_data["macro"], active=True, applies_to=self.kind
        ).first()
        if macro is None:
            return Response(
                {"macro": [f"There is no active {self.kind} macro {body.validated_data['macro']}."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        (record,) = services.apply_macro(macro, [record], actor=request.user)
        record = model.objects.select_related("assignment_group", "assigned_to").get(pk=record.pk)
        return Response(
            {
                "number": record.number,
                "macro": macro.name,
                "state": record.state,
                "assignment_group": record.assignment_group.name if record.assignment_group_id else None,
                "assigned_to": record.assigned_to.username if record.assigned_to_id else None,
                "version": record.version,
            }
        )
