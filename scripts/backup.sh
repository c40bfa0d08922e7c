#!/usr/bin/env bash
# Back up the ITSM suite: the PostgreSQL database and the uploaded files (attachments, raw mails).
#
# Usage:   DATABASE_URL=postgres://user@host:5432/itsm MEDIA_ROOT=/srv/itsm/media scripts/backup.sh [DEST]
# Result:  DEST/itsm-<UTC timestamp>/ holding
#            database.dump  pg_dump custom format (-Fc) of DATABASE_URL: schema, data and sequence values,
#                           so ticket numbering continues after a restore;
#            media.tar.gz   the contents of MEDIA_ROOT (empty archive when the folder does not exist);
#          the folder's path is printed on the last line. DEST defaults to ./var/backups.
# Needs:   pg_dump whose major version is >= the server's (`pg_dump --version`, `SHOW server_version`).
# Restore: scripts/restore.sh DEST/itsm-<timestamp> into an EMPTY database.
# The dump is a consistent snapshot (one transaction); uploads written while it runs may or may not be in
# the tar, so back up in a quiet moment or accept that the newest attachment may be missing.
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the database to back up}"
MEDIA_ROOT="${MEDIA_ROOT:-$(dirname "$0")/../var/media}"
DEST="${1:-$(dirname "$0")/../var/backups}"

folder="$DEST/itsm-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$folder"
pg_dump --format=custom --no-owner --no-privileges --file="$folder/database.dump" --dbname="$DATABASE_URL"
if [ -d "$MEDIA_ROOT" ]; then
    tar -czf "$folder/media.tar.gz" -C "$MEDIA_ROOT" .
else
    tar -czf "$folder/media.tar.gz" -T /dev/null
fi
echo "$folder"
