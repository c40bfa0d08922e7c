"""Shared workspace pages that belong to no single app."""

from django.urls import path

from knowledge.search_views import search as knowledge_search

from . import views

urlpatterns = [
    path("workspace/", views.agent_home, name="agent-home"),
    path("search/", knowledge_search, name="search"),
]
