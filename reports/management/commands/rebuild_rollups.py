"""`manage.py rebuild_rollups [--days N]`: recompute the dashboard rollups (all history by default)."""

import datetime as dt

from django.core.management.base import BaseCommand

from reports import rollups


class Command(BaseCommand):
    help = "Recompute the daily dashboard rollups from the tickets (all history, or the last N days)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=None, help="Only the last N days and today")

    def handle(self, *args, days=None, **options):
        if days is not None:
            if days < 0:
                self.stderr.write("--days must be zero or more")
                return
            today = rollups.local_today()
            rollups.refresh(today - dt.timedelta(days=days), today + dt.timedelta(days=1))
            rollups.refresh_ci_windows()
            self.stdout.write(f"Recomputed {days + 1} days.")
        else:
            self.stdout.write(f"Recomputed {rollups.rebuild()} days.")
