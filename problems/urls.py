"""Problem pages of the agent workspace, mounted at /problems/."""

from django.urls import path

from core.ticket_views import ticket_urlpatterns

from .models import Problem
from .views import (
    ProblemCreateView,
    ProblemDetailView,
    ProblemEditView,
    ProblemLinkIncidentsView,
    ProblemListView,
    ProblemPublishView,
)

urlpatterns = [
    *ticket_urlpatterns(
        Problem,
        list_view=ProblemListView,
        detail_view=ProblemDetailView,
        create_view=ProblemCreateView,
        edit_view=ProblemEditView,
    ),
    path("<str:number>/link-incidents/", ProblemLinkIncidentsView.as_view(), name="problem-link-incidents"),
    path(
        "<str:number>/publish-known-error/", ProblemPublishView.as_view(), name="problem-publish-known-error"
    ),
]
