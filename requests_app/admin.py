"""The catalog form builder: an item with its variables and fulfillment tasks as inlines."""

from django.contrib import admin

from .models import CatalogCategory, CatalogItem, CatalogTaskTemplate, CatalogVariable, Request, Task


@admin.register(CatalogCategory)
class CatalogCategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "icon", "order", "active")
    list_editable = ("order", "active")


class CatalogVariableInline(admin.TabularInline):
    model = CatalogVariable
    extra = 1
    fields = ("order", "name", "label", "type", "required", "choices", "default", "help_text")
    prepopulated_fields = {"name": ("label",)}


class CatalogTaskTemplateInline(admin.TabularInline):
    model = CatalogTaskTemplate
    extra = 1
    fields = ("order", "short_description", "assignment_group", "description")


@admin.register(CatalogItem)
class CatalogItemAdmin(admin.ModelAdmin):
    list_display = ("name", "category", "approval", "approval_group", "active", "order")
    list_filter = ("category", "approval", "active")
    list_editable = ("active", "order")
    search_fields = ("name", "description")
    fieldsets = (
        (None, {"fields": ("name", "category", "icon", "description", "active", "order")}),
        ("Approval and fulfilment", {"fields": ("approval", "approval_group", "fulfillment_group")}),
    )
    inlines = [CatalogVariableInline, CatalogTaskTemplateInline]


class _ReadOnlyTicketAdmin(admin.ModelAdmin):
    """Read-mostly: moves go through the workspace and API so services write the timeline."""

    list_display = ("number", "short_description", "state", "assignment_group", "assigned_to", "opened_at")
    list_filter = ("state",)
    search_fields = ("number", "short_description")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields if f.name != "id"]

    def has_add_permission(self, request):
        return False


@admin.register(Request)
class RequestAdmin(_ReadOnlyTicketAdmin):
    pass


@admin.register(Task)
class TaskAdmin(_ReadOnlyTicketAdmin):
    pass
