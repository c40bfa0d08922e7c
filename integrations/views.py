"""The admins' integrations page: webhooks and their recent deliveries, mails that need a look."""

from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from accounts.roles import is_admin

from .models import DeliveryStatus, InboundEmail, InboundStatus, OutboundEmail, Webhook, WebhookDelivery

RECENT = 50


def _require_admin(request) -> None:
    if not is_admin(request.user):
        raise Http404


@login_required
@require_GET
def home(request):
    _require_admin(request)
    webhooks = Webhook.objects.order_by("name", "id").prefetch_related(
        Prefetch(
            "deliveries",
            queryset=WebhookDelivery.objects.order_by("-created_at")[:5],
            to_attr="recent_deliveries",
        )
    )
    problem_mails = InboundEmail.objects.filter(
        status__in=[InboundStatus.FAILED, InboundStatus.REJECTED]
    ).order_by("-received_at")[:RECENT]
    recent_mails = InboundEmail.objects.order_by("-received_at")[:20]
    failed_outbound = OutboundEmail.objects.filter(status=DeliveryStatus.FAILED).order_by("-created_at")[:20]
    return render(
        request,
        "integrations/home.html",
        {
            "webhooks": webhooks,
            "problem_mails": problem_mails,
            "recent_mails": recent_mails,
            "failed_outbound": failed_outbound,
            "pending_outbound": OutboundEmail.objects.filter(status=DeliveryStatus.PENDING).count(),
        },
    )


@login_required
@require_GET
def inbound_detail(request, pk: int):
    _require_admin(request)
    mail = get_object_or_404(InboundEmail.objects.select_related("sender"), pk=pk)
    return render(request, "integrations/inbound_detail.html", {"mail": mail})


@login_required
@require_GET
def inbound_raw(request, pk: int):
    """The mail exactly as received, as a download (never rendered in the browser)."""
    _require_admin(request)
    mail = get_object_or_404(InboundEmail, pk=pk)
    if not mail.raw:
        raise Http404
    return FileResponse(
        mail.raw.open("rb"),
        as_attachment=True,
        filename=f"inbound-{mail.pk}.eml",
        content_type="application/octet-stream",
    )
