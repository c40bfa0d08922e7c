"""Request, task and approval pages of the agent workspace, mounted at /requests/."""

from django.urls import include, path

from core.ticket_views import ticket_urlpatterns

from . import views
from .models import Request, Task

urlpatterns = [
    path("approvals/", views.approval_list, name="approval-list"),
    path("approvals/<int:pk>/decide/", views.approval_decide, name="approval-decide"),
    path("surveys/", views.survey_report, name="survey-report"),
    path(
        "tasks/",
        include(ticket_urlpatterns(Task, list_view=views.TaskListView, detail_view=views.TaskDetailView)),
    ),
    *ticket_urlpatterns(Request, list_view=views.RequestListView, detail_view=views.RequestDetailView),
]
