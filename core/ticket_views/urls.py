"""The standard URLs of a ticket kind, named `<kind>-list`, `<kind>-detail`, ... (see the package doc)."""

from __future__ import annotations

from django.urls import path

from ..models import TicketBase
from .detail import (
    TicketAssignToMeView,
    TicketAttachView,
    TicketCommentView,
    TicketDetailView,
    TicketWatchView,
)
from .edit import TicketCreateView, TicketEditView
from .listing import TicketListView
from .transition import TicketTransitionView


def ticket_urlpatterns(
    model: type[TicketBase],
    *,
    list_view: type[TicketListView],
    detail_view: type[TicketDetailView],
    create_view: type[TicketCreateView] | None = None,
    edit_view: type[TicketEditView] | None = None,
) -> list:
    """The standard URLs of a ticket kind, named `<kind>-list`, `<kind>-detail`, ... (see module doc)."""
    kind = model.KIND
    attrs = {
        "model": model,
        "detail_select_related": detail_view.detail_select_related,
    }
    number = "<str:number>"
    patterns = [
        path("", list_view.as_view(), name=f"{kind}-list"),
        path(f"{number}/", detail_view.as_view(), name=f"{kind}-detail"),
        path(
            f"{number}/transition/<slug:to>/",
            type(f"{model.__name__}TransitionView", (TicketTransitionView, detail_view), attrs).as_view(),
            name=f"{kind}-transition",
        ),
        path(
            f"{number}/comment/",
            type(f"{model.__name__}CommentView", (TicketCommentView, detail_view), attrs).as_view(),
            name=f"{kind}-comment",
        ),
        path(
            f"{number}/attachments/",
            type(f"{model.__name__}AttachView", (TicketAttachView, detail_view), attrs).as_view(),
            name=f"{kind}-attach",
        ),
        path(
            f"{number}/assign-to-me/",
            type(f"{model.__name__}AssignToMeView", (TicketAssignToMeView, detail_view), attrs).as_view(),
            name=f"{kind}-assign-to-me",
        ),
        path(
            f"{number}/watch/",
            type(f"{model.__name__}WatchView", (TicketWatchView, detail_view), attrs).as_view(),
            name=f"{kind}-watch",
        ),
    ]
    if create_view is not None:
        patterns.insert(1, path("new/", create_view.as_view(), name=f"{kind}-create"))
    if edit_view is not None:
        patterns.append(path(f"{number}/edit/", edit_view.as_view(), name=f"{kind}-edit"))
    return patterns
