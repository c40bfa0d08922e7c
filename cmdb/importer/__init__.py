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

The package: `presets` (columns, presets, ImportFileError), `reading` (CSV and JSON into jobs), `report`,
`cache` (the lookups of a window of rows), `run` (Importer, one run). Callers import from `cmdb.importer`.
"""

from __future__ import annotations

from ..models import ChangeSource
from .presets import CI_COLUMNS, PRESETS, RELATIONSHIP_COLUMNS, ImportFileError, Preset
from .report import ImportReport
from .run import Importer

__all__ = [
    "CI_COLUMNS",
    "PRESETS",
    "RELATIONSHIP_COLUMNS",
    "ImportFileError",
    "ImportReport",
    "Importer",
    "Preset",
    "guess_format",
    "import_file",
]


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
        from ..formats import import_recognised  # cycle: cmdb.formats runs its files through Importer

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
