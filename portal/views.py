"""The end user's self-service pages. Every read goes through the apps' requester-scoped selectors."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from core import selectors
from incidents.models import Incident


@login_required
def home(request):
    """Portal landing page: what the user can do, and their open tickets."""
    mine = (
        selectors.visible_tickets(Incident, request.user)
        .exclude(state__in=Incident.workflow.final_states)
        .order_by("-opened_at")[:10]
    )
    return render(request, "portal/home.html", {"open_incidents": mine})
