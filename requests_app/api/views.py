"""`/api/v1/catalog/items/`, `/api/v1/requests/`, `/api/v1/tasks/` (SPEC §3, §5)."""

from django.db.models import Count, Prefetch, ProtectedError
from rest_framework import permissions, serializers, viewsets
from rest_framework.exceptions import APIException

from accounts.roles import is_admin
from core.api.viewsets import TicketViewSet
from requests_app import services
from requests_app.filtersets import RequestFilterSet, TaskFilterSet
from requests_app.models import (
    CatalogCategory,
    CatalogItem,
    CatalogTaskTemplate,
    CatalogVariable,
    Request,
    Task,
)

from .serializers import (
    CatalogCategorySerializer,
    CatalogItemSerializer,
    RequestSerializer,
    RequestUpdateSerializer,
    TaskSerializer,
)


class AdminWritesOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return is_admin(request.user)


class CategoryInUse(APIException):
    status_code = 409
    default_code = "in_use"


class CatalogCategoryViewSet(viewsets.ModelViewSet):
    """Catalog shelves: everyone signed in reads the active ones; admins see all and write them. A
    category that holds items cannot be deleted (409): deactivate it instead (`active: false` hides it
    and its items from the portal)."""

    serializer_class = CatalogCategorySerializer
    permission_classes = [AdminWritesOrReadOnly]
    filterset_fields = ["active"]
    pagination_class = None  # a catalog has tens of shelves

    def get_queryset(self):
        queryset = CatalogCategory.objects.annotate(item_count=Count("items"))
        if not is_admin(self.request.user):
            queryset = queryset.filter(active=True)
        return queryset.order_by("order", "name")

    def perform_destroy(self, instance):
        try:
            instance.delete()
        except ProtectedError as exc:
            raise CategoryInUse(
                f"{instance.name} holds {len(exc.protected_objects)} item(s): move them or set active to false."
            ) from exc


class CatalogItemViewSet(viewsets.ModelViewSet):
    """Everyone signed in reads the orderable items; admins (catalog managers) write them."""

    serializer_class = CatalogItemSerializer
    permission_classes = [AdminWritesOrReadOnly]
    filterset_fields = ["category__name", "approval", "active"]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_queryset(self):
        queryset = CatalogItem.objects.select_related(
            "category", "approval_group", "fulfillment_group"
        ).prefetch_related(
            Prefetch("variables", queryset=CatalogVariable.objects.order_by("order", "id")),
            Prefetch(
                "task_templates",
                queryset=CatalogTaskTemplate.objects.select_related("assignment_group").order_by(
                    "order", "id"
                ),
            ),
        )
        if not is_admin(self.request.user):
            queryset = queryset.filter(active=True, category__active=True)
        return queryset.order_by("order", "name")


class RequestViewSet(TicketViewSet):
    model = Request
    serializer_class = RequestSerializer
    update_serializer_class = RequestUpdateSerializer
    filterset_class = RequestFilterSet
    list_select_related = (*TicketViewSet.list_select_related, "catalog_item", "requested_for")
    list_prefetch_related = (
        *TicketViewSet.list_prefetch_related,
        Prefetch("tasks", queryset=Task.objects.select_related("assignment_group").order_by("order", "id")),
    )

    def perform_create_service(self, data):
        """The API names the bad answers under `variables` (the web form shows them beside each field)."""
        try:
            return super().perform_create_service(data)
        except services.VariablesInvalid as exc:
            raise serializers.ValidationError({"variables": exc.message_dict}) from None


class TaskViewSet(TicketViewSet):
    """Tasks come from approved requests; they are read, edited and moved here, never created."""

    model = Task
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    list_select_related = (*TicketViewSet.list_select_related, "request")

    @classmethod
    def as_view(cls, actions=None, **initkwargs):
        # No POST on the list: tasks come from approved requests, so the route answers 405 and its Allow
        # header and the schema list only what it does.
        if actions:
            actions = {method: name for method, name in actions.items() if name != "create"}
        return super().as_view(actions, **initkwargs)
