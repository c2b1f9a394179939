#!/usr/bin/env bash
# services.sh start|stop|status|env: the local services Offsite needs, on loopback.
#
#   start   start Redis, PostgreSQL (+ PostGIS databases) and the Versity S3
#           gateway when they are not already running; health-check each.
#           A service already answering on its port is left alone.
#   stop    stop only what this script started (recorded in $STATE/started/).
#   status  one line per service.
#   env     print `export OFFSITE_...=...` lines: eval "$(scripts/services.sh env)"
#
# Environment: OFFSITE_STATE_DIR (default <repo>/.state), OFFSITE_REDIS_PORT
# (6379), OFFSITE_PG_PORT (5432), OFFSITE_S3_PORT (7070).
set -euo pipefail
SCRIPT_NAME=services.sh
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

STATE="${OFFSITE_STATE_DIR:-$REPO_ROOT/.state}"
REDIS_PORT="${OFFSITE_REDIS_PORT:-6379}"
PG_PORT="${OFFSITE_PG_PORT:-5432}"
S3_PORT="${OFFSITE_S3_PORT:-7070}"

PG_USER=offsite
PG_PASSWORD=offsite
# The application's role: it may read and append to the audit log, never rewrite it; the
# migrations (run as $PG_USER, the owner) grant it what it needs.
PG_APP_USER=offsite_app
PG_APP_PASSWORD=offsite_app
PG_DB=offsite
PG_TEST_DB=offsite_test
PG_TEMPLATE_DB=offsite_template
S3_ACCESS=offsite
S3_SECRET=offsite-secret
S3_REGION=us-east-1
S3_BUCKETS=(offsite-captures offsite-evidence offsite-proofs)

MARKERS="$STATE/started"
VGW_BIN="$STATE/bin/versitygw"
VGW_PID="$STATE/versitygw.pid"
VGW_LOG="$STATE/versitygw.log"

pg_url() { printf 'postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable' "$PG_USER" "$PG_PASSWORD" "$PG_PORT" "$1"; }
pg_app_url() { printf 'postgres://%s:%s@127.0.0.1:%s/%s?sslmode=disable' "$PG_APP_USER" "$PG_APP_PASSWORD" "$PG_PORT" "$1"; }

# ---------------------------------------------------------------- Redis

redis_ping() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

redis_start() {
	if redis_ping; then
		log "redis: running on 127.0.0.1:$REDIS_PORT (left alone)"
		return
	fi
	if port_open "$REDIS_PORT"; then
		die "port $REDIS_PORT is in use by a process that is not Redis ($(port_holder "$REDIS_PORT")); stop it or set OFFSITE_REDIS_PORT"
	fi
	command -v redis-server >/dev/null || die "redis-server not found: run scripts/deps.sh"
	mkdir -p "$STATE/redis"
	log "redis: starting on 127.0.0.1:$REDIS_PORT"
	redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" \
		--save "" --appendonly no --dir "$STATE/redis" \
		--pidfile "$STATE/redis.pid" --logfile "$STATE/redis.log" >/dev/null 9>&-
	wait_for 10 redis_ping || die "redis: did not answer PING within 10 s; see $STATE/redis.log"
	echo "$REDIS_PORT" >"$MARKERS/redis"
	log "redis: started (pid $(cat "$STATE/redis.pid" 2>/dev/null || echo '?'))"
}

redis_stop() {
	if [ ! -f "$MARKERS/redis" ]; then
		log "redis: not started by this project (left alone)"
		return
	fi
	if redis_ping; then
		redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
		wait_for 10 bash -c "! redis-cli -h 127.0.0.1 -p $REDIS_PORT ping" || log "redis: still answering after shutdown"
	fi
	rm -f "$MARKERS/redis"
	log "redis: stopped"
}

redis_status() {
	if redis_ping; then
		echo "redis      up    127.0.0.1:$REDIS_PORT  ($(owner redis))"
	else
		echo "redis      down  127.0.0.1:$REDIS_PORT"
	fi
}

# ----------------------------------------------------------- PostgreSQL

pg_ready() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; }

# pg_health: the offsite role can log in over TCP and PostGIS answers.
pg_health() {
	psql -X -q -t -A "$(pg_url "$PG_DB")" -c 'select postgis_version()' >/dev/null 2>&1
}

