from django.urls import NoReverseMatch, reverse
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

ROOT_RESOURCES = [
    "incident",
    "request",
    "task",
    "problem",
    "change",
    "catalog-item",
    "approval",
    "ci",
    "relationship",
    "ci-class",
    "article",
    "sla-definition",
    "calendar",
    "user",
    "group",
    "webhook",
]


class ApiRootView(APIView):
    """Lists the resource collections this user can reach."""

    @extend_schema(exclude=True)
    def get(self, request):
        links = {}
        for name in ROOT_RESOURCES:
            try:
                links[name] = request.build_absolute_uri(reverse(f"api:{name}-list"))
            except NoReverseMatch:
                continue
        links["schema"] = request.build_absolute_uri(reverse("api:schema"))
        links["docs"] = request.build_absolute_uri(reverse("api:docs"))
        return Response(links)
