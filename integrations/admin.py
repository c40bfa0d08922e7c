from django.contrib import admin

from .models import AlertLink, InboundEmail, OutboundEmail, Webhook, WebhookDelivery
from .netguard import check_target


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "active", "created_at"]
    list_filter = ["active"]
    exclude = ["created_by"]

    def save_model(self, request, obj, form, change):
        check_target(obj.url)  # the same SSRF guard as the API
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "webhook", "event", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    list_display = ["received_at", "from_address", "subject", "status", "ticket_number", "reason"]
    list_filter = ["status"]
    search_fields = ["message_id", "from_address", "subject", "ticket_number"]
    readonly_fields = [f.name for f in InboundEmail._meta.fields]


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ["created_at", "recipient", "subject", "status", "attempts"]
    list_filter = ["status", "event"]
    search_fields = ["message_id", "recipient", "ticket_number"]
    readonly_fields = [f.name for f in OutboundEmail._meta.fields]


@admin.register(AlertLink)
class AlertLinkAdmin(admin.ModelAdmin):
    list_display = ["fingerprint", "alertname", "status", "incident", "notifications", "last_seen"]
    list_filter = ["status"]
    search_fields = ["fingerprint", "alertname"]
    raw_id_fields = ["incident"]
