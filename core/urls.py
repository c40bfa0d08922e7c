"""Shared workspace pages that belong to no single app."""

from django.urls import path

from . import views

urlpatterns = [
    path("workspace/", views.agent_home, name="agent-home"),
]
