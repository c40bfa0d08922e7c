"""The report an import returns (one entry per row, in file order), and how a row's failure is worded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from .. import services


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
