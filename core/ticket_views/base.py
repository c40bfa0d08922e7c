"""What every generic ticket page shares: the login and workspace gate, the model wiring, the URL names,
the messages for a stale edit and a refused write."""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms as django_forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.urls import reverse

from accounts.roles import is_workspace_user

from .. import selectors
from ..models import TicketBase
from ..ticket_services import TicketServices, services_for

STALE_MESSAGE = (
    "This record was changed by someone else since you opened it (now version {version}). "
    "Nothing was saved: reload the page to see their change, then apply yours again."
)


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def apply_service_error(form: django_forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError next to the fields it names (or on top of the form)."""
    if hasattr(error, "error_dict"):
        for name, messages_ in error.message_dict.items():
            form.add_error(name if name in form.fields else None, messages_)
    else:
        form.add_error(None, error.messages)


class TicketViewMixin(LoginRequiredMixin):
    """Model wiring shared by every generic ticket page; workspace users only (requesters use the portal)."""

    model: ClassVar[type[TicketBase]]
    detail_select_related: ClassVar[tuple[str, ...]] = ("assignment_group", "assigned_to", "opened_by")

    @property
    def ticket_services(self) -> TicketServices:
        """The services the app declared for this kind (core.ticket_services); the API uses the same."""
        return services_for(self.model)

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not is_workspace_user(request.user):
            return redirect("portal:home")
        return super().dispatch(request, *args, **kwargs)

    @property
    def kind(self) -> str:
        return self.model.KIND

    def url(self, name: str, **kwargs) -> str:
        return reverse(f"{self.kind}-{name}", kwargs=kwargs or None)

    def get_record(self, number: str) -> TicketBase:
        record = selectors.get_visible_ticket(self.model, self.request.user, number)
        # Re-read with the related rows the page shows, still through the visible queryset.
        return (
            selectors.visible_tickets(self.model, self.request.user)
            .select_related(*self.detail_select_related)
            .get(pk=record.pk)
        )

    def base_context(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kind_label": self.model._meta.verbose_name,
            "kind_label_plural": self.model._meta.verbose_name_plural,
            "list_url": self.url("list"),
            "create_url": self.url("create") if self.has_url("create") else None,
        }

    def has_url(self, name: str) -> bool:
        try:
            reverse(f"{self.kind}-{name}")
        except Exception:
            return False
        return True
