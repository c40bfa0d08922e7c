"""Permission-scoped reads for the catalog, requests and tasks (on top of core.selectors)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from core import selectors as core_selectors

from .models import CatalogCategory, CatalogItem, CatalogVariable, Request, Task


def orderable_items(user=None) -> QuerySet:
    """Active items of active categories, with their variables; what the portal and API offer."""
    return (
        CatalogItem.objects.filter(active=True, category__active=True)
        .select_related("category")
        .prefetch_related(Prefetch("variables", queryset=CatalogVariable.objects.order_by("order", "id")))
    )


def catalog_categories() -> QuerySet:
    return (
        CatalogCategory.objects.filter(active=True, items__active=True).distinct().order_by("order", "name")
    )


def search_items(text: str, *, limit: int = 5) -> list[CatalogItem]:
    """Catalog items whose name, description or category matches what the user is typing."""
    words = [w for w in (text or "").split() if len(w) > 1][:6]
    if not words:
        return []
    query = Q()
    for word in words:
        query &= Q(name__icontains=word) | Q(description__icontains=word) | Q(category__name__icontains=word)
    return list(orderable_items().filter(query).order_by("order", "name")[:limit])


def visible_tasks(user) -> QuerySet:
    return core_selectors.visible_tickets(Task, user).select_related(
        "request", "assignment_group", "assigned_to", "opened_by"
    )


def request_tasks(request: Request, user) -> QuerySet:
    """The request's tasks the user may see (agents: all; the requester: theirs through the request)."""
    return visible_tasks(user).filter(request=request).order_by("order", "id")