# pg_provisioned: both roles, both databases (with PostGIS) and the template exist.
pg_provisioned() {
	pg_health || return 1
	psql -X -q -t -A "$(pg_app_url "$PG_TEST_DB")" -c 'select 1' >/dev/null 2>&1 || return 1
	local n
	n="$(psql -X -q -t -A "$(pg_url "$PG_TEST_DB")" -c \
		"select (select count(*) from pg_database where datname = '$PG_TEMPLATE_DB' and datistemplate)
		      + (select count(*) from pg_extension where extname = 'postgis')
		      + (select count(*) where pg_has_role('$PG_USER', '$PG_APP_USER', 'MEMBER'))" 2>/dev/null)" || return 1
	[ "$n" = 3 ]
}

# pg_cluster prints "<major> <name>" of the Debian cluster configured for
# PG_PORT, or nothing.
pg_cluster() {
	command -v pg_lsclusters >/dev/null || return 0
	pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; exit }'
}

pg_start() {
	if pg_ready; then
		log "postgres: running on 127.0.0.1:$PG_PORT (left alone)"
	else
		if port_open "$PG_PORT"; then
			die "port $PG_PORT is in use by a process that is not PostgreSQL ($(port_holder "$PG_PORT")); stop it or set OFFSITE_PG_PORT"
		fi
		is_root || die "postgres: not running on 127.0.0.1:$PG_PORT; start it (as root: scripts/services.sh start) or run: sudo pg_ctlcluster <major> main start"
		local major cluster
		major="$(pg_major)"
		[ -n "$major" ] || die "postgres: PostgreSQL is not installed: run scripts/deps.sh"
		cluster="$(pg_cluster)"
		if [ -z "$cluster" ]; then
			# No cluster on this port: create "main", or "offsite" when
			# "main" exists on another port (OFFSITE_PG_PORT set).
			local name=main
			if pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | grep -qx "$major main"; then
				name=offsite
				if pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | grep -qx "$major offsite"; then
					die "postgres: clusters $major/main and $major/offsite exist but neither uses port $PG_PORT (see pg_lsclusters); set OFFSITE_PG_PORT to one of their ports"
				fi
			fi
			log "postgres: creating cluster $major/$name on port $PG_PORT"
			pg_createcluster "$major" "$name" --port "$PG_PORT" >/dev/null 9>&-
			cluster="$major $name"
		fi
		pg_tune "$cluster" || true
		log "postgres: starting cluster ${cluster/ //}"
		# shellcheck disable=SC2086 # "<major> <name>" is two arguments.
		pg_ctlcluster --skip-systemctl-redirect $cluster start 9>&-
		wait_for 30 pg_ready || die "postgres: not accepting connections on 127.0.0.1:$PG_PORT within 30 s; see /var/log/postgresql/"
		echo "$cluster" >"$MARKERS/postgres"
		log "postgres: started"
	fi

	if pg_provisioned; then
		return
	fi
	is_root || die "postgres: role/databases missing and not root; run as root: scripts/services.sh start"
	log "postgres: creating roles $PG_USER, $PG_APP_USER and databases $PG_DB, $PG_TEST_DB, $PG_TEMPLATE_DB (PostGIS)"
	pg_provision
	# A server provisioned here but started before (by the system): the settings below, by a
	# reload; shared_buffers waits for its next restart.
	local cluster
	cluster="$(pg_cluster)"
	if [ -n "$cluster" ] && pg_tune "$cluster"; then
		psql_admin postgres -c 'SELECT pg_reload_conf()' >/dev/null
		log "postgres: ingest settings in $(pg_conf_dir "$cluster")/offsite.conf loaded; shared_buffers applies at the next restart"
	fi
	pg_provisioned || die "postgres: provisioned, but cannot connect as $(pg_url "$PG_DB") and run postgis_version(), or as $(pg_app_url "$PG_TEST_DB"); check pg_hba.conf"
}

