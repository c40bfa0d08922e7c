from django.contrib import admin

from .models import SatisfactionSurvey


@admin.register(SatisfactionSurvey)
class SatisfactionSurveyAdmin(admin.ModelAdmin):
    list_display = ("record_number", "rating", "respondent", "created_at")
    list_filter = ("rating",)
    search_fields = ("record_number", "comment")
    readonly_fields = (
        "content_type",
        "object_id",
        "record_number",
        "rating",
        "comment",
        "respondent",
        "created_at",
    )
