from django.contrib import admin

from .approvals import Approval
from .models import Activity, Attachment


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ("created_at", "content_type", "object_id", "kind", "actor_name", "public")
    list_filter = ("kind", "public", "content_type")
    readonly_fields = [f.name for f in Activity._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ("filename", "content_type", "object_id", "size", "uploaded_by", "uploaded_at")
    readonly_fields = ("content_type", "object_id", "file", "size", "uploaded_by", "uploaded_at")


@admin.register(Approval)
class ApprovalAdmin(admin.ModelAdmin):
    list_display = ("content_type", "object_id", "approver", "stage", "state", "decided_at")
    list_filter = ("state", "content_type")
