"""`manage.py check_software_usage [--fix]`: the reconciliation check of the titles' kept counts
(Software.installed_cis, what the compliance report reads) against a recount of the installations."""

from django.core.management.base import BaseCommand, CommandError

from contracts.software import fix_usage_drift, usage_drift


class Command(BaseCommand):
    help = "Recount each software title's installed CIs and compare with the kept count (--fix: correct it)."

    def add_arguments(self, parser):
        parser.add_argument("--fix", action="store_true", help="set each drifted count to the recount")

    def handle(self, *args, fix: bool = False, **options):
        drift = fix_usage_drift() if fix else usage_drift()
        for software_id, kept, counted in drift:
            self.stdout.write(f"software {software_id}: kept {kept}, counted {counted}")
        if not drift:
            self.stdout.write("Every title's installed CI count matches its installations.")
        elif fix:
            self.stdout.write(f"Corrected {len(drift)} title(s).")
        else:
            raise CommandError(f"{len(drift)} title(s) drifted; run with --fix to correct them.")
