"""`manage.py sync_directory`: the nightly directory sync, now, with its report on stdout."""

from django.core.management.base import BaseCommand, CommandError

from accounts.identity import sync


class Command(BaseCommand):
    help = (
        "Refresh directory (LDAP) users from the directory and deactivate those who left; report the changes."
    )

    def handle(self, *args, **options):
        report = sync.sync_directory()
        if report.error:
            raise CommandError(report.lines()[0])
        for line in report.lines():
            self.stdout.write(line)
