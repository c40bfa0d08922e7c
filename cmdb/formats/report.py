"""The report of an import of another tool's export: one entry per line of that file."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from cmdb.importer import Importer, ImportReport


@dataclass
class RecognisedReport(ImportReport):
    """ImportReport plus the recognised `format` and `skipped` rows (valid, with nothing for us to keep,
    e.g. an IP address assigned to no device). `row` is the line number in the file (the header is 1)."""

    format: str = ""
    skipped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"format": self.format, **super().as_dict(), "skipped": self.skipped}


@dataclass
class Translation:
    """A file translated into our JSON import payload, with where each of its lines went.

    `lines` holds, per data line of the source file: ("ci", index into cis), ("rel", index into
    relationships), ("failed", reason) or ("skipped", reason)."""

    format: str
    section: str
    cis: list[dict[str, Any]] = field(default_factory=list)
    relationships: list[dict[str, Any]] = field(default_factory=list)
    lines: list[tuple[int, str, Any]] = field(default_factory=list)
    prepare: Any = None  # callable run before the import, inside its transaction (e.g. create a class)

    def run(self, *, actor, dry_run: bool, source: str) -> RecognisedReport:
        report = RecognisedReport(dry_run=dry_run, format=self.format)
        with transaction.atomic():
            if self.prepare:
                self.prepare()
            payload = {"cis": self.cis, "relationships": self.relationships}
            inner = Importer(actor=actor, dry_run=False, source=source).run(
                json.dumps(payload), format="json"
            )
            if dry_run:
                transaction.set_rollback(True)
        outcome = {(row["section"], row["row"]): row for row in inner.rows}
        software_failures: dict[int, list[str]] = {}  # CI row → its unreadable software entries
        for failure in inner.failed:
            if failure["section"] == "software":
                software_failures.setdefault(failure["row"], []).append(failure["reason"])
        for line, kind, value in self.lines:
            if kind in ("failed", "skipped"):
                self._add(report, line, kind, reason=value)
                continue
            row = outcome.get(("cis" if kind == "ci" else "relationships", value + 1))
            if row is None:  # the importer reports every item it was given
                self._add(report, line, "failed", reason="not imported")
            else:
                self._add(report, line, row["action"], ci=row.get("ci"), reason=row.get("reason", ""))
            if kind == "ci":
                for reason in software_failures.get(value + 1, []):
                    self._add(
                        report, line, "failed", ci=(row or {}).get("ci"), reason=reason, section="software"
                    )
        report.software = dict(inner.software)
        return report

    def _add(
        self,
        report: RecognisedReport,
        line: int,
        action: str,
        *,
        ci=None,
        reason: str = "",
        section: str = "",
    ) -> None:
        section = section or self.section
        entry: dict[str, Any] = {"row": line, "section": section, "action": action}
        if ci is not None:
            entry["ci"] = ci
        if action in ("failed", "skipped"):
            entry["reason"] = reason
        if action == "failed":
            report.failed.append({"row": line, "section": section, "reason": reason})
        else:
            setattr(report, action, getattr(report, action) + 1)
        report.rows.append(entry)
