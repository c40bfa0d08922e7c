"""/api/now/: the ServiceNow Table API subset (integrations.servicenow)."""

from django.urls import path

from .servicenow_views import IncidentRecordView, IncidentTableView

app_name = "servicenow"

urlpatterns = [
    path("table/incident", IncidentTableView.as_view(), name="incident-table"),
    path("table/incident/<str:sys_id>", IncidentRecordView.as_view(), name="incident-record"),
]
