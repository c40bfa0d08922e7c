"""Top-level URLs: the agent workspace, the portal, the API, the admin, health."""

from django.contrib import admin
from django.urls import include, path, re_path

from core import views as core_views
from core.api.views import not_found as api_not_found

handler500 = "core.api.views.server_error"  # JSON under /api/, the styled page elsewhere

urlpatterns = [
    path("", core_views.home, name="home"),
    path("health/", core_views.health, name="health"),
    path("pick/<slug:source>/", core_views.picker, name="picker"),
    path("attachments/<int:pk>/download/", core_views.attachment_download, name="attachment-download"),
    path("accounts/", include("accounts.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("itsm.api_urls")),
    path("api/now/", include("integrations.servicenow_urls")),  # ServiceNow Table API subset
    re_path(
        r"^api/", api_not_found, name="api-not-found"
    ),  # keep right after the API: what no API route matches is a JSON 404
    path("portal/", include("portal.urls")),
    path("incidents/", include("incidents.urls")),
    # The approvals inbox and the survey report serve every kind (core); they keep their addresses under
    # /requests/, listed before that app's `<number>/` so "approvals" is never read as a number.
    path("requests/approvals/", core_views.approval_list, name="approval-list"),
    path("requests/approvals/<int:pk>/decide/", core_views.approval_decide, name="approval-decide"),
    path("requests/surveys/", core_views.survey_report, name="survey-report"),
    path("requests/", include("requests_app.urls")),
    path("problems/", include("problems.urls")),
    path("changes/", include("changes.urls")),
    path("cmdb/", include("cmdb.urls")),
    path("kb/", include("knowledge.urls")),
    path("sla/", include("sla.urls")),
    path("integrations/", include("integrations.urls")),
    path("reports/", include("reports.urls")),
    path("automation/", include("automation.urls")),
    path("contracts/", include("contracts.urls")),
    path("", include("itsm.workspace_urls")),
]
