"""Shared workspace pages that belong to no single app: the agent home (reports) and the search (knowledge).

Wired here, with the project, because core builds under those apps and imports none of them.
"""

from django.urls import path

from core.views import favicon
from knowledge.search_views import search as knowledge_search
from reports.views import agent_home

urlpatterns = [
    path("workspace/", agent_home, name="agent-home"),
    path("search/", knowledge_search, name="search"),
    path("favicon.ico", favicon, name="favicon"),
]
