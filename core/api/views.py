import contextlib

from django.http import JsonResponse
from django.urls import NoReverseMatch, Resolver404, resolve, reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import server_error as django_server_error
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
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

    @extend_schema(
        operation_id="api_root",
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Each reachable collection's name with its absolute URL."
            )
        },
    )
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


@csrf_exempt  # like every DRF view: an API 404 must not turn into the CSRF middleware's HTML 403
def not_found(request, *args, **kwargs):
    """A JSON 404 for any /api/ path no route matches: an API client never gets Django's HTML page."""
    detail = "No API endpoint at this path."
    if not request.path.endswith("/"):
        with contextlib.suppress(Resolver404):  # no route with the slash either: the plain 404 says it all
            resolve(request.path + "/")
            detail += f" Did you mean {request.path}/ (API paths end with a slash)?"
    return JsonResponse({"detail": detail}, status=404)


def server_error(request, *args, **kwargs):
    """handler500: a JSON 500 under /api/ (an API client never parses Django's HTML page), the styled
    page elsewhere. The error itself is logged by Django before this runs."""
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"detail": "The server failed to handle this request; it has been logged."}, status=500
        )
    return django_server_error(request)
