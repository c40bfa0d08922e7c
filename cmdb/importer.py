"""Import CIs and relationships from CSV or JSON (SPEC §3): idempotent upsert, dry run, column mapping.

- A CI is matched by (`ci_class`, `serial_number`) when the row has a serial number, else by
  (`ci_class`, `name`); it is created, updated (only the fields the row gives; attributes are merged key
  by key) or left unchanged, so importing the same file twice changes nothing the second time.
- Each row runs in its own savepoint through cmdb.services (which validate and write the history with
  source "import"): a row lands whole or is reported as failed with the reason, and the rest lands.
- A dry run does the same work inside a transaction that is rolled back, so its report is exact.
- CSV: a column per CI field, `attributes.<name>` per attribute, and optional relationship columns
  `depends_on`, `runs_on`, `connected_to`, `contains` holding `<ci_class>:<name>` targets separated by
  `;` (the target must exist or come earlier in the file). A CSV whose header is `source,target,type`
  holds relationships only. `row` in the report is the CSV line number.
- JSON: `{"cis": [...], "relationships": [{"source", "target", "type"}]}` with `"<ci_class>:<name>"`
  ends (or CI ids); CIs are imported first, so relationships may refer to CIs of the same file. `row`
  is the 1-based position within its section.
- A column mapping (source column → our field, `attributes.<name>`, or "" to ignore) lets an export of
  another tool import unedited; presets exist for NetBox device exports and GLPI computer exports.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q

from accounts.models import AssignmentGroup
from contracts.software import SoftwareBatch, inventory_payload

from . import services
from .models import ChangeSource, CIClass, ConfigurationItem, Relationship, RelationshipType

CI_COLUMNS = (
    "name",
    "ci_class",
    "status",
    "environment",
    "owner",
    "support_group",
    "serial_number",
    "description",
)
RELATIONSHIP_COLUMNS = tuple(RelationshipType.values)


class ImportFileError(ValueError):
    """The file as a whole cannot be read (not JSON, no header...): nothing is imported."""


@dataclass(frozen=True)
class Preset:
    """How to read another tool's export: its column names, the class its rows are, and value maps."""

    mapping: dict[str, str]
    default_class: str = ""
    values: dict[str, dict[str, str]] = field(default_factory=dict)


PRESETS: dict[str, Preset] = {
    # NetBox: DCIM → Devices → Export (the table's CSV, verbose headers) and the bulk-import field names.
    "netbox": Preset(
        mapping={
            "Name": "name",
            "name": "name",
            "Serial number": "serial_number",
            "Serial Number": "serial_number",
            "serial": "serial_number",
            "Status": "status",
            "status": "status",
            "Description": "description",
            "description": "description",
            "Platform": "attributes.os",
            "platform": "attributes.os",
            "Manufacturer": "attributes.manufacturer",
            "manufacturer": "attributes.manufacturer",
            "Type": "attributes.model",
            "Device Type": "attributes.model",
            "device_type": "attributes.model",
            "IP Address": "attributes.ip_addresses",
            "Primary IPv4": "attributes.ip_addresses",
            "primary_ip4": "attributes.ip_addresses",
            "Site": "attributes.site",
            "site": "attributes.site",
            "Rack": "attributes.rack",
            "rack": "attributes.rack",
            "Role": "attributes.role",
            "role": "attributes.role",
            "ID": "",
            "id": "",
        },
        default_class="server",
        values={
            "status": {
                "active": "in_service",
                "planned": "planned",
                "staged": "planned",
                "inventory": "planned",
                "failed": "maintenance",
                "offline": "maintenance",
                "decommissioning": "retired",
            }
        },
    ),
    # GLPI: Assets → Computers → export of the search results as CSV (";"-separated).
    "glpi": Preset(
        mapping={
            "Name": "name",
            "Serial number": "serial_number",
            "Status": "status",
            "Comments": "description",
            "Operating System - Name": "attributes.os",
            "Manufacturer": "attributes.manufacturer",
            "Model": "attributes.model",
            "Location": "attributes.location",
            "Inventory number": "attributes.inventory_number",
            "Entity": "attributes.entity",
            "ID": "",
            "Last update": "",
        },
        default_class="server",
        values={
            "status": {
                "in use": "in_service",
                "production": "in_service",
                "active": "in_service",
                "in stock": "planned",
                "stock": "planned",
                "new": "planned",
                "broken": "maintenance",
                "repair": "maintenance",
                "maintenance": "maintenance",
                "decommissioned": "retired",
                "retired": "retired",
                "disposed": "retired",
            }
        },
    ),
}


@dataclass
class ImportReport:
    dry_run: bool = False
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    software: dict[str, int] = field(default_factory=dict)  # installations reconciled (contracts.software)

    def add(self, row: int, section: str, action: str, *, ci: int | None = None, reason: str = "") -> None:
        entry: dict[str, Any] = {"row": row, "section": section, "action": action}
        if ci is not None:
            entry["ci"] = ci
        if action == "failed":
            entry["reason"] = reason
            self.failed.append({"row": row, "section": section, "reason": reason})
        else:
            setattr(self, action, getattr(self, action) + 1)
        self.rows.append(entry)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "rows": self.rows,
            **({"software": self.software} if self.software else {}),
        }


