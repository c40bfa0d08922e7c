#!/usr/bin/env bash
# Restore a backup made by scripts/backup.sh into an EMPTY database and media folder.
#
# Usage:  DATABASE_URL=postgres://user@host:5432/itsm_new MEDIA_ROOT=/srv/itsm/media scripts/restore.sh FOLDER
#         FOLDER is the itsm-<timestamp> folder backup.sh printed.
# Steps:  1. refuses to run when the target database already has tables in the public schema (restoring
#            over live data would mix two histories); create it empty first (`createdb itsm_new`);
#         2. pg_restore of database.dump (schema, data, sequence values: new ticket numbers continue after
#            the highest restored one), stopping at the first error;
#         3. untar media.tar.gz into MEDIA_ROOT (created if missing), so attachments download again.
#         Then point the app at the restored database; no migration is needed for a dump of the same release.
# Needs:  pg_restore whose major version is >= the one that made the dump.
set -euo pipefail

: "${DATABASE_URL:?set DATABASE_URL to the empty database to restore into}"
FOLDER="${1:?usage: restore.sh BACKUP_FOLDER}"
MEDIA_ROOT="${MEDIA_ROOT:-$(dirname "$0")/../var/media}"

tables=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
if [ "$tables" != "0" ]; then
    echo "restore.sh: the target database already has $tables tables; restore into an empty database" >&2
    exit 1
fi
pg_restore --no-owner --no-privileges --exit-on-error --dbname="$DATABASE_URL" "$FOLDER/database.dump"
mkdir -p "$MEDIA_ROOT"
tar -xzf "$FOLDER/media.tar.gz" -C "$MEDIA_ROOT"
echo "restored $FOLDER"
