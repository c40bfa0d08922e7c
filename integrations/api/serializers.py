from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import webhooks
from ..models import Webhook, WebhookDelivery


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "status",
            "attempts",
            "response_status",
            "response_excerpt",
            "last_error",
            "created_at",
            "next_attempt_at",
            "delivered_at",
        ]
        read_only_fields = fields


@extend_schema_field({"type": "string", "enum": webhooks.event_names()})
class EventNameField(serializers.CharField):
    """An event a subscription listens to; the service says which are unknown, all at once."""


class WebhookSerializer(serializers.ModelSerializer):
    """A subscription; `secret` is write-only (deliveries are signed with it, nobody reads it back)."""

    secret = serializers.CharField(write_only=True, required=False, max_length=200)
    events = serializers.ListField(child=EventNameField(max_length=64), allow_empty=False, min_length=1)

    class Meta:
        model = Webhook
        fields = ["id", "name", "url", "events", "secret", "active", "created_at"]
        read_only_fields = ["id", "created_at"]

    def validate(self, attrs):
        if self.instance is None and not attrs.get("secret"):
            raise serializers.ValidationError({"secret": "A secret is required to sign deliveries."})
        return attrs


class AlertmanagerResultSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.CharField())
    updated = serializers.ListField(child=serializers.CharField())
    resolved = serializers.ListField(child=serializers.CharField())
    ignored = serializers.IntegerField()
