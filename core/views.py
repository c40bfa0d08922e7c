"""Pages shared by the whole suite: home routing, health, attachment downloads, pickers, the approvals
inbox and the satisfaction survey report."""

import time
from concurrent.futures import ThreadPoolExecutor, wait

import redis
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.db import connection, connections
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from rest_framework import exceptions

from accounts.authentication import ExpiringTokenAuthentication
from accounts.roles import AGENT, CHANGE_MANAGER, has_role, is_workspace_user

from . import capabilities, inbox, pickers, selectors, surveys
from .models import Attachment, TicketBase

WORKER_HEARTBEAT_KEY = "itsm:worker:heartbeat"
WORKER_STALE_AFTER_SECONDS = 120


@login_required
def home(request):
    """Agents and other staff land on the workspace; everyone else on the self-service portal."""
    if is_workspace_user(request.user):
        return redirect("agent-home")
    return redirect("portal:home")


# /health/ answers within a second whatever hangs: each dependency is checked in its own thread and one
# that has not answered by then is reported "slow" (a stalled Redis or PostgreSQL), not waited for.
HEALTH_DEADLINE_SECONDS = 0.8
_health_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")


def _check_database() -> tuple[str, dict[str, str]]:
    """(state, missing): "missing" names what the database lacks and what is lost without it
    (core.capabilities), {} if nothing."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok", capabilities.missing()
    except Exception:
        return "down", {}
    finally:
        connections.close_all()  # this pool thread's own connection


def _check_redis() -> tuple[str, str]:
    """(redis, worker): the worker's heartbeat lives in Redis."""
    try:
        client = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5)
        beat = client.get(WORKER_HEARTBEAT_KEY)
    except redis.exceptions.TimeoutError:
        return "slow", "stale"  # connected (or connecting) but no answer: stalled, not gone
    except Exception:
        return "down", "stale"
    fresh = beat is not None and time.time() - float(beat) < WORKER_STALE_AFTER_SECONDS
    return "ok", "ok" if fresh else "stale"


@never_cache
@require_GET
def health(request):
    """SPEC §1: 200 with the state of the database, Redis and the Celery worker; 503 if the database is
    down or too slow to answer. Each state is "ok", "down" or "slow" (no answer within 0.8 s); "missing"
    names the database's missing capabilities (core.capabilities). `Server-Timing` says how long the view
    took."""
    started = time.monotonic()
    database = _health_pool.submit(_check_database)
    cache = _health_pool.submit(_check_redis)
    done, _ = wait([database, cache], timeout=HEALTH_DEADLINE_SECONDS)
    state, missing = database.result() if database in done else ("slow", {})
    result = {"database": state, "redis": "slow", "worker": "stale", "missing": missing}
    if cache in done:
        result["redis"], result["worker"] = cache.result()
    response = JsonResponse(result, status=200 if result["database"] == "ok" else 503)
    # The view's own time, apart from any wait for a free web worker (the fault tests read it).
    response["Server-Timing"] = f"health;dur={(time.monotonic() - started) * 1000:.1f}"
    return response


def _download_user(request):
    """The session's user, or the user of an `Authorization: Token ...` header (SPEC §5: `download_url`
    answers the file to the token that listed it); None when neither is given. A bad, expired or
    deactivated user's token raises AuthenticationFailed."""
    if request.user.is_authenticated:
        return request.user
    found = ExpiringTokenAuthentication().authenticate(request)
    return found[0] if found else None


@require_GET
def attachment_download(request, pk: int):
    """Serve an attachment as a download, only to users who can see its record (else 404): to a session
    (else the sign-in page) or to an API token."""
    try:
        user = _download_user(request)
    except exceptions.AuthenticationFailed as error:
        response = JsonResponse({"detail": str(error.detail)}, status=401)
        response["WWW-Authenticate"] = 'Token realm="api"'
        return response
    if user is None:
        return redirect_to_login(request.get_full_path())
    request.user = user
    attachment = Attachment.objects.select_related("content_type").filter(pk=pk).first()
    if attachment is None:
        raise Http404
    model = attachment.content_type.model_class()
    if model is None:
        raise Http404
    if issubclass(model, TicketBase):
        record = selectors.visible_tickets(model, user).filter(pk=attachment.object_id).first()
        if record is None or attachment not in selectors.attachments(record, user):
            raise Http404
    else:
        record = model.objects.filter(pk=attachment.object_id).first()
        can_view = getattr(model, "user_can_view", None)
        if record is None or can_view is None or not can_view(record, user):
            raise Http404
    if attachment.quarantined and not is_workspace_user(user):
        raise Http404  # agents only, whatever the record's visibility
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


@login_required
@require_GET
def picker(request, source: str):
    """`GET /pick/<source>/?q=text`: what an autocomplete picker offers for `text` (core.pickers), as JSON
    `{"results": [{"value", "label", "detail"}]}`. A source the user may not ask (users and groups for a
    requester) or that does not exist is a 404, like a record they may not see."""
    if not pickers.allowed(source, request.user):
        raise Http404("No such picker")
    results = pickers.search(source, request.user, request.GET.get("q", ""))
    return JsonResponse({"results": [choice.as_dict() for choice in results]})


def _record_url(approval) -> str:
    try:
        return approval.record.get_absolute_url()
    except (AttributeError, NoReverseMatch):
        return ""


@login_required
def approval_list(request):
    """Everything waiting for the user's decision, across requests and changes."""
    rows = [
        {"approval": a, "record_url": _record_url(a), "decide_url": reverse("approval-decide", args=[a.pk])}
        for a in inbox.inbox(request.user)
    ]
    return render(request, "core/approval_list.html", {"rows": rows})


@login_required
@require_POST
def approval_decide(request, pk: int):
    approval, error = inbox.decide_from_post(request.user, pk, request.POST)
    if request.headers.get("HX-Request") == "true":
        return render(
            request,
            "core/partials/approval_item.html",
            {
                "approval": approval,
                "record_url": _record_url(approval),
                "decide_url": reverse("approval-decide", args=[approval.pk]),
                "error": error,
            },
        )
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"You {approval.get_state_display().lower()} {approval.record.number}.")
    return redirect("approval-list")


@login_required
def survey_report(request):
    """Satisfaction results for managers and agents: average, distribution, latest comments, by kind."""
    if not has_role(request.user, AGENT, CHANGE_MANAGER):
        raise Http404("No such page")  # SPEC §2: what a user may not see is a 404
    return render(request, "core/survey_report.html", surveys.survey_results())
