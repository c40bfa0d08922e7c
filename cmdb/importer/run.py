"""One import run (Importer): rows decided against the cache, new CIs and relationships queued and landed
together, updates one by one through cmdb.services, each row whole or reported as failed."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction

from contracts.software import SoftwareBatch

from .. import services
from ..models import ChangeSource, CIClass, ConfigurationItem, RelationshipType
from .cache import CICache, _key
from .presets import CI_COLUMNS, PRESETS, RELATIONSHIP_COLUMNS, ImportFileError, Preset
from .reading import _coerce_attributes, _refs, csv_jobs, json_jobs
from .report import ImportReport, _reason, _RowError


class Importer(CICache):
    """One import run, processed in windows of WINDOW rows to keep round trips per row near zero.

    For each window: one query per CI class looks up every (class, name) and (class, serial) the window
    mentions (its rows and their relationship targets), and one query loads those CIs' outgoing edges.
    Rows are then decided in Python against that cache: an unchanged row costs no query at all; new CIs
    and new relationships queue up and land together in one savepoint (services.insert_cis and
    insert_relationships: a few INSERTs for the whole window). A row that updates an existing CI flushes
    the queue and runs alone in its own savepoint through services.update_ci. If a batch insert fails
    (a concurrent writer took a key), its savepoint rolls back and its rows are retried one by one, each
    in its own savepoint, so each row still lands whole or is reported as failed with the reason.
    """

    WINDOW = 1000

    def __init__(
        self,
        *,
        actor,
        dry_run: bool = False,
        mapping: dict[str, str] | None = None,
        preset: str | None = None,
        default_class: str | None = None,
        source: str = ChangeSource.IMPORT,
    ):
        if preset and preset not in PRESETS:
            raise ImportFileError(f"Unknown preset {preset!r}; use one of {', '.join(sorted(PRESETS))}.")
        chosen = PRESETS[preset] if preset else Preset(mapping={})
        self.actor = actor
        self.source = source
        self.mapping = {**chosen.mapping, **(mapping or {})}
        self.value_maps = chosen.values
        self.default_class = default_class or chosen.default_class
        self.report = ImportReport(dry_run=dry_run)
        self.classes = {c.name: c for c in CIClass.objects.all()}
        self._classes_by_id = {c.pk: c for c in self.classes.values()}
        self._users: dict[str, Any] = {}
        self._groups: dict[str, Any] = {}
        self._reset_cache()
        # Rows decided but not yet reported (kept in file order), and the writes queued for the next flush.
        self._slots: list[dict[str, Any]] = []
        self._queue: list[_Queued] = []
        # Rows carrying a `software` list: their installations are reconciled after each window lands.
        self.software = SoftwareBatch(actor=actor, source=source)

    # ---- entry points -------------------------------------------------------------------------

    def run(self, data: bytes | str, *, format: str, encoding: str = "utf-8") -> ImportReport:
        """Import `data` ("csv" or "json"); raises ImportFileError when the file cannot be read at all."""
        if format not in ("csv", "json"):
            raise ImportFileError(f"Unknown format {format!r}; use csv or json.")
        with transaction.atomic():
            jobs = (
                json_jobs(data, encoding, mapping=self.mapping)
                if format == "json"
                else csv_jobs(data, encoding, mapping=self.mapping, default_class=self.default_class)
            )
            while window := list(itertools.islice(jobs, self.WINDOW)):
                self._prefetch(window)
                for job in window:
                    self._do(job)
                self._flush()
                self.software.flush(self.report)
            if any(self.software.counts.values()):
                self.report.software = dict(self.software.counts)
            if self.report.dry_run:
                transaction.set_rollback(True)
        return self.report

    def _do(self, job: tuple) -> None:
        kind, number, section, payload = job
        if kind == "failed":
            self._later(number, section, "failed", reason=payload)
        elif kind == "ci":
            self._import_ci_row(number, section, payload)
        else:
            self._import_relationship_row(number, *payload)

    # ---- one CI row ----------------------------------------------------------------------------

    def _import_ci_row(self, number: int, section: str, values: dict[str, Any]) -> None:
        software = values.pop("software", None)
        try:
            plan = self._plan(values)
        except _RowError as exc:
            self._later(number, section, "failed", reason=str(exc))
            return
        except ValidationError as exc:
            self._later(number, section, "failed", reason=_reason(exc))
            return
        action, ci, payload = plan
        if software is not None:
            self.software.add(number, section, ci, software)
        if action == "unchanged":
            self._later(number, section, "unchanged", ci=ci)
        elif action == "created":
            slot = self._later(number, section, "created", ci=ci)
            self._remember(ci)  # a later row with the same key finds it
            self._queue.append(_Queued(slot, ci, [(ci, target, rel_type) for rel_type, target in payload]))
            self._edges.update((_key(ci), _key(target), rel_type) for rel_type, target in payload)
        else:
            self._update_now(number, section, ci, *payload)

    def _plan(self, values: dict[str, Any]) -> tuple[str, ConfigurationItem, Any]:
        """Decide a CI row from the cache, without writing: ("created", new unsaved CI, relations),
        ("unchanged", CI, None) or ("updated", CI, (changes, diffs, new relations))."""
        if values.get("_error"):
            raise _RowError(values["_error"])
        from_csv = values.pop("_csv", False)
        unknown = sorted(k for k in values if k not in (*CI_COLUMNS, "attributes", *RELATIONSHIP_COLUMNS))
        if unknown:
            raise _RowError(f"Unknown column {unknown[0]!r} (map it, or name it attributes.{unknown[0]}).")
        class_name = str(values.get("ci_class") or self.default_class or "").strip()
        if not class_name:
            raise _RowError("ci_class: required.")
        ci_class = self.classes.get(class_name)
        if ci_class is None:
            raise _RowError(f"ci_class: unknown class {class_name!r}.")
        name = str(values.get("name") or "").strip()
        if not name:
            raise _RowError("name: required.")
        attributes = values.get("attributes") or {}
        if from_csv:
            attributes = _coerce_attributes(ci_class, attributes)
        fields: dict[str, Any] = {"name": name, "ci_class": ci_class}
        for column in ("status", "environment", "serial_number", "description"):
            if column in values and values[column] is not None:
                value = str(values[column]).strip()
                fields[column] = self.value_maps.get(column, {}).get(value.lower(), value)
        if "owner" in values and values["owner"]:
            fields["owner"] = self._user(str(values["owner"]).strip())
        if "support_group" in values and values["support_group"]:
            fields["support_group"] = self._group(str(values["support_group"]).strip())
        relations = self._row_relations(values)

        existing = self._find(ci_class, name, fields.get("serial_number", ""))
        if existing is None:
            ci = services.new_ci(fields={**fields, "attributes": attributes}, check_unique=False)
            new_relations, seen = [], set()
            for rel_type, target in relations:
                if (rel_type, _key(target)) not in seen:  # the same target twice in one row: one edge
                    seen.add((rel_type, _key(target)))
                    new_relations.append((rel_type, target))
            return "created", ci, new_relations
        changes = {k: v for k, v in fields.items() if k != "ci_class"}
        changes["attributes"] = {**(existing.attributes or {}), **attributes}
        diffs = services.diff_ci(existing, changes)
        if any(field == "name" for field, _old, _new in diffs):
            taken = self._by_name.get((ci_class.pk, name))
            if taken is not None and taken is not existing:
                raise ValidationError({"name": f"A {ci_class.name} named {name!r} already exists."})
        new_relations = []
        for rel_type, target in relations:
            if target is existing or (target.pk is not None and target.pk == existing.pk):
                raise _RowError(f"{rel_type}: a CI cannot be related to itself.")
            if not self._edge_exists(existing, target, rel_type) and (rel_type, target) not in new_relations:
                new_relations.append((rel_type, target))
        if not diffs and not new_relations:
            return "unchanged", existing, None
        return "updated", existing, (changes, diffs, new_relations)

    def _update_now(self, number, section, ci, changes, diffs, relations) -> None:
        """An update of an existing CI: alone in a savepoint through the services, after the queue landed
        (the CI or its targets may be among the queued rows)."""
        self._flush()
        old_name, old_serial = ci.name, ci.serial_number
        try:
            with transaction.atomic():
                updated = ci
                if diffs:
                    updated = services.update_ci(ci, actor=self.actor, changes=changes, source=self.source)
                for rel_type, target in relations:
                    if target.pk is None:
                        raise _RowError(f"{rel_type}: {target.name!r} was not imported.")
                    services.add_relationship(
                        actor=self.actor, source=updated, target=target, type=rel_type, origin=self.source
                    )
        except _RowError as exc:
            self.report.add(number, section, "failed", reason=str(exc))
            return
        except ValidationError as exc:
            self.report.add(number, section, "failed", reason=_reason(exc))
            return
        if updated is not ci:
            # update_ci re-read the row under a lock; keep the related objects the cache had loaded.
            for name in ("owner", "support_group"):
                if name not in changes and ConfigurationItem._meta.get_field(name).is_cached(ci):
                    setattr(updated, name, getattr(ci, name))
            class_id = ci.ci_class_id
            if self._by_name.get((class_id, old_name)) is ci:
                del self._by_name[(class_id, old_name)]
            if old_serial and self._by_serial.get((class_id, old_serial)) is ci:
                del self._by_serial[(class_id, old_serial)]
            self._remember(updated, replace=True)
        self._edges.update((_key(updated), _key(target), rel_type) for rel_type, target in relations)
        self.report.add(number, section, "updated", ci=updated.pk)

    def _row_relations(self, values: dict[str, Any]) -> list[tuple[str, ConfigurationItem]]:
        relations = []
        for rel_type in RELATIONSHIP_COLUMNS:
            for ref in _refs(values.get(rel_type)):
                relations.append((rel_type, self._resolve(ref, rel_type)))
        return relations

    # ---- queued writes -------------------------------------------------------------------------

    def _later(self, number: int, section: str, action: str, *, ci=None, reason: str = "") -> dict:
        """Report a row once the queue before it has landed (the report keeps the file's order)."""
        slot = {"row": number, "section": section, "action": action, "ci": ci, "reason": reason}
        self._slots.append(slot)
        return slot

    def _flush(self) -> None:
        """Land the queued CIs and relationships in one savepoint, or row by row if that fails."""
        queue, self._queue = self._queue, []
        if queue:
            new_cis = [item.ci for item in queue if item.ci is not None]
            try:
                with transaction.atomic():
                    services.insert_cis(new_cis, actor=self.actor, source=self.source)
                    services.insert_relationships(
                        [edge for item in queue for edge in item.edges], actor=self.actor, origin=self.source
                    )
            except (DatabaseError, ValidationError):
                for ci in new_cis:
                    ci.pk, ci._state.adding = None, True
                self._retry_one_by_one(queue)
            else:
                inserted = {("new", id(ci)): ci.pk for ci in new_cis}
                for ci in new_cis:
                    self._by_id[ci.pk] = ci
                    self._seen_ids.add(ci.pk)
                    self._edges_loaded.add(ci.pk)
                self._edges = {
                    (inserted.get(source, source), inserted.get(target, target), rel_type)
                    for source, target, rel_type in self._edges
                }
        for slot in self._slots:
            ci = slot["ci"]
            pk = ci.pk if isinstance(ci, ConfigurationItem) else ci
            self.report.add(slot["row"], slot["section"], slot["action"], ci=pk, reason=slot["reason"])
        self._slots = []

    def _retry_one_by_one(self, queue: list[_Queued]) -> None:
        """The batch failed as a whole: each queued row alone, in its own savepoint, with the unique checks."""
        for item in queue:
            try:
                with transaction.atomic():
                    if item.ci is not None:
                        services._clean(item.ci)
                        services.insert_cis([item.ci], actor=self.actor, source=self.source)
                    for source, target, rel_type in item.edges:
                        if source.pk is None or target.pk is None:
                            missing = target if target.pk is None else source
                            raise _RowError(f"{rel_type}: {missing.name!r} was not imported.")
                        services.add_relationship(
                            actor=self.actor, source=source, target=target, type=rel_type, origin=self.source
                        )
            except (_RowError, ValidationError, DatabaseError) as exc:
                if item.ci is not None:
                    item.ci.pk, item.ci._state.adding = None, True
                reason = _reason(exc) if isinstance(exc, ValidationError) else str(exc)
                item.slot.update(action="failed", reason=reason or exc.__class__.__name__)
        # Keys of the rows that failed were cached as present: look everything up afresh.
        self._reset_cache()

    def _import_relationship_row(self, number: int, source: Any, target: Any, rel_type: Any) -> None:
        section = "relationships"
        try:
            if rel_type not in RelationshipType.values:
                raise _RowError(
                    f"type: unknown relationship type {rel_type!r}; use one of "
                    f"{', '.join(RelationshipType.values)}."
                )
            source_ci = self._resolve(source, "source")
            target_ci = self._resolve(target, "target")
            if source_ci is target_ci:
                raise ValidationError({"target": "A CI cannot be related to itself."})
        except _RowError as exc:
            self._later(number, section, "failed", reason=str(exc))
            return
        except ValidationError as exc:
            self._later(number, section, "failed", reason=_reason(exc))
            return
        if self._edge_exists(source_ci, target_ci, rel_type):
            self._later(number, section, "unchanged", ci=source_ci)
            return
        slot = self._later(number, section, "created", ci=source_ci)
        self._queue.append(_Queued(slot, None, [(source_ci, target_ci, rel_type)]))
        self._edges.add((_key(source_ci), _key(target_ci), rel_type))


@dataclass
class _Queued:
    """One row's queued writes: its new CI (or None) and its new relationships, and its report slot."""

    slot: dict[str, Any]
    ci: ConfigurationItem | None
    edges: list[tuple[ConfigurationItem, ConfigurationItem, str]]
