"""`manage.py ensure_admin`: make sure the superuser `admin` exists with the password `make run` prints.

Idempotent: creates the user on first run, and afterwards only repairs what drifted (password, superuser and
staff flags, active). The password comes from ITSM_ADMIN_PASSWORD (default "admin"); `--username` changes the
account name. Writes nothing when everything is already in place.
"""

import os

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create or update the superuser `admin`; password from ITSM_ADMIN_PASSWORD (default 'admin')."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="Superuser name (default: admin).")
        parser.add_argument("--email", default="admin@localhost", help="E-mail for a newly created user.")

    @transaction.atomic
    def handle(self, *args, username: str, email: str, **options):
        password = os.environ.get("ITSM_ADMIN_PASSWORD") or "admin"
        user_model = get_user_model()
        user = (
            user_model._default_manager.select_for_update()
            .filter(**{user_model.USERNAME_FIELD: username})
            .first()
        )
        created = user is None
        if created:
            user = user_model(**{user_model.USERNAME_FIELD: username}, email=email)
        changed = created
        for flag in ("is_superuser", "is_staff", "is_active"):
            if not getattr(user, flag):
                setattr(user, flag, True)
                changed = True
        if created or not user.check_password(password):
            user.set_password(password)
            changed = True
        if changed:
            user.save()
        verb = "created" if created else ("updated" if changed else "unchanged")
        self.stdout.write(self.style.SUCCESS(f"Superuser {username!r} {verb}."))
