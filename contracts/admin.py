from django.contrib import admin

from .models import Contract, ContractEvent, Installation, License, Software, Vendor


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ("name", "support_phone", "support_email")
    search_fields = ("name",)


class ContractEventInline(admin.TabularInline):
    model = ContractEvent
    extra = 0
    readonly_fields = ("kind", "actor_name", "message", "created_at")
    fields = readonly_fields
    can_delete = False


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    """Read-mostly here: edits belong in the workspace page or the API, which write the history."""

    list_display = ("number", "name", "vendor", "type", "start_date", "end_date", "renewal")
    list_filter = ("type", "renewal")
    search_fields = ("number", "name", "vendor__name")
    readonly_fields = ("number",)
    raw_id_fields = ("configuration_items", "owner")
    inlines = [ContractEventInline]


@admin.register(Software)
class SoftwareAdmin(admin.ModelAdmin):
    list_display = ("name", "publisher")
    search_fields = ("name", "publisher")
    readonly_fields = ("key",)


@admin.register(Installation)
class InstallationAdmin(admin.ModelAdmin):
    """Read-only: installations come and go through the import (contracts.software), which keeps the
    titles' installed CI counts and the CI history; an edit here would bypass both."""

    list_display = ("software", "ci", "version", "installed_at", "ended_at")
    raw_id_fields = ("ci", "software")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(License)
class LicenseAdmin(admin.ModelAdmin):
    list_display = ("software", "metric", "quantity", "contract")
    raw_id_fields = ("configuration_items", "users", "software", "contract")