class _RowError(Exception):
    """A problem with one row; its message is the report's reason."""


def _reason(exc: ValidationError) -> str:
    detail = services.error_detail(exc)
    parts = []
    for name, messages in detail.items():
        if name == "attributes" and isinstance(messages, dict):
            parts.extend(f"attributes.{attr}: {msg}" for attr, msg in messages.items())
        else:
            text = "; ".join(messages) if isinstance(messages, list) else str(messages)
            parts.append(text if name in ("__all__", "non_field_errors") else f"{name}: {text}")
    return "; ".join(parts)


class Importer:
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

    def _reset_cache(self) -> None:
        self._by_id: dict[int, ConfigurationItem] = {}
        self._by_name: dict[tuple[int, str], ConfigurationItem] = {}
        self._by_serial: dict[tuple[int, str], ConfigurationItem] = {}
        self._seen_names: set[tuple[int, str]] = set()  # keys looked up: absent from _by_name = no such CI
        self._seen_serials: set[tuple[int, str]] = set()
        self._seen_ids: set[int] = set()
        self._edges: set[tuple[Any, Any, str]] = set()  # (source key, target key, type), see _key
        self._edges_loaded: set[int] = set()  # CIs whose outgoing edges are all in _edges

    # ---- entry points -------------------------------------------------------------------------

    def run(self, data: bytes | str, *, format: str, encoding: str = "utf-8") -> ImportReport:
        """Import `data` ("csv" or "json"); raises ImportFileError when the file cannot be read at all."""
        if format not in ("csv", "json"):
            raise ImportFileError(f"Unknown format {format!r}; use csv or json.")
        with transaction.atomic():
            jobs = self._json_jobs(data, encoding) if format == "json" else self._csv_jobs(data, encoding)
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

    # ---- JSON ----------------------------------------------------------------------------------

    def _json_jobs(self, data: bytes | str, encoding: str) -> Iterator[tuple]:
        if isinstance(data, bytes):
            try:
                data = data.decode(encoding).lstrip("\ufeff")
            except (UnicodeDecodeError, LookupError) as exc:
                raise ImportFileError(f"The JSON file is not valid {encoding}: {exc}") from None
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"Not valid JSON: {exc}") from None
        payload = inventory_payload(payload)  # a GLPI agent inventory becomes {"cis": [...]}
        if isinstance(payload, list):
            payload = {"cis": payload}
        if not isinstance(payload, dict) or not (set(payload) & {"cis", "relationships"}):
            raise ImportFileError('JSON must be {"cis": [...], "relationships": [...]}.')
        if unknown := sorted(set(payload) - {"cis", "relationships"}):
            raise ImportFileError(
                f'Unknown key(s) {", ".join(unknown)}: JSON is {{"cis": [...], "relationships": [...]}}.'
            )
        cis, rels = payload.get("cis", []), payload.get("relationships", [])
        if not isinstance(cis, list) or not isinstance(rels, list):
            raise ImportFileError('"cis" and "relationships" must be lists.')
        for number, item in enumerate(cis, start=1):
            if not isinstance(item, dict):
                yield ("failed", number, "cis", "A CI must be a JSON object.")
                continue
            yield ("ci", number, "cis", self._map_json(item))
        for number, item in enumerate(rels, start=1):
            if not isinstance(item, dict):
                yield ("failed", number, "relationships", "A relationship must be a JSON object.")
                continue
            yield ("rel", number, "relationships", (item.get("source"), item.get("target"), item.get("type")))

    def _map_json(self, item: dict) -> dict[str, Any]:
        values: dict[str, Any] = {}
        attributes = dict(item.get("attributes") or {}) if isinstance(item.get("attributes"), dict) else {}
        if "attributes" in item and not isinstance(item["attributes"], dict):
            values["_error"] = "attributes: must be a JSON object."
        for key, value in item.items():
            if key == "attributes":
                continue
            target = self.mapping.get(key, key)
            if not target:
                continue
            if target.startswith("attributes."):
                attributes[target.split(".", 1)[1]] = value
            else:
                values[target] = value
        values["attributes"] = attributes
        return values

    # ---- CSV -----------------------------------------------------------------------------------

    def _csv_jobs(self, data: bytes | str, encoding: str) -> Iterator[tuple]:
        if isinstance(data, bytes):
            try:
                # surrogateescape keeps undecodable bytes as markers, so a bad line fails alone.
                text = data.decode(encoding, errors="surrogateescape")
            except LookupError:
                raise ImportFileError(f"Unknown encoding {encoding!r}.") from None
        else:
            text = data
        text = text.lstrip("\ufeff")
        if not text.strip():
            raise ImportFileError("The CSV file is empty.")
        first_line = text.splitlines()[0]
        delimiter = max((",", ";", "\t"), key=first_line.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
        try:
            header = [column.strip() for column in next(reader)]
        except csv.Error as exc:
            raise ImportFileError(f"The CSV header cannot be read: {exc}") from None
        if any(_has_bad_bytes(column) for column in header):
            raise ImportFileError(f"The CSV header is not valid {encoding}.")
        columns = [self.mapping.get(column, column) for column in header]
        relationship_file = set(columns) == {"source", "target", "type"}
        if not relationship_file and "name" not in columns:
            raise ImportFileError('The CSV has no "name" column (map one with the column mapping).')
        if not relationship_file and "ci_class" not in columns and not self.default_class:
            raise ImportFileError('The CSV has no "ci_class" column and no default class was given.')
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                yield ("failed", reader.line_num, "cis", f"Malformed CSV line: {exc}.")
                continue
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                yield (
                    "failed",
                    line,
                    "cis",
                    f"Malformed CSV line: expected {len(header)} columns, found {len(cells)}.",
                )
                continue
            if any(_has_bad_bytes(cell) for cell in cells):
                yield ("failed", line, "cis", f"The line is not valid {encoding} text.")
                continue
            row = dict(zip(columns, cells, strict=True))
            if relationship_file:
                yield ("rel", line, "relationships", (row["source"], row["target"], row["type"]))
            else:
                yield ("ci", line, "cis", self._map_csv(row))

    def _map_csv(self, row: dict[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        attributes: dict[str, Any] = {}
        for column, raw in row.items():
            if not column or column.startswith("_"):
                continue
            cell = raw.strip()
            if cell == "":
                continue
            if column.startswith("attributes."):
                attributes[column.split(".", 1)[1]] = cell
            elif column == "attributes":
                try:
                    parsed = json.loads(cell)
                except json.JSONDecodeError:
                    values["_error"] = "attributes: not a JSON object."
                    continue
                if not isinstance(parsed, dict):
                    values["_error"] = "attributes: not a JSON object."
                    continue
                attributes.update(parsed)
            else:
                values[column] = cell
        values["attributes"] = attributes
        values["_csv"] = True
        return values

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

    # ---- relationships -------------------------------------------------------------------------

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


def _key(ci: ConfigurationItem) -> Any:
    """How the edge cache names a CI: its id, or the object itself while it waits to be inserted."""
    return ci.pk if ci.pk is not None else ("new", id(ci))


def _refs(raw: Any) -> list:
    """The targets in a relationship column: a JSON list, or `;`-separated text."""
    if not raw:
        return []
    return raw if isinstance(raw, list) else [part for part in str(raw).split(";") if part.strip()]


_BAD_BYTES = re.compile("[\udc80-\udcff]")


def _has_bad_bytes(text: str) -> bool:
    """Whether decoding with surrogateescape left undecodable bytes in `text`."""
    return _BAD_BYTES.search(text) is not None


def _coerce_attributes(ci_class: CIClass, attributes: dict[str, str]) -> dict[str, Any]:
    """CSV cells are text: convert each to the type its schema property asks for (integer, number,
    boolean, array split on ";"); a cell that does not convert stays text and fails validation by name."""
    properties = (ci_class.attribute_schema or {}).get("properties", {})
    result: dict[str, Any] = {}
    for name, cell in attributes.items():
        kind = properties.get(name, {}).get("type")
        value: Any = cell
        try:
            if kind == "integer":
                value = int(cell)
            elif kind == "number":
                value = float(cell)
                value = int(value) if value.is_integer() and "." not in cell else value
            elif kind == "boolean" and cell.lower() in ("true", "false", "yes", "no", "1", "0"):
                value = cell.lower() in ("true", "yes", "1")
            elif kind == "array":
                value = [part.strip() for part in cell.replace(",", ";").split(";") if part.strip()]
        except ValueError:
            value = cell
        result[name] = value
    return result


def import_file(
    data: bytes | str,
    *,
    format: str,
    actor,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    preset: str | None = None,
    default_class: str | None = None,
    encoding: str = "utf-8",
    source: str = ChangeSource.IMPORT,
) -> ImportReport:
    """Import a CSV or JSON file; see the module docstring. Raises ImportFileError for an unreadable file.
    Without a preset or a mapping, another tool's export that cmdb.formats recognises (NetBox CSV, GLPI
    inventory JSON) is imported as such, and its report names the format."""
    if not preset and not mapping:
        from .formats import import_recognised

        recognised = import_recognised(
            data, format=format, actor=actor, dry_run=dry_run, encoding=encoding, source=source
        )
        if recognised is not None:
            return recognised
    importer = Importer(
        actor=actor,
        dry_run=dry_run,
        mapping=mapping,
        preset=preset,
        default_class=default_class,
        source=source,
    )
    return importer.run(data, format=format, encoding=encoding)


def guess_format(filename: str = "", content_type: str = "", data: bytes | str = b"") -> str:
    """csv or json, from the file name, the content type, or the first character."""
    name, ctype = filename.lower(), content_type.lower()
    if name.endswith(".json") or "json" in ctype:
        return "json"
    if name.endswith((".csv", ".txt", ".tsv")) or "csv" in ctype:
        return "csv"
    head = data[:1] if isinstance(data, str) else data[:1].decode("latin-1")
    return "json" if head in ("{", "[") else "csv"
