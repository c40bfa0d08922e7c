"""Pages shared by the whole suite: home routing, health, attachment downloads."""

import time

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts.roles import is_workspace_user

from . import selectors
from .models import Attachment, TicketBase

WORKER_HEARTBEAT_KEY = "itsm:worker:heartbeat"
WORKER_STALE_AFTER_SECONDS = 120


@login_required
def home(request):
    """Agents and other staff land on the workspace; everyone else on the self-service portal."""
    if is_workspace_user(request.user):
        return redirect("agent-home")
    return redirect("portal:home")


@never_cache
@require_GET
def health(request):
    """SPEC §1: 200 with the state of the database, Redis and the Celery worker; 503 if the DB is down."""
    result = {"database": "ok", "redis": "ok", "worker": "stale"}
    status = 200
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        result["database"] = "down"
        status = 503
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        beat = client.get(WORKER_HEARTBEAT_KEY)
        if beat is not None and time.time() - float(beat) < WORKER_STALE_AFTER_SECONDS:
            result["worker"] = "ok"
    except Exception:
        result["redis"] = "down"
    return JsonResponse(result, status=status)


@login_required
@require_GET
def attachment_download(request, pk: int):
    """Serve an attachment as a download, only to users who can see its record (else 404)."""
    attachment = Attachment.objects.select_related("content_type").filter(pk=pk).first()
    if attachment is None:
        raise Http404
    model = attachment.content_type.model_class()
    if model is None:
        raise Http404
    if issubclass(model, TicketBase):
        record = selectors.visible_tickets(model, request.user).filter(pk=attachment.object_id).first()
        if record is None or attachment not in selectors.attachments(record, request.user):
            raise Http404
    else:
        record = model.objects.filter(pk=attachment.object_id).first()
        can_view = getattr(model, "user_can_view", None)
        if record is None or can_view is None or not can_view(record, request.user):
            raise Http404
    response = FileResponse(attachment.file.open("rb"), as_attachment=True, filename=attachment.filename)
    response["Content-Type"] = "application/octet-stream"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


FAVICON = settings.BASE_DIR / "static" / "img" / "favicon.svg"


@require_GET
def favicon(request):
    """`/favicon.ico`: browsers ask for it on every page whatever the `<link rel=icon>` says; answer the
    suite's icon (SVG, which every current browser takes at that address) instead of a logged 404."""
    response = FileResponse(FAVICON.open("rb"), content_type="image/svg+xml")
    response["Cache-Control"] = "public, max-age=86400"
    return response
