"""`manage.py capabilities`: what the database lacks (core.capabilities), one line each, or "all present";
`--json` prints the same as /health/'s "missing". `make run` prints it in its banner."""

import json

from django.core.management.base import BaseCommand

from core import capabilities


class Command(BaseCommand):
    help = "Report optional database capabilities that are missing, and what is lost without them."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print a JSON object {area: what is missing}")

    def handle(self, *args, **options):
        missing = capabilities.missing()
        if options["json"]:
            self.stdout.write(json.dumps(missing))
        elif not missing:
            self.stdout.write("all optional database capabilities present")
        else:
            for area, loss in missing.items():
                self.stdout.write(f"{area}: {loss}")
