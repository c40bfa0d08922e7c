"""What integrations need to know about tickets of any kind: find one by number, list its people."""

from __future__ import annotations

import re

from django.apps import apps

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


def requesters(ticket: TicketBase) -> list:
    """The people a ticket is for: caller, opener, watchers (they see public updates only)."""
    people = [getattr(ticket, "caller", None), ticket.opened_by]
    people += list(ticket.watchers.all())
    return _unique(people)


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
