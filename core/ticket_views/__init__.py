"""Generic web pages for every ticket kind: list, detail, create, edit, transition, comment, attach, watch.

A ticket app plugs in by subclassing and wiring the URLs with `ticket_urlpatterns`:

    # problems/views.py
    class ProblemListView(TicketListView):
        model = Problem
        filterset_class = ProblemFilterSet
        columns = [*TicketListView.columns, Column("known_error", "Known error", sort=None)]

    class ProblemDetailView(TicketDetailView):
        model = Problem
        detail_extra_template = "problems/_detail_extra.html"            # optional side panel

    class ProblemCreateView(TicketCreateView):
        model = Problem
        form_class = ProblemForm                 # a ModelForm; cleaned_data goes to the create service

    class ProblemEditView(TicketEditView):
        model = Problem
        form_class = ProblemForm

    # problems/urls.py
    urlpatterns = ticket_urlpatterns(
        Problem, list_view=ProblemListView, detail_view=ProblemDetailView,
        create_view=ProblemCreateView, edit_view=ProblemEditView,
    )

Every write goes through the services problems/services.py declares with
`register_ticket_services(Problem, create=..., update=..., transition=...)` (core.ticket_services); the
API's TicketViewSet reads the same declaration. That yields the URL names `<kind>-list`, `-create`, `-detail`, `-edit`, `-transition`, `-comment`,
`-attach`, `-watch` (kind = `Model.KIND`). Every page reads through core.selectors (404 for hidden records)
and writes through services; the transition page also serves an htmx partial, comments are posted in place.
List pages run a fixed number of queries whatever the page size: columns render from `select_related`

The package, by responsibility: `base` (the shared mixin and helpers), `columns` (list columns and saved
views), `listing` (the list page), `bulk` (its bulk actions), `detail` (the record page and its comment,
attach, watch and assign-to-me posts), `transition` (one move), `edit` (create and edit), `urls`.
Everything apps use is re-exported here, so `from core.ticket_views import ...` is the one import path.
"""

from __future__ import annotations

from ..forms import agent_users
from .base import STALE_MESSAGE, TicketViewMixin, apply_service_error, is_htmx
from .bulk import BulkActionsMixin, SelectWidget
from .columns import (
    DEFAULT_COLUMNS,
    DEFAULT_HIDDEN_COLUMNS,
    LEFT_COLUMNS,
    LIST_TIMER_PREFETCH,
    URGENT_FIRST,
    CellHTML,
    Column,
    SavedView,
    ci_names,
    default_saved_views,
    most_urgent_timer,
    open_states,
    relative_time,
)
from .detail import (
    MOVE_VERBS,
    TicketAssignToMeView,
    TicketAttachView,
    TicketCommentView,
    TicketDetailView,
    TicketWatchView,
    display_value,
    move_verb,
)
from .edit import TicketCreateView, TicketEditView, TicketFormViewBase
from .listing import CappedPaginator, TicketListView, ci_control, date_input, yes_no_control
from .transition import TicketTransitionView
from .urls import ticket_urlpatterns

__all__ = [
    "DEFAULT_COLUMNS",
    "DEFAULT_HIDDEN_COLUMNS",
    "LEFT_COLUMNS",
    "LIST_TIMER_PREFETCH",
    "MOVE_VERBS",
    "STALE_MESSAGE",
    "URGENT_FIRST",
    "BulkActionsMixin",
    "CappedPaginator",
    "CellHTML",
    "Column",
    "SavedView",
    "SelectWidget",
    "TicketAssignToMeView",
    "TicketAttachView",
    "TicketCommentView",
    "TicketCreateView",
    "TicketDetailView",
    "TicketEditView",
    "TicketFormViewBase",
    "TicketListView",
    "TicketTransitionView",
    "TicketViewMixin",
    "TicketWatchView",
    "agent_users",
    "apply_service_error",
    "ci_control",
    "ci_names",
    "date_input",
    "default_saved_views",
    "display_value",
    "is_htmx",
    "most_urgent_timer",
    "move_verb",
    "open_states",
    "relative_time",
    "ticket_urlpatterns",
    "yes_no_control",
]
