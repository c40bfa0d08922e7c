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
import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from accounts.models import AssignmentGroup

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
    """One import run. Caches classes, users and groups so a 10,000-row file costs a few queries a row."""

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
        self._users: dict[str, Any] = {}
        self._groups: dict[str, Any] = {}

    # ---- entry points -------------------------------------------------------------------------

    def run(self, data: bytes | str, *, format: str, encoding: str = "utf-8") -> ImportReport:
        """Import `data` ("csv" or "json"); raises ImportFileError when the file cannot be read at all."""
        if format not in ("csv", "json"):
            raise ImportFileError(f"Unknown format {format!r}; use csv or json.")
        with transaction.atomic():
            if format == "json":
                self._run_json(data, encoding)
            else:
                self._run_csv(data, encoding)
            if self.report.dry_run:
                transaction.set_rollback(True)
        return self.report

    # ---- JSON ----------------------------------------------------------------------------------

    def _run_json(self, data: bytes | str, encoding: str) -> None:
        if isinstance(data, bytes):
            try:
                data = data.decode(encoding).lstrip("\ufeff")
            except (UnicodeDecodeError, LookupError) as exc:
                raise ImportFileError(f"The JSON file is not valid {encoding}: {exc}") from None
        try:
            payload = json.loads(data)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"Not valid JSON: {exc}") from None
        if isinstance(payload, list):
            payload = {"cis": payload}
        if not isinstance(payload, dict) or not (set(payload) & {"cis", "relationships"}):
            raise ImportFileError('JSON must be {"cis": [...], "relationships": [...]}.')
        cis, rels = payload.get("cis") or [], payload.get("relationships") or []
        if not isinstance(cis, list) or not isinstance(rels, list):
            raise ImportFileError('"cis" and "relationships" must be lists.')
        for number, item in enumerate(cis, start=1):
            if not isinstance(item, dict):
                self.report.add(number, "cis", "failed", reason="A CI must be a JSON object.")
                continue
            self._import_ci_row(number, "cis", self._map_json(item))
        for number, item in enumerate(rels, start=1):
            if not isinstance(item, dict):
                self.report.add(
                    number, "relationships", "failed", reason="A relationship must be a JSON object."
                )
                continue
            self._import_relationship_row(number, item.get("source"), item.get("target"), item.get("type"))

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

    def _run_csv(self, data: bytes | str, encoding: str) -> None:
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
                self.report.add(reader.line_num, "cis", "failed", reason=f"Malformed CSV line: {exc}.")
                continue
            line = reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(cells) != len(header):
                self.report.add(
                    line,
                    "cis",
                    "failed",
                    reason=f"Malformed CSV line: expected {len(header)} columns, found {len(cells)}.",
                )
                continue
            if any(_has_bad_bytes(cell) for cell in cells):
                self.report.add(line, "cis", "failed", reason=f"The line is not valid {encoding} text.")
                continue
            row = dict(zip(columns, cells, strict=True))
            if relationship_file:
                self._import_relationship_row(line, row["source"], row["target"], row["type"])
            else:
                self._import_ci_row(line, "cis", self._map_csv(row))

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
        try:
            with transaction.atomic():
                action, ci = self._upsert(values)
        except _RowError as exc:
            self.report.add(number, section, "failed", reason=str(exc))
        except ValidationError as exc:
            self.report.add(number, section, "failed", reason=_reason(exc))
        else:
            self.report.add(number, section, action, ci=ci.pk)

    def _upsert(self, values: dict[str, Any]) -> tuple[str, ConfigurationItem]:
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
            ci = services.create_ci(
                actor=self.actor, fields={**fields, "attributes": attributes}, source=self.source
            )
            action = "created"
        else:
            changes = {k: v for k, v in fields.items() if k != "ci_class"}
            changes["attributes"] = {**(existing.attributes or {}), **attributes}
            diffs = services.diff_ci(existing, changes)
            ci = existing
            action = "unchanged"
            if diffs:
                ci = services.update_ci(existing, actor=self.actor, changes=changes, source=self.source)
                action = "updated"
        for rel_type, target in relations:
            if target.pk == ci.pk:
                raise _RowError(f"{rel_type}: a CI cannot be related to itself.")
            if not Relationship.objects.filter(source=ci, target=target, type=rel_type).exists():
                services.add_relationship(
                    actor=self.actor, source=ci, target=target, type=rel_type, origin=self.source
                )
                if action == "unchanged":
                    action = "updated"
        return action, ci

    def _row_relations(self, values: dict[str, Any]) -> list[tuple[str, ConfigurationItem]]:
        relations = []
        for rel_type in RELATIONSHIP_COLUMNS:
            raw = values.get(rel_type)
            if not raw:
                continue
            refs = raw if isinstance(raw, list) else [part for part in str(raw).split(";") if part.strip()]
            for ref in refs:
                relations.append((rel_type, self._resolve(ref, rel_type)))
        return relations

    def _find(self, ci_class: CIClass, name: str, serial: str) -> ConfigurationItem | None:
        # One query for both keys, without ORDER BY, answered from the unique indexes.
        keys = Q(name=name) | (Q(serial_number=serial) if serial else Q(pk__in=[]))
        candidates = list(
            ConfigurationItem.objects.select_related("ci_class", "owner", "support_group")
            .filter(keys, ci_class=ci_class)
            .order_by()[:2]
        )
        by_serial = next((c for c in candidates if serial and c.serial_number == serial), None)
        if by_serial is not None:
            return by_serial
        found = next((c for c in candidates if c.name == name), None)
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

    # ---- relationships -------------------------------------------------------------------------

    def _resolve(self, ref: Any, label: str) -> ConfigurationItem:
        """A CI from `"<ci_class>:<name>"` or an id."""
        if isinstance(ref, int) and not isinstance(ref, bool):
            found = ConfigurationItem.objects.filter(pk=ref).first()
            if found is None:
                raise _RowError(f"{label}: no CI with id {ref}.")
            return found
        text = str(ref or "").strip()
        if text.isdigit():
            return self._resolve(int(text), label)
        if ":" not in text:
            raise _RowError(f'{label}: {text!r} is not "<ci_class>:<name>".')
        class_name, name = (part.strip() for part in text.split(":", 1))
        if class_name not in self.classes:
            raise _RowError(f"{label}: unknown class {class_name!r}.")
        found = ConfigurationItem.objects.filter(ci_class=self.classes[class_name], name=name).first()
        if found is None:
            raise _RowError(f"{label}: no {class_name} named {name!r}.")
        return found

    def _import_relationship_row(self, number: int, source: Any, target: Any, rel_type: Any) -> None:
        section = "relationships"
        try:
            with transaction.atomic():
                if rel_type not in RelationshipType.values:
                    raise _RowError(
                        f"type: unknown relationship type {rel_type!r}; use one of "
                        f"{', '.join(RelationshipType.values)}."
                    )
                source_ci = self._resolve(source, "source")
                target_ci = self._resolve(target, "target")
                if Relationship.objects.filter(source=source_ci, target=target_ci, type=rel_type).exists():
                    action = "unchanged"
                else:
                    services.add_relationship(
                        actor=self.actor,
                        source=source_ci,
                        target=target_ci,
                        type=rel_type,
                        origin=self.source,
                    )
                    action = "created"
        except _RowError as exc:
            self.report.add(number, section, "failed", reason=str(exc))
        except ValidationError as exc:
            self.report.add(number, section, "failed", reason=_reason(exc))
        else:
            self.report.add(number, section, action, ci=source_ci.pk)


def _has_bad_bytes(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


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
    """Import a CSV or JSON file; see the module docstring. Raises ImportFileError for an unreadable file."""
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
