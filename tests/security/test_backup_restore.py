"""scripts/backup.sh and scripts/restore.sh for real: dump the test database and its media, restore them into
a scratch database and folder, then run the app on the restored copy (counts, attachment download,
numbering that continues after the highest restored number)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from core import services as core_services
from incidents.models import Incident
from incidents.services import incident_create

ROOT = Path(__file__).resolve().parents[2]
TABLES = ("incidents_incident", "core_activity", "core_attachment", "accounts_user")

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("serial")]


def _url(name: str) -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608


# Runs inside the restored copy: download the attachment through the real view, open one incident.
APP_CHECK = """
import json
from django.test import Client
from accounts.models import User
from core.models import Attachment
from incidents.models import Incident
from incidents.services import incident_create
owner = User.objects.get(username="backup_owner")
attachment = Attachment.objects.get()
client = Client(SERVER_NAME="localhost")
client.force_login(owner)
response = client.get(f"/attachments/{attachment.pk}/download/")
new = incident_create(actor=owner, short_description="After the restore")
print(json.dumps({"status": response.status_code, "content": b"".join(response.streaming_content).decode(),
                  "new_number": new.number, "restored": sorted(Incident.objects.exclude(pk=new.pk)
                  .values_list("number", flat=True))}))
"""


@pytest.fixture
def scratch_database():
    name = f"{connection.settings_dict['NAME']}_restore"
    admin_url = _url("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield _url(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_then_restore_into_an_empty_database(make_user, scratch_database, tmp_path):
    owner = make_user("backup_owner")
    incidents = [incident_create(actor=owner, short_description=f"Before the backup {i}") for i in range(3)]
    core_services.add_attachment(
        incidents[0],
        actor=owner,
        uploaded_file=SimpleUploadedFile("notes.txt", b"restored bytes", "text/plain"),
    )
    source_url = _url(connection.settings_dict["NAME"])
    env = {**os.environ, "DATABASE_URL": source_url, "MEDIA_ROOT": str(settings.MEDIA_ROOT)}

    backup = subprocess.run(
        ["bash", ROOT / "scripts/backup.sh", tmp_path / "backups"], env=env, capture_output=True, text=True
    )
    assert backup.returncode == 0, backup.stderr
    folder = Path(backup.stdout.strip().splitlines()[-1])
    assert (folder / "database.dump").stat().st_size > 0 and (folder / "media.tar.gz").exists()

    restored_media = tmp_path / "media"
    env.update(DATABASE_URL=scratch_database, MEDIA_ROOT=str(restored_media))
    restore = subprocess.run(
        ["bash", ROOT / "scripts/restore.sh", folder], env=env, capture_output=True, text=True
    )
    assert restore.returncode == 0, restore.stderr
    assert _counts(scratch_database) == _counts(source_url)

    # A second restore into the now non-empty database is refused and changes nothing.
    again = subprocess.run(
        ["bash", ROOT / "scripts/restore.sh", folder], env=env, capture_output=True, text=True
    )
    assert again.returncode != 0 and "empty database" in again.stderr
    assert _counts(scratch_database) == _counts(source_url)

    check = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", APP_CHECK],
        cwd=ROOT,
        env={
            **env,
            "DJANGO_SETTINGS_MODULE": "itsm.settings.dev",
            "CELERY_TASK_ALWAYS_EAGER": "true",
            "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.returncode == 0, check.stderr
    result = json.loads(check.stdout.strip().splitlines()[-1])
    assert result["status"] == 200 and result["content"] == "restored bytes"
    assert result["restored"] == sorted(i.number for i in incidents)
    assert result["new_number"] > max(result["restored"])
    assert Incident.objects.count() == 3  # the source is untouched
