"""CMDB in the Django admin. Saves and deletes of CIs go through cmdb.services, like the API and imports,
so an admin's edit is validated against the class schema and written to the CI's history too."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from . import services
from .models import ChangeSource, CIClass, ConfigurationItem

EDITABLE_FIELDS = (
    "name",
    "ci_class",
    "status",
    "environment",
    "owner",
    "support_group",
    "serial_number",
    "attributes",
    "description",
)


@admin.register(CIClass)
class CIClassAdmin(admin.ModelAdmin):
    list_display = ("name", "label")


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ("name", "ci_class", "status", "environment", "support_group")
    list_filter = ("ci_class", "status", "environment")
    search_fields = ("name", "serial_number")
    fields = EDITABLE_FIELDS
    raw_id_fields = ("owner",)

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in EDITABLE_FIELDS if name in form.cleaned_data}
        if change:
            current = ConfigurationItem.objects.get(pk=obj.pk)
            saved = services.update_ci(current, actor=request.user, changes=data, source=ChangeSource.UI)
        else:
            saved = services.create_ci(actor=request.user, fields=data, source=ChangeSource.UI)
        obj.pk = saved.pk

    def delete_model(self, request, obj):
        try:
            services.delete_ci(obj, actor=request.user, source=ChangeSource.UI)
        except ValidationError as error:
            self.message_user(request, "; ".join(error.messages), level=messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        # Bulk delete would bypass the open-ticket guard and the history: delete one CI at a time.
        return obj is not None and super().has_delete_permission(request, obj)
