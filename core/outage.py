"""Outages answer clearly: a database or Redis (cache, broker) failure during a request becomes a 503,
as JSON `{"detail", "retry_after"}` on the API and a styled page elsewhere, with `Retry-After`; never a
500 or a traceback, whatever DEBUG says.

Why a signal plus a middleware: Django turns an exception raised anywhere in the middleware chain (the
lazy session and user load in our own middleware, a session save on the way out) into a 500 at that
layer, before any outer middleware sees it, and under DEBUG into the technical traceback page. Every such
conversion sends `got_request_exception` first; the receiver notes an outage on the request, and
`OutageMiddleware`, outermost, replaces the 500 it then sees. View exceptions go the same way (DRF
re-raises what its handler does not know). This is the one place that leans on that Django behaviour.
"""

from __future__ import annotations

import logging
import sys

import redis.exceptions
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from kombu.exceptions import OperationalError as BrokerError

from .middleware import CONTENT_SECURITY_POLICY

logger = logging.getLogger(__name__)

# Seconds a client should wait before retrying: a restarting PostgreSQL or Redis is usually back within
# a few seconds, and a shorter hint only adds load while it recovers.
RETRY_AFTER = 5

REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, BrokerError)
DATABASE_ERRORS = (OperationalError, InterfaceError)


def dependency_of(exc: BaseException) -> str | None:
    """'database' or 'redis' when `exc` (or what it was raised from) is a lost or refused connection."""
    seen = 0
    while exc is not None and seen < 5:
        if isinstance(exc, DATABASE_ERRORS):
            return "database"
        if isinstance(exc, REDIS_ERRORS):
            return "redis"
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return None


def _note_outage(sender, request=None, **kwargs) -> None:
    exc = sys.exc_info()[1]
    dependency = dependency_of(exc) if exc is not None else None
    if request is not None and dependency is not None:
        request.itsm_outage = dependency
        logger.warning("%s unavailable during %s %s: %s", dependency, request.method, request.path, exc)


got_request_exception.connect(_note_outage, dispatch_uid="core.outage")


def outage_response(request, dependency: str) -> HttpResponse:
    name = "The database" if dependency == "database" else "Redis (cache and task queue)"
    detail = f"{name} is unavailable for a moment; nothing was changed by this request. Retry shortly."
    if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response: HttpResponse = JsonResponse({"detail": detail, "retry_after": RETRY_AFTER}, status=503)
    else:
        response = HttpResponse(
            render_to_string("core/503.html", {"detail": detail, "retry_after": RETRY_AFTER}), status=503
        )
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response["X-Content-Type-Options"] = "nosniff"
    return response


class OutageMiddleware:
    """Outermost: turns the 500 of a request that failed on a dependency into a clear 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        dependency = getattr(request, "itsm_outage", None)
        if dependency is not None and response.status_code >= 500:
            return outage_response(request, dependency)
        return response
