#!/bin/sh
# gridwatch: make the leader desk's read replica from a running primary.
#   make-replica.sh PRIMARY_HOST PRIMARY_PORT DATA_DIR [REPLICATION_USER]
# Run as the postgres user, into an empty DATA_DIR; then start the server on DATA_DIR.
# On the primary first: primary.conf included, pg_hba-replication.conf's line added, and
#   CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '…';   (password in ~/.pgpass)
# Environment: PG_BASEBACKUP (default: pg_basebackup on PATH), SLOT (default
# gridwatch_replica; empty for none: then only wal_keep_size keeps WAL for a replica away).
set -eu
if [ $# -lt 3 ]; then
    echo "usage: $0 PRIMARY_HOST PRIMARY_PORT DATA_DIR [REPLICATION_USER]" >&2
    exit 2
fi
host=$1 port=$2 data=$3 user=${4:-replicator}
here=$(dirname "$0")
slot=${SLOT-gridwatch_replica}
set -- -h "$host" -p "$port" -U "$user" -D "$data" -R -X stream -c fast --no-password
if [ -n "$slot" ]; then
    set -- "$@" -C -S "$slot"
fi
"${PG_BASEBACKUP:-pg_basebackup}" "$@"
# -R wrote primary_conninfo and standby.signal; the replica's own settings go after it
cat "$here/replica.conf" >> "$data/postgresql.auto.conf"
chmod 700 "$data"
