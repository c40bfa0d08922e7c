"""Reading a file into import jobs: CSV and JSON, with the column mapping applied, a row's problems kept on
the row (a bad line fails alone) and a file's problems raised as ImportFileError (nothing is imported).

A job is `(kind, row number, section, payload)`: kind "ci" (payload: the row's values), "rel" (payload:
source, target, type) or "failed" (payload: the reason).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from typing import Any

from contracts.software import inventory_payload

from ..models import CIClass
from .presets import ImportFileError


def json_jobs(data: bytes | str, encoding: str, *, mapping: dict[str, str]) -> Iterator[tuple]:
    """The jobs of a JSON file: ("ci" | "rel" | "failed", row number, section, payload), in file order."""
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
        yield ("ci", number, "cis", map_json(item, mapping))
    for number, item in enumerate(rels, start=1):
        if not isinstance(item, dict):
            yield ("failed", number, "relationships", "A relationship must be a JSON object.")
            continue
        yield ("rel", number, "relationships", (item.get("source"), item.get("target"), item.get("type")))


def map_json(item: dict, mapping: dict[str, str]) -> dict[str, Any]:
    """One JSON CI object as the importer's values: keys mapped, `attributes.<name>` keys merged."""
    values: dict[str, Any] = {}
    attributes = dict(item.get("attributes") or {}) if isinstance(item.get("attributes"), dict) else {}
    if "attributes" in item and not isinstance(item["attributes"], dict):
        values["_error"] = "attributes: must be a JSON object."
    for key, value in item.items():
        if key == "attributes":
            continue
        target = mapping.get(key, key)
        if not target:
            continue
        if target.startswith("attributes."):
            attributes[target.split(".", 1)[1]] = value
        else:
            values[target] = value
    values["attributes"] = attributes
    return values


def csv_jobs(
    data: bytes | str, encoding: str, *, mapping: dict[str, str], default_class: str
) -> Iterator[tuple]:
    """The jobs of a CSV file (see json_jobs); `row` is the line number. A header without a name or a
    class column (and no default class) makes the whole file unreadable."""
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
    columns = [mapping.get(column, column) for column in header]
    relationship_file = set(columns) == {"source", "target", "type"}
    if not relationship_file and "name" not in columns:
        raise ImportFileError('The CSV has no "name" column (map one with the column mapping).')
    if not relationship_file and "ci_class" not in columns and not default_class:
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
            yield ("ci", line, "cis", map_csv(row))


def map_csv(row: dict[str, str]) -> dict[str, Any]:
    """One CSV row (already mapped to our column names) as the importer's values; `_csv` marks that its
    attribute cells are text still to be converted (see _coerce_attributes)."""
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
