from django.core.management.base import BaseCommand

from core import demo


class Command(BaseCommand):
    help = "Load demo groups, users and records (idempotent)."

    def handle(self, *args, **options):
        summary = demo.load()
        self.stdout.write(self.style.SUCCESS(f"Demo data ready: {summary}"))
