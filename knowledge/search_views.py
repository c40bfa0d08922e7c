"""/search/: the agents' top-bar search across every kind (knowledge.search); requesters go to the
portal's knowledge search instead, since tickets they can see are few and listed there."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from .search import search_everything_with_hint
from .selectors import clean_query


@login_required
def search(request):
    query = clean_query(request.GET.get("q", ""))
    groups, did_you_mean = search_everything_with_hint(request.user, query)
    return render(
        request, "knowledge/search.html", {"query": query, "groups": groups, "did_you_mean": did_you_mean}
    )
