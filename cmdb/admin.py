from django.contrib import admin

from .models import CIClass, ConfigurationItem


@admin.register(CIClass)
class CIClassAdmin(admin.ModelAdmin):
    list_display = ("name", "label")


@admin.register(ConfigurationItem)
class ConfigurationItemAdmin(admin.ModelAdmin):
    list_display = ("name", "ci_class", "status", "environment", "support_group")
    list_filter = ("ci_class", "status", "environment")
    search_fields = ("name", "serial_number")
