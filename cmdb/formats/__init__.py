"""Other tools' exports, recognised by their shape and imported without any option (SPEC §3 import).

`import_recognised` is called by cmdb.importer.import_file when no preset and no mapping is given: a NetBox
CSV export (sites, devices, interfaces, IP addresses or cables, recognised by its header) or a GLPI
inventory JSON (the glpi-agent / native inventory format) is translated into our import payload and run
through the same Importer (same upsert, savepoints, dry run and history). Anything else returns None and
is imported as our own CSV / JSON. The report names the format it recognised.
"""

from __future__ import annotations

from .glpi import recognise_glpi_inventory
from .netbox import recognise_netbox_csv
from .report import RecognisedReport


def import_recognised(
    data, *, format: str, actor, dry_run: bool, encoding: str, source: str
) -> RecognisedReport | None:
    """Import `data` if it is an export this package recognises; None otherwise (nothing done)."""
    recognised = None
    if format == "csv":
        recognised = recognise_netbox_csv(data, encoding)
    elif format == "json":
        recognised = recognise_glpi_inventory(data, encoding)
    if recognised is None:
        return None
    return recognised.run(actor=actor, dry_run=dry_run, source=source)
