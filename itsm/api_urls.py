"""/api/v1/: every app's router, the auth token endpoint, the OpenAPI schema and docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from core.api.views import ApiRootView

app_name = "api"

urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file (`?script`): the CSP has no inline scripts.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path(
        "redoc/",
        SpectacularRedocView.as_view(url_name="api:schema", template_name="core/api_redoc.html"),
        name="redoc",
    ),
    path("", include("accounts.api.urls")),
    path("", include("core.api.urls")),
    path("", include("incidents.api.urls")),
    path("", include("requests_app.api.urls")),
    path("", include("problems.api.urls")),
    path("", include("changes.api.urls")),
    path("", include("cmdb.api.urls")),
    path("", include("knowledge.api.urls")),
    path("", include("sla.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("reports.api.urls")),
    path("", include("automation.api.urls")),
    path("", include("contracts.api.urls")),
]
