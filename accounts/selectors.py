"""Reads of accounts data that the whole suite shares."""

from __future__ import annotations

from django.db import DEFAULT_DB_ALIAS

from core.config_cache import ConfigCache

from .models import AssignmentGroup

_GROUP_FIELDS = [field.attname for field in AssignmentGroup._meta.concrete_fields]
_NAME = _GROUP_FIELDS.index("name")
_PK = _GROUP_FIELDS.index("id")


def _load_active_groups(_key=None) -> dict[str, tuple]:
    """Every active group's column values, by name."""
    rows = AssignmentGroup.objects.filter(active=True).values_list(*_GROUP_FIELDS)
    return {row[_NAME]: row for row in rows}


# Assignment groups are configuration: every API write names one, admins change them rarely. The cache
# holds each active group's column values (not instances, which callers could mutate or hang prefetched
# members on), and any committed save or delete of a group refreshes it in every process.
_active_groups = ConfigCache(_load_active_groups, models=(AssignmentGroup,))


def active_group_with_pk(pk: int) -> AssignmentGroup | None:
    """The active assignment group with this id (a fresh instance), or None (inactive or unknown)."""
    for row in _active_groups.get().values():
        if row[_PK] == pk:
            return AssignmentGroup.from_db(DEFAULT_DB_ALIAS, _GROUP_FIELDS, row)
    return None


def active_group_named(name: str) -> AssignmentGroup | None:
    """The active assignment group called `name` (a fresh instance), or None."""
    row = _active_groups.get().get(name)
    if row is None:
        return None
    return AssignmentGroup.from_db(DEFAULT_DB_ALIAS, _GROUP_FIELDS, row)


def active_group_names() -> list[str]:
    """The active groups' names (in the groups' ordering), for the selects of filter bars."""
    return list(AssignmentGroup.objects.filter(active=True).values_list("name", flat=True))
