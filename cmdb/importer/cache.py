"""The importer's cache of the CIs, users, groups and edges a window of rows mentions, so that deciding a
row costs no query (see Importer)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q

from accounts.models import AssignmentGroup

from ..models import CIClass, ConfigurationItem, Relationship
from .presets import RELATIONSHIP_COLUMNS
from .reading import _refs
from .report import _RowError


def _key(ci: ConfigurationItem) -> Any:
    """How the edge cache names a CI: its id, or the object itself while it waits to be inserted."""
    return ci.pk if ci.pk is not None else ("new", id(ci))


class CICache:
    """The lookups of an Importer: each window's keys in one query per class (`_prefetch`), then CIs found
    by key or reference in memory. A mixin rather than an object of its own because the run updates the
    cache as it writes (a created or renamed CI is found by the rows after it); Importer sets `classes`,
    `default_class`, `_users` and `_groups` and calls `_reset_cache()`.
    """

    classes: dict[str, CIClass]
    default_class: str
    _classes_by_id: dict[int, CIClass]
    _users: dict[str, Any]
    _groups: dict[str, Any]

    def _reset_cache(self) -> None:
        self._by_id: dict[int, ConfigurationItem] = {}
        self._by_name: dict[tuple[int, str], ConfigurationItem] = {}
        self._by_serial: dict[tuple[int, str], ConfigurationItem] = {}
        self._seen_names: set[tuple[int, str]] = set()  # keys looked up: absent from _by_name = no such CI
        self._seen_serials: set[tuple[int, str]] = set()
        self._seen_ids: set[int] = set()
        self._edges: set[tuple[Any, Any, str]] = set()  # (source key, target key, type), see _key
        self._edges_loaded: set[int] = set()  # CIs whose outgoing edges are all in _edges

    def _find(self, ci_class: CIClass, name: str, serial: str) -> ConfigurationItem | None:
        """The CI a row upserts: by (class, serial) when the row has a serial, else by (class, name)."""
        if (ci_class.pk, name) not in self._seen_names or (
            serial and (ci_class.pk, serial) not in self._seen_serials
        ):
            self._lookup(ci_class, names={name}, serials={serial} - {""})
        by_serial = self._by_serial.get((ci_class.pk, serial)) if serial else None
        if by_serial is not None:
            return by_serial
        found = self._by_name.get((ci_class.pk, name))
        if found is not None and serial and found.serial_number and found.serial_number != serial:
            raise _RowError(
                f"serial_number: a {ci_class.name} named {name!r} already exists with serial number "
                f"{found.serial_number!r}."
            )
        return found

    def _user(self, username: str):
        if username not in self._users:
            self._users[username] = get_user_model().objects.filter(username=username).first()
        if self._users[username] is None:
            raise _RowError(f"owner: unknown user {username!r}.")
        return self._users[username]

    def _group(self, name: str):
        if name not in self._groups:
            self._groups[name] = AssignmentGroup.objects.filter(name=name).first()
        if self._groups[name] is None:
            raise _RowError(f"support_group: unknown group {name!r}.")
        return self._groups[name]

    # ---- the cache -----------------------------------------------------------------------------

    def _prefetch(self, window: list[tuple]) -> None:
        """Look up, in one query per class, every CI key the window's rows mention, then their edges."""
        names: dict[CIClass, set[str]] = defaultdict(set)
        serials: dict[CIClass, set[str]] = defaultdict(set)
        ids: set[int] = set()

        def reference(ref: Any) -> None:
            if isinstance(ref, int) and not isinstance(ref, bool):
                ids.add(ref)
                return
            text = str(ref or "").strip()
            if text.isdigit():
                ids.add(int(text))
            elif ":" in text:
                class_name, name = (part.strip() for part in text.split(":", 1))
                if class_name in self.classes:
                    names[self.classes[class_name]].add(name)

        for kind, _number, _section, payload in window:
            if kind == "rel":
                reference(payload[0])
                reference(payload[1])
            elif kind == "ci" and isinstance(payload, dict):
                ci_class = self.classes.get(str(payload.get("ci_class") or self.default_class or "").strip())
                if ci_class is not None:
                    names[ci_class].add(str(payload.get("name") or "").strip())
                    if payload.get("serial_number") is not None:
                        serials[ci_class].add(str(payload["serial_number"]).strip())
                for rel_type in RELATIONSHIP_COLUMNS:
                    for ref in _refs(payload.get(rel_type)):
                        reference(ref)
        for ci_class in set(names) | set(serials):
            self._lookup(ci_class, names=names[ci_class], serials=serials[ci_class])
        ids = {pk for pk in ids if pk not in self._seen_ids and pk < 2**63}
        if ids:
            for ci in self._ci_queryset().filter(pk__in=ids):
                self._remember(ci)
            self._seen_ids |= ids
        self._load_edges()

    def _lookup(self, ci_class: CIClass, *, names: set[str], serials: set[str]) -> None:
        names = {n for n in names if n and (ci_class.pk, n) not in self._seen_names}
        serials = {s for s in serials if s and (ci_class.pk, s) not in self._seen_serials}
        if not names and not serials:
            return
        keys = Q(name__in=names) | Q(serial_number__in=serials)
        for ci in self._ci_queryset().filter(keys, ci_class=ci_class):
            self._remember(ci)
        self._seen_names.update((ci_class.pk, n) for n in names)
        self._seen_serials.update((ci_class.pk, s) for s in serials)

    def _ci_queryset(self):
        # Not the class: the importer has them all, and each joined copy would decode its JSON Schema again.
        return ConfigurationItem.objects.select_related("owner", "support_group").order_by()

    def _remember(self, ci: ConfigurationItem, *, replace: bool = False) -> None:
        if not replace and ci.pk is not None and ci.pk in self._by_id:
            return  # the object already cached (and perhaps referenced by queued rows) stays
        if not ConfigurationItem._meta.get_field("ci_class").is_cached(ci):
            ci.ci_class = self._classes_by_id[ci.ci_class_id]
        if ci.pk is not None:
            self._by_id[ci.pk] = ci
            self._seen_ids.add(ci.pk)
        self._by_name[(ci.ci_class_id, ci.name)] = ci
        self._seen_names.add((ci.ci_class_id, ci.name))
        if ci.serial_number:
            self._by_serial[(ci.ci_class_id, ci.serial_number)] = ci
            self._seen_serials.add((ci.ci_class_id, ci.serial_number))

    def _load_edges(self) -> None:
        pending = [pk for pk in self._by_id if pk not in self._edges_loaded]
        for start in range(0, len(pending), 5000):
            chunk = pending[start : start + 5000]
            edges = Relationship.objects.filter(source_id__in=chunk).values_list(
                "source_id", "target_id", "type"
            )
            self._edges.update(edges)
            self._edges_loaded.update(chunk)

    def _edge_exists(self, source: ConfigurationItem, target: ConfigurationItem, rel_type: str) -> bool:
        if (_key(source), _key(target), rel_type) in self._edges:
            return True
        if source.pk is None or target.pk is None or source.pk in self._edges_loaded:
            return False
        return Relationship.objects.filter(source=source, target=target, type=rel_type).exists()

    def _resolve(self, ref: Any, label: str) -> ConfigurationItem:
        """A CI from `"<ci_class>:<name>"` or an id."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            if ref not in self._seen_ids and ref < 2**63:
                found = self._ci_queryset().filter(pk=ref).first()
                self._seen_ids.add(ref)
                if found is not None:
                    self._remember(found)
            if ref not in self._by_id:
                raise _RowError(f"{label}: no CI with id {ref}.")
            return self._by_id[ref]
        text = str(ref or "").strip()
        if text.isdigit():
            return self._resolve(int(text), label)
        if ":" not in text:
            raise _RowError(f'{label}: {text!r} is not "<ci_class>:<name>".')
        class_name, name = (part.strip() for part in text.split(":", 1))
        if class_name not in self.classes:
            raise _RowError(f"{label}: unknown class {class_name!r}.")
        ci_class = self.classes[class_name]
        if (ci_class.pk, name) not in self._seen_names:
            self._lookup(ci_class, names={name}, serials=set())
        found = self._by_name.get((ci_class.pk, name))
        if found is None:
            raise _RowError(f"{label}: no {class_name} named {name!r}.")
        return found
