"""`python manage.py ingest_email PATH...`: files, folders of .eml, or `-` for stdin."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from integrations.inbound import ingest


class Command(BaseCommand):
    help = "Ingest raw mails (.eml files, folders of them, or - for stdin): open tickets, thread replies."

    def add_arguments(self, parser):
        parser.add_argument("paths", nargs="+", help="A .eml file, a folder of .eml files, or - for stdin")

    def handle(self, *args, **options):
        paths = options["paths"]
        sources: list[tuple[str, Path | None]] = []
        for raw_path in paths:
            if raw_path == "-":
                sources.append(("stdin", None))
                continue
            path = Path(raw_path)
            if path.is_dir():
                sources += [(str(p), p) for p in sorted(path.glob("*.eml")) if p.is_file()]
            elif path.is_file():
                sources.append((str(path), path))
            else:
                raise CommandError(f"{raw_path}: no such file or folder")
        counts: dict[str, int] = {}
        for name, path in sources:
            raw = sys.stdin.buffer.read() if path is None else path.read_bytes()
            row, created = ingest(raw, source=name)
            outcome = row.status if created else "already ingested"
            counts[outcome] = counts.get(outcome, 0) + 1
            detail = f"{row.reason}" if created else row.message_id
            self.stdout.write(f"{name}: {outcome}: {detail}")
        summary = ", ".join(f"{key}={value}" for key, value in sorted(counts.items())) or "nothing to ingest"
        self.stdout.write(self.style.SUCCESS(f"{len(sources)} mail(s): {summary}"))
