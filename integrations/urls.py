"""Integrations pages (admins), mounted at /integrations/."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="integration-home"),
    path("inbound/<int:pk>/", views.inbound_detail, name="integration-inbound-detail"),
    path("inbound/<int:pk>/raw/", views.inbound_raw, name="integration-inbound-raw"),
]
