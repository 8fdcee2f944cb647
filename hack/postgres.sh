#!/usr/bin/env bash
# postgres.sh starts a throwaway PostgreSQL for mlfleet's tests and prints its DSN:
#
#   export MLFLEET_TEST_POSTGRES=$(hack/postgres.sh)
#
# On Debian it installs the postgresql package when no server binaries are found (that needs
# root). The cluster lives in DATADIR (first argument, default
# /var/lib/postgresql/mlfleet-test), listens on 127.0.0.1 only, on port $MLFLEET_PG_PORT
# (default 54329, or the next free one), trusts every local connection and runs with fsync
# off: it is for tests, never for data you want to keep. Running the script again reuses the
# server if it is up and starts it if not. Progress goes to stderr; stdout is only the DSN.
# Stop it with: pg_ctl stop -D DATADIR (as the postgres user when run as root).
set -euo pipefail

datadir=$(realpath -m "${1:-/var/lib/postgresql/mlfleet-test}")
port="${MLFLEET_PG_PORT:-54329}"
db=mlfleet_test

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# PostgreSQL refuses to run as root, so as root the server runs as the postgres user.
as_pg() {
	if [[ $EUID -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

find_bindir() {
	local d
	d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[[ -n $d && -x $d/pg_ctl ]] && echo "$d"
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

bindir=$(find_bindir || true)
if [[ -z $bindir ]]; then
	[[ $EUID -eq 0 ]] || die "PostgreSQL is not installed; run as root to install it"
	log "installing postgresql"
	apt-get update >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
	bindir=$(find_bindir) || die "no /usr/lib/postgresql/*/bin/pg_ctl after installing postgresql"
fi
if [[ $EUID -eq 0 ]] && ! id postgres >/dev/null 2>&1; then
	useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
fi

# The postgres user may not be allowed into the caller's directory.
cd /

# Two runs at once must not both initdb or start the same cluster.
mkdir -p "$(dirname "$datadir")"
exec 9>"$datadir.lock"
flock 9

# An existing cluster needs the server version that created it.
if [[ -s $datadir/PG_VERSION && -x /usr/lib/postgresql/$(cat "$datadir/PG_VERSION")/bin/pg_ctl ]]; then
	bindir=/usr/lib/postgresql/$(cat "$datadir/PG_VERSION")/bin
fi

if [[ ! -s $datadir/PG_VERSION ]]; then
	log "creating cluster in $datadir"
	mkdir -p "$datadir"
	if [[ $EUID -eq 0 ]]; then
		chown postgres: "$datadir"
	fi
	chmod 700 "$datadir"
	as_pg "$bindir/initdb" -D "$datadir" -U postgres -A trust -E UTF8 --locale=C >&2
	cat >>"$datadir/postgresql.conf" <<-EOF

		# Set by mlfleet hack/postgres.sh: a local test server.
		listen_addresses = '127.0.0.1'
		unix_socket_directories = ''
		max_connections = 300
		fsync = off
		synchronous_commit = off
		full_page_writes = off
	EOF
fi

if ! as_pg "$bindir/pg_ctl" status -D "$datadir" >/dev/null 2>&1; then
	while port_in_use "$port"; do
		log "port $port is taken, trying $((port + 1))"
		port=$((port + 1))
	done
	log "starting server on 127.0.0.1:$port"
	# 9>&- keeps the lock out of the server, which would otherwise hold it forever.
	as_pg "$bindir/pg_ctl" start -w -t 60 -D "$datadir" -l "$datadir/server.log" -o "-p $port" >&2 9>&- ||
		die "start failed; see $datadir/server.log"
fi
# The fourth line of postmaster.pid is the port the running server listens on.
port=$(sed -n 4p "$datadir/postmaster.pid")

for _ in $(seq 1 60); do
	"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" && break
	sleep 0.5
done
"$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" || die "server on port $port is not ready"

psql=("$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres)
if [[ -z $("${psql[@]}" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'") ]]; then
	log "creating database $db"
	"${psql[@]}" -c "CREATE DATABASE $db" >&2
fi

echo "postgres://postgres@127.0.0.1:$port/$db?sslmode=disable"