# pg_conf_dir "<major> <name>": the cluster's conf.d, which Debian's postgresql.conf includes.
pg_conf_dir() {
	local major=${1% *} name=${1#* }
	echo "/etc/postgresql/$major/$name/conf.d"
}

# pg_tune "<major> <name>": writes the settings the receiver's ingest needs into the cluster's
# conf.d/offsite.conf (returns 1 when the file was already so). At 5,000 frames/s the receiver
# writes some 18 MB of WAL a second: with the default max_wal_size (1 GB) a checkpoint began
# every 40-60 s, and each one's fsyncs held every commit, so every acknowledgement, for up to
# 0.6 s (bench-monitoring's p99 went from ~20 ms between checkpoints to 0.2-0.9 s with one in the
# phase). Checkpoints at most every 15 minutes or 8 GB of WAL, WAL compressed (fewer bytes of full
# pages after each checkpoint), and shared buffers of a quarter of memory up to 2 GB (fewer
# evictions of dirty pages written by the backends themselves). ALTER SYSTEM settings, if an
# administrator made any, still win.
pg_tune() {
	local dir file mem_mb sb_mb compression=lz4 want
	dir="$(pg_conf_dir "$1")"
	[ -d "$dir" ] || return 1
	file="$dir/offsite.conf"
	mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
	sb_mb=$((mem_mb / 4))
	[ "$sb_mb" -le 2048 ] || sb_mb=2048
	[ "$sb_mb" -ge 128 ] || sb_mb=128
	[ "${1% *}" -ge 15 ] 2>/dev/null || compression=on # lz4 is PostgreSQL 15's
	want="# Written by Offsite's scripts/services.sh (see pg_tune there); remove to undo.
max_wal_size = 8GB
checkpoint_timeout = 15min
wal_compression = $compression
shared_buffers = ${sb_mb}MB"
	[ "$(cat "$file" 2>/dev/null)" = "$want" ] && return 1
	printf '%s\n' "$want" >"$file"
	log "postgres: wrote $file (checkpoint and memory settings for the receiver's ingest)"
	return 0
}

# psql_admin DB: psql as the postgres superuser over the Unix socket
# (works under both peer and trust authentication).
psql_admin() {
	local db="$1"
	shift
	(cd / && runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d "$db" "$@")
}

pg_provision() {
	psql_admin postgres <<-SQL
		DO \$\$
		BEGIN
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_USER') THEN
		    CREATE ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
		  ELSE
		    ALTER ROLE $PG_USER LOGIN CREATEDB PASSWORD '$PG_PASSWORD';
		  END IF;
		  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$PG_APP_USER') THEN
		    CREATE ROLE $PG_APP_USER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '$PG_APP_PASSWORD';
		  ELSE
		    ALTER ROLE $PG_APP_USER LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD '$PG_APP_PASSWORD';
		  END IF;
		END
		\$\$;
		-- The owner may end the application's sessions (tests drop databases WITH (FORCE));
		-- the application's role gains nothing from it.
		GRANT $PG_APP_USER TO $PG_USER;
		SELECT format('CREATE DATABASE %I OWNER $PG_USER', d)
		  FROM unnest(ARRAY['$PG_DB', '$PG_TEST_DB', '$PG_TEMPLATE_DB']) AS d
		 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = d)
		\gexec
	SQL
	local db
	for db in "$PG_DB" "$PG_TEST_DB" "$PG_TEMPLATE_DB"; do
		psql_admin "$db" -c 'CREATE EXTENSION IF NOT EXISTS postgis'
	done
	psql_admin postgres -c "ALTER DATABASE $PG_TEMPLATE_DB IS_TEMPLATE true"
}

pg_stop() {
	if [ ! -f "$MARKERS/postgres" ]; then
		log "postgres: not started by this project (left alone)"
		return
	fi
	local cluster
	cluster="$(cat "$MARKERS/postgres")"
	# shellcheck disable=SC2086 # "<major> <name>" is two arguments.
	pg_ctlcluster --skip-systemctl-redirect $cluster stop || log "postgres: pg_ctlcluster stop failed"
	rm -f "$MARKERS/postgres"
	log "postgres: stopped cluster ${cluster/ //}"
}

pg_status() {
	if pg_health; then
		echo "postgres   up    127.0.0.1:$PG_PORT  ($(owner postgres); postgis $(psql -X -q -t -A "$(pg_url "$PG_DB")" -c 'select postgis_lib_version()' 2>/dev/null))"
	elif pg_ready; then
		echo "postgres   up    127.0.0.1:$PG_PORT  (but $PG_USER cannot use PostGIS in $PG_DB: run start)"
	else
		echo "postgres   down  127.0.0.1:$PG_PORT"
	fi
}

# ------------------------------------------------------------ S3 gateway

