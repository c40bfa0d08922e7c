"""Run the test OIDC provider: migrate its SQLite database, seed users, groups and the suite's client
from the JSON file named in argv[2], then serve on 127.0.0.1:argv[1] (Django's threaded dev server;
loopback only, test data only)."""

import json
import os
import sys
from pathlib import Path

import django


def main() -> None:
    port, seed_path = sys.argv[1], sys.argv[2]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.identity.provider.settings")
    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.management import call_command
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0)
    seed = json.loads(Path(seed_path).read_text())
    for person in seed["users"]:
        user = User.objects.create_user(
            person["username"],
            email=person["email"],
            password=person["password"],
            first_name=person.get("first_name", ""),
            last_name=person.get("last_name", ""),
        )
        for name in person.get("groups", []):
            user.groups.add(Group.objects.get_or_create(name=name)[0])
    Application.objects.create(
        name="ITSM",
        client_id=seed["client_id"],
        client_secret=seed["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(seed["redirect_uris"]),
        post_logout_redirect_uris=" ".join(seed.get("post_logout_redirect_uris", [])),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    call_command("runserver", f"127.0.0.1:{port}", use_reloader=False, use_threading=True, verbosity=0)


if __name__ == "__main__":
    main()
