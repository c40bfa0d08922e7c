"""Incident pages of the agent workspace, mounted at /incidents/."""

from django.urls import path

from core.ticket_views import ticket_urlpatterns

from .models import Incident
from .views import (
    IncidentCorrelationView,
    IncidentCreateView,
    IncidentDetailView,
    IncidentEditView,
    IncidentListView,
)

urlpatterns = ticket_urlpatterns(
    Incident,
    list_view=IncidentListView,
    detail_view=IncidentDetailView,
    create_view=IncidentCreateView,
    edit_view=IncidentEditView,
)

urlpatterns += [
    path("<str:number>/correlation/", IncidentCorrelationView.as_view(), name="incident-correlation"),
]
