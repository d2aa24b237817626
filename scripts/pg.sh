# shellcheck shell=bash
# Starts a throwaway PostgreSQL cluster for scripts/test and scripts/bench;
# source it, then call start_postgres. It sets ORDERHUB_TEST_POSTGRES_URL and
# stops and removes the cluster when the calling script exits. The caller
# defines say(). PG_DURABILITY overrides the durability settings (tests run
# with fsync off; benchmarks pass "-c fsync=on" to measure the real thing).

pg_bindir() {
	local d best=""
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best+="$d"$'\n'
	done
	[ -n "$best" ] && printf '%s' "$best" | sort -V | tail -n 1
	return 0
}

pgdir=""
pg_started=0
as_pg=() # command prefix to run server programs as the cluster's owner

cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$pgdir" ] && [ -f "$pgdir/data/postmaster.pid" ]; then
		"${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdir/data" stop -m fast -w >/dev/null 2>&1 ||
			"${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdir/data" stop -m immediate -w >/dev/null 2>&1 || true
	fi
	if [ -n "$pgdir" ]; then
		rm -rf -- "$pgdir"
	fi
	exit "$rc"
}

start_postgres() {
	bindir=$(pg_bindir)
	if [ -z "$bindir" ]; then
		# scripts/deps installs them when we are root, or says how.
		# shellcheck source=scripts/deps
		. "$(dirname "${BASH_SOURCE[0]}")/deps"
		deps_ensure postgresql || exit 1
		bindir=$(pg_bindir)
	fi

	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
	pgdir=$(mktemp -d /tmp/orderhub-pg.XXXXXX)

	if [ "$(id -u)" = 0 ]; then
		# initdb and pg_ctl refuse to run as root: the cluster belongs to the
		# postgres user that the Debian package creates.
		if ! id postgres >/dev/null 2>&1; then
			say "running as root, but there is no 'postgres' user to own the test cluster"
			exit 1
		fi
		chown postgres: "$pgdir"
		as_pg=(runuser -u postgres --)
	fi
	chmod 711 "$pgdir"

	# Run from the cluster dir so the server never lacks access to its cwd.
	if ! (cd "$pgdir" && "${as_pg[@]}" "$bindir/initdb" -D "$pgdir/data" -A trust -U postgres \
		--no-sync -E UTF8 --locale=C >"$pgdir/initdb.log" 2>&1); then
		cat "$pgdir/initdb.log" >&2
		say "initdb failed"
		exit 1
	fi

	# A random port outside Linux's ephemeral range that nothing listens on;
	# if the server still cannot bind it (a race), try another.
	local attempt
	for attempt in 1 2 3 4 5 6 7 8; do
		port=$((15000 + (RANDOM * 32768 + RANDOM) % 17000))
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			continue # taken
		fi
		if (cd "$pgdir" && "${as_pg[@]}" "$bindir/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w -t 60 \
			-o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir ${PG_DURABILITY:--c fsync=off -c synchronous_commit=off -c full_page_writes=off} -c max_connections=200 -c shared_buffers=128MB" \
			start >"$pgdir/pg_ctl.log" 2>&1); then
			pg_started=1
			break
		fi
		if grep -qi 'could not bind\|address already in use\|could not create any TCP/IP sockets' "$pgdir/log" 2>/dev/null; then
			: >"$pgdir/log"
			continue
		fi
		cat "$pgdir/pg_ctl.log" "$pgdir/log" >&2 2>/dev/null || true
		say "could not start PostgreSQL (see above)"
		exit 1
	done
	if [ "$pg_started" != 1 ]; then
		cat "$pgdir/log" >&2 2>/dev/null || true
		say "could not find a free port for PostgreSQL"
		exit 1
	fi

	export ORDERHUB_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $pgdir (removed at exit)"
}

