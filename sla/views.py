"""SLA pages of the agent workspace: the definitions (with their calendars) and the breaching-soon queue."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from accounts.roles import is_workspace_user

from . import selectors
from .models import SLADefinition

BREACHING_HOURS = int(selectors.BREACHING_SOON.total_seconds() // 3600)


def _workspace_only(request) -> None:
    if not is_workspace_user(request.user):
        raise Http404


@login_required
def definition_list(request):
    _workspace_only(request)
    definitions = SLADefinition.objects.select_related("calendar").order_by(
        "applies_to", "target", "duration"
    )
    return render(request, "sla/definition_list.html", {"definitions": definitions})


@login_required
def breaching_soon(request):
    """Running timers due within the next few hours on tickets this user may see, soonest first."""
    _workspace_only(request)
    try:
        hours = max(1, min(72, int(request.GET.get("hours", BREACHING_HOURS))))
    except ValueError:
        hours = BREACHING_HOURS
    rows = selectors.breaching_queue(request.user, within=timedelta(hours=hours))
    return render(request, "sla/breaching_soon.html", {"rows": rows, "hours": hours})
