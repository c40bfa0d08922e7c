"""`manage.py import_cis FILE [--dry-run] [--preset netbox|glpi] [--map col=field ...]`: the CMDB import
from the shell, with the same per-row report as the API (history rows have source "import")."""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from cmdb.importer import PRESETS, ImportFileError, guess_format, import_file


class Command(BaseCommand):
    help = "Import CIs and relationships from a CSV or JSON file (SPEC §3); '-' reads stdin."

    def add_arguments(self, parser):
        parser.add_argument("path", help="CSV or JSON file, or - for stdin")
        parser.add_argument(
            "--format", choices=["csv", "json"], help="default: from the file name or content"
        )
        parser.add_argument("--dry-run", action="store_true", help="report without writing")
        parser.add_argument(
            "--preset", choices=sorted(PRESETS), help="column mapping of another tool's export"
        )
        parser.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD", help="map a column")
        parser.add_argument("--default-class", help="class for rows without a ci_class column")
        parser.add_argument("--encoding", default="utf-8")
        parser.add_argument("--user", help="username recorded as the author of the changes")
        parser.add_argument("--json", action="store_true", help="print the full report as JSON")

    def handle(self, *args, **options):
        path = options["path"]
        data = sys.stdin.buffer.read() if path == "-" else self._read(path)
        mapping = {}
        for item in options["map"]:
            column, sep, target = item.partition("=")
            if not sep:
                raise CommandError(f"--map takes COLUMN=FIELD, got {item!r}")
            mapping[column] = target
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"Unknown user {options['user']!r}")
        try:
            report = import_file(
                data,
                format=options["format"] or guess_format(path, "", data),
                actor=actor,
                dry_run=options["dry_run"],
                mapping=mapping,
                preset=options["preset"],
                default_class=options["default_class"],
                encoding=options["encoding"],
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(report.as_dict(), indent=2))
            return
        prefix = "Dry run: " if report.dry_run else ""
        if getattr(report, "format", ""):
            self.stdout.write(f"Recognised: {report.format}")
        self.stdout.write(
            f"{prefix}{report.created} created, {report.updated} updated, {report.unchanged} unchanged, "
            f"{len(report.failed)} failed"
        )
        for failure in report.failed:
            self.stdout.write(f"  {failure['section']} row {failure['row']}: {failure['reason']}")

    def _read(self, path: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc}") from exc