# s3 CURL-ARGS...: a SigV4-signed request with our keys. The gateway requires
# x-amz-content-sha256, which curl before 8.x does not send by itself.
s3() {
	curl -sS --max-time 10 --aws-sigv4 "aws:amz:$S3_REGION:s3" --user "$S3_ACCESS:$S3_SECRET" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

# s3_answers: something on S3_PORT answers HTTP with an S3-style XML body.
s3_answers() {
	curl -s --max-time 3 "http://127.0.0.1:$S3_PORT/" 2>/dev/null | grep -q '<Error>\|<ListAllMyBucketsResult'
}

# s3_health: an S3 server accepts our credentials (signed ListBuckets).
s3_health() {
	s3 --fail "http://127.0.0.1:$S3_PORT/" 2>/dev/null | grep -q '<ListAllMyBucketsResult'
}

vgw_build() {
	if [ -x "$VGW_BIN" ] && [ "$VGW_BIN" -nt "$REPO_ROOT/tools/go.sum" ]; then
		return
	fi
	command -v go >/dev/null || die "go not found in PATH (needed to build the S3 gateway)"
	log "s3: building versitygw (go tool dependency of tools/go.mod) into $VGW_BIN; the first build takes a minute or two"
	mkdir -p "$STATE/bin"
	if (cd "$REPO_ROOT/tools" && go build -o "$VGW_BIN.tmp" github.com/versity/versitygw/cmd/versitygw); then
		mv -f "$VGW_BIN.tmp" "$VGW_BIN"
	elif [ -x "$VGW_BIN" ]; then
		rm -f "$VGW_BIN.tmp"
		log "s3: rebuilding versitygw failed (see above); using the previous build"
	else
		die "s3: cannot build versitygw (see above)"
	fi
}

# vgw_wait PID: wait up to 20 s for the gateway we just started to answer;
# fail at once if it exits.
vgw_wait() {
	local pid="$1" i
	for i in $(seq 100); do
		s3_health && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

s3_start() {
	local ours=""
	if pid_alive "$VGW_PID" versitygw; then
		ours="$(cat "$MARKERS/versitygw" 2>/dev/null || true)"
		if [ "$ours" != "$S3_PORT" ]; then
			die "s3: the versitygw of $STATE (pid $(cat "$VGW_PID")) serves port ${ours:-unknown}, not $S3_PORT; run 'scripts/services.sh stop' first or set OFFSITE_S3_PORT=${ours:-...}"
		fi
	fi
	if [ -n "$ours" ] && s3_health; then
		log "s3: versitygw running on 127.0.0.1:$S3_PORT (pid $(cat "$VGW_PID"))"
	elif port_open "$S3_PORT"; then
		if ! s3_answers; then
			die "port $S3_PORT is in use by a process that is not an S3 gateway ($(port_holder "$S3_PORT")); stop it or set OFFSITE_S3_PORT"
		fi
		if ! s3_health; then
			die "port $S3_PORT is in use by an S3 server that rejects access key '$S3_ACCESS' ($(port_holder "$S3_PORT")); stop it or set OFFSITE_S3_PORT"
		fi
		log "s3: an S3 server accepting our keys runs on 127.0.0.1:$S3_PORT (left alone)"
	else
		vgw_build
		mkdir -p "$STATE/s3data" "$STATE/s3meta"
		log "s3: starting versitygw on 127.0.0.1:$S3_PORT (data $STATE/s3data)"
		# setsid: its own session, so it outlives this script and the
		# terminal or make that ran it. The pid of the background job is
		# the gateway's (setsid execs when not a group leader).
		ROOT_ACCESS_KEY_ID="$S3_ACCESS" ROOT_SECRET_ACCESS_KEY="$S3_SECRET" \
			setsid "$VGW_BIN" --port "127.0.0.1:$S3_PORT" --region "$S3_REGION" --quiet \
			posix --sidecar "$STATE/s3meta" "$STATE/s3data" \
			>>"$VGW_LOG" 2>&1 </dev/null 9>&- &
		echo $! >"$VGW_PID"
		echo "$S3_PORT" >"$MARKERS/versitygw"
		if ! vgw_wait "$(cat "$VGW_PID")"; then
			tail -n 20 "$VGW_LOG" >&2 || true
			die "s3: versitygw exited or did not answer on 127.0.0.1:$S3_PORT within 20 s; see $VGW_LOG"
		fi
		log "s3: started (pid $(cat "$VGW_PID"))"
	fi
	local b
	for b in "${S3_BUCKETS[@]}"; do
		s3_bucket "$b"
	done
}

# s3_bucket NAME: create the bucket; one that exists and is ours is fine.
s3_bucket() {
	local name="$1" code body
	body="$(mktemp)"
	code="$(s3 -o "$body" -w '%{http_code}' -X PUT "http://127.0.0.1:$S3_PORT/$name")" || code=000
	if [ "$code" = 200 ]; then
		log "s3: created bucket $name"
	elif ! grep -q 'BucketAlreadyOwnedByYou' "$body"; then
		local msg
		msg="$(cat "$body")"
		rm -f "$body"
		die "s3: cannot create bucket $name (HTTP $code): $msg"
	fi
	rm -f "$body"
}

s3_stop() {
	if [ ! -f "$MARKERS/versitygw" ]; then
		log "s3: not started by this project (left alone)"
		return
	fi
	if pid_alive "$VGW_PID" versitygw; then
		local pid
		pid="$(cat "$VGW_PID")"
		kill "$pid"
		wait_for 10 bash -c "! kill -0 $pid" || { log "s3: versitygw (pid $pid) ignored SIGTERM; killing"; kill -9 "$pid" || true; }
		log "s3: stopped versitygw (pid $pid)"
	else
		log "s3: versitygw was not running"
	fi
	rm -f "$VGW_PID" "$MARKERS/versitygw"
}

s3_status() {
	if s3_health; then
		local buckets
		buckets="$(s3 "http://127.0.0.1:$S3_PORT/" | grep -o '<Name>[^<]*</Name>' | sed 's/<[^>]*>//g' | paste -sd, -)" || true
		echo "s3         up    127.0.0.1:$S3_PORT  ($(owner versitygw); buckets: ${buckets:-none})"
	elif port_open "$S3_PORT"; then
		echo "s3         ?     127.0.0.1:$S3_PORT  (held by $(port_holder "$S3_PORT"), which does not answer S3 requests with our keys)"
	else
		echo "s3         down  127.0.0.1:$S3_PORT"
	fi
}

# ------------------------------------------------------------------ main

owner() {
	if [ -f "$MARKERS/$1" ]; then echo "started by offsite"; else echo "external"; fi
}

cmd_env() {
	cat <<-EOF
		export OFFSITE_REDIS_ADDR=127.0.0.1:$REDIS_PORT
		export OFFSITE_DATABASE_URL='$(pg_app_url "$PG_DB")'
		export OFFSITE_DATABASE_OWNER_URL='$(pg_url "$PG_DB")'
		export OFFSITE_TEST_DATABASE_URL='$(pg_url "$PG_TEST_DB")'
		export OFFSITE_TEST_DATABASE_APP_URL='$(pg_app_url "$PG_TEST_DB")'
		export OFFSITE_S3_ENDPOINT=127.0.0.1:$S3_PORT
		export OFFSITE_S3_ACCESS_KEY=$S3_ACCESS
		export OFFSITE_S3_SECRET_KEY=$S3_SECRET
		export OFFSITE_S3_REGION=$S3_REGION
		export OFFSITE_S3_BUCKET_CAPTURES=${S3_BUCKETS[0]}
		export OFFSITE_S3_BUCKET_EVIDENCE=${S3_BUCKETS[1]}
		export OFFSITE_S3_BUCKET_PROOFS=${S3_BUCKETS[2]}
	EOF
}

# locked CMD...: run CMD holding the state directory's lock (fd 9), so
# concurrent starts (make test and make demo at once) do not race. Daemons
# started under it get `9>&-`, or they would hold the lock forever.
locked() {
	mkdir -p "$STATE" "$MARKERS"
	exec 9>"$STATE/services.lock"
	if command -v flock >/dev/null; then
		flock -w 300 9 || die "could not lock $STATE/services.lock within 300 s"
	fi
	"$@"
}

start_all() {
	redis_start
	pg_start
	s3_start
	log "all services up (state in $STATE)"
}

stop_all() {
	s3_stop
	redis_stop
	pg_stop
}

case "${1:-}" in
start) locked start_all ;;
stop) locked stop_all ;;
status)
	redis_status
	pg_status
	s3_status
	;;
env) cmd_env ;;
*)
	echo "usage: $0 start|stop|status|env" >&2
	exit 2
	;;
esac
