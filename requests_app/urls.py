"""Request and task pages of the agent workspace, mounted at /requests/ (the approvals inbox and the survey
report there are core's: itsm/urls.py)."""

from django.urls import include, path

from core.ticket_views import ticket_urlpatterns

from . import views
from .models import Request, Task

urlpatterns = [
    path(
        "tasks/",
        include(ticket_urlpatterns(Task, list_view=views.TaskListView, detail_view=views.TaskDetailView)),
    ),
    *ticket_urlpatterns(Request, list_view=views.RequestListView, detail_view=views.RequestDetailView),
]
