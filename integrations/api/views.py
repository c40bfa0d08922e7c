"""Integrations API: webhook subscriptions (admins) and the Alertmanager receiver (agents' tokens)."""

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.roles import AGENT, has_role, is_admin

from .. import alerts, webhooks
from ..models import Webhook
from .serializers import AlertmanagerResultSerializer, WebhookDeliverySerializer, WebhookSerializer


class IsSuiteAdminOr404(permissions.BasePermission):
    """Webhooks are invisible to non-admins (404, as SPEC §2 wants for anything one may not see)."""

    def has_permission(self, request, view):
        if not (request.user and request.user.is_authenticated):
            return False
        if request.method.upper() not in view.allowed_methods:
            return True  # let the view answer 405 for a method no one may use
        if not is_admin(request.user):
            raise exceptions.NotFound()
        return True


class WebhookViewSet(viewsets.ModelViewSet):
    serializer_class = WebhookSerializer
    permission_classes = [IsSuiteAdminOr404]
    queryset = Webhook.objects.order_by("name", "id")

    def perform_create(self, serializer):
        serializer.instance = webhooks.save_webhook(actor=self.request.user, fields=serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = webhooks.save_webhook(
            actor=self.request.user, fields=serializer.validated_data, webhook=serializer.instance
        )

    @extend_schema(responses=WebhookDeliverySerializer(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request, pk=None):
        """The subscription's deliveries, newest first (paginated)."""
        queryset = self.get_object().deliveries.order_by("-created_at")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)


class IsAgent(permissions.BasePermission):
    message = "Alert ingestion needs an integration user with the agent role."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and has_role(request.user, AGENT))


class AlertmanagerView(APIView):
    """Prometheus Alertmanager webhook receiver (version 4): one incident per alert fingerprint."""

    permission_classes = [IsAgent]

    @extend_schema(
        request={"application/json": alerts.PAYLOAD_SCHEMA}, responses=AlertmanagerResultSerializer
    )
    def post(self, request):
        outcome = alerts.receive_alertmanager(request.data, actor=request.user)
        return Response(outcome.as_dict(), status=status.HTTP_200_OK)
