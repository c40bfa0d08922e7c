"""Change pages of the agent workspace, mounted at /changes/ (the calendar before the number routes)."""

from django.urls import path

from core.ticket_views import ticket_urlpatterns

from . import views
from .models import Change

urlpatterns = [
    path("calendar/", views.change_calendar, name="change-calendar"),
    path("blackouts/new/", views.blackout_create, name="blackout-create"),
    path("<str:number>/<slug:decision>/decide/", views.change_decide, name="change-decide"),
    *ticket_urlpatterns(
        Change,
        list_view=views.ChangeListView,
        detail_view=views.ChangeDetailView,
        create_view=views.ChangeCreateView,
        edit_view=views.ChangeEditView,
    ),
]
