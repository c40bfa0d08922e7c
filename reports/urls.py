"""Dashboards and reports, mounted at /reports/ (the agent home is routed from itsm/workspace_urls.py)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.dashboard, name="reports-dashboard"),
    path("export/<slug:slug>.csv", views.export_csv, name="reports-export"),
]
