"""Permission-scoped reads shared by every ticket kind.

`visible_tickets` is the single gate: every list, detail, search, export and API endpoint starts from it,
so a record a user may not see is absent everywhere (and its detail is a 404, never a 403).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from accounts.roles import has_role

from . import locking
from .models import Activity, Attachment, TicketBase


def can_see_all(model: type[TicketBase], user) -> bool:
    return bool(user and user.is_authenticated and user.is_active) and has_role(user, *model.SEE_ALL_ROLES)


def visible_tickets(model: type[TicketBase], user) -> QuerySet:
    """Records of `model` that `user` may see: all of them for see-all roles, else the requester scope."""
    queryset = model.objects.all()
    if not (user and user.is_authenticated and user.is_active):
        return queryset.none()
    if can_see_all(model, user):
        return queryset
    return queryset.filter(model.requester_scope(user))


def get_visible_ticket(model: type[TicketBase], user, number: str, *, lock: bool = False) -> TicketBase:
    """One record by number, or Http404 when it does not exist or the user may not see it.

    With `lock` (inside the caller's transaction), the row is read under FOR UPDATE with what a write
    needs to know (core.locking), and the first write service called on it in that transaction uses it
    without reading it again.
    """
    number = number.upper()
    if lock and can_see_all(model, user):
        record = locking.get_locked(model, number)
    else:
        queryset = visible_tickets(model, user)
        try:
            record = (locking.locked(queryset) if lock else queryset).get(number=number)
        except model.DoesNotExist:
            record = None
    if record is None:
        raise Http404(f"No {model.KIND} {number}")
    return locking.note_locked(record, trusted_once=True) if lock else record


def is_staff_viewer(record: TicketBase, user) -> bool:
    """True when the user sees work notes and internal attachments on this record."""
    return can_see_all(type(record), user)


def timeline(record, user) -> QuerySet:
    """The record's timeline in order; requesters see only public rows."""
    queryset = Activity.objects.filter(
        content_type__app_label=record._meta.app_label,
        content_type__model=record._meta.model_name,
        object_id=record.pk,
    ).select_related("actor")
    if isinstance(record, TicketBase) and not is_staff_viewer(record, user):
        queryset = queryset.filter(public=True)
    return queryset


def comments(record, user) -> QuerySet:
    return timeline(record, user).filter(kind="comment")


def attachments(record, user) -> QuerySet:
    queryset = Attachment.objects.filter(
        content_type__app_label=record._meta.app_label,
        content_type__model=record._meta.model_name,
        object_id=record.pk,
    )
    if isinstance(record, TicketBase) and not is_staff_viewer(record, user):
        queryset = queryset.filter(public=True)
    return queryset
