"""What integrations need to know about tickets of any kind: find one by number, list its people."""

from __future__ import annotations

import re

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist

from core.models import TicketBase


def ticket_models() -> dict[str, type[TicketBase]]:
    """Concrete ticket models by number prefix ("INC" → Incident), whichever apps are installed."""
    return {
        model.NUMBER_PREFIX: model
        for model in apps.get_models()
        if issubclass(model, TicketBase) and getattr(model, "NUMBER_PREFIX", None)
    }


def number_pattern() -> re.Pattern:
    prefixes = "|".join(sorted(ticket_models(), key=len, reverse=True)) or "INC"
    return re.compile(rf"\b({prefixes})(\d{{7,}})\b", re.IGNORECASE)


def find_by_number(number: str) -> TicketBase | None:
    match = number_pattern().fullmatch(number.strip())
    if not match:
        return None
    model = ticket_models()[match.group(1).upper()]
    return model.objects.filter(number=match.group(1).upper() + match.group(2)).first()


def requesters(ticket: TicketBase, *, known=()) -> list:
    """The people a ticket is for: caller, opener, watchers (they see public updates only).

    `known` users (typically the event's actor) stand in for the caller or opener when the ids match,
    and the ones still missing are read in one query, so a listener costs no query per person.
    """
    _attach_users(ticket, ("caller", "opened_by"), known)
    people = [getattr(ticket, "caller", None), ticket.opened_by]
    people += list(ticket.watchers.all())
    return _unique(people)


def _attach_users(ticket: TicketBase, names: tuple[str, ...], known) -> None:
    """Fill the cache of the user foreign keys `names` from `known` users, else from one query."""
    pool = {user.pk: user for user in known if user is not None and getattr(user, "pk", None)}
    missing = []
    for name in names:
        try:
            field = ticket._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        user_id = getattr(ticket, field.attname)
        if user_id is None or field.is_cached(ticket):
            continue
        if user_id in pool:
            field.set_cached_value(ticket, pool[user_id])
        else:
            missing.append((field, user_id))
    if missing:
        users = missing[0][0].related_model._base_manager.in_bulk({user_id for _, user_id in missing})
        for field, user_id in missing:
            if user_id in users:
                field.set_cached_value(ticket, users[user_id])


def participants(ticket: TicketBase) -> list:
    """Everyone whose mail may thread onto the ticket: its requesters and its assignee."""
    return _unique([*requesters(ticket), ticket.assigned_to])


def _unique(users) -> list:
    seen: set[int] = set()
    result = []
    for user in users:
        if user is not None and user.pk not in seen:
            seen.add(user.pk)
            result.append(user)
    return result
