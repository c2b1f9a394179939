#!/usr/bin/env bash
# bench-api: the evidence-per-enterprise and public list routes under load, against a
# database of 20,000 enterprises with one parcel each, 200,000 findings and 200,000 clips
# (10 captures × 20,000 parcels), every third enterprise listed. Each evidence answer holds
# the parcel, its 10 findings (geometry, provenance, artifacts) and its 10 clips with 20
# presigned download links, and its view is appended to the audit log before it is sent.
#
# Two load generators:
#   wrk (Debian package wrk): closed loop, BENCH_CONNS connections for BENCH_SECONDS; the
#       throughput the API sustains and its latency at that load;
#   benchapi load: open loop at BENCH_RATE requests per second, latency counted from each
#       request's due time, so queueing shows (targets: p99 < 50 ms and max < 500 ms at 1,000 rps).
#
# The open loop is run first against a baseline build (BENCH_BASELINE, a git revision: by
# default the API before the hand-written evidence encoder, the two-round-trip group commit and
# the auth cache), then against the working tree's build, and the two are printed side by side
# with the load average (the machine is shared), the targets (p99 < 50 ms, max < 500 ms) and
# the CPU time per request of the API process, of the PostgreSQL backends serving it and of the
# load generator, with ratios to the baseline: CPU per request hardly moves with the others'
# load, latency does. Then the audit chain the runs appended to is verified with the API's key.
#
# Environment: the OFFSITE_* variables of scripts/services.sh; BENCH_DB [offsite_bench]
# (kept between runs; BENCH_FRESH=1 reseeds), BENCH_PORT [18089], BENCH_SECONDS [20],
# BENCH_CONNS [32], BENCH_RATE [1000], BENCH_POOL [16] (database connections of the API),
# BENCH_DIR [.state/bench-api], BENCH_BASELINE [58c3c6a…; empty: no baseline run; its database
# is BENCH_DB_baseline],
# BENCH_WRK [1] (0: skip the closed-loop wrk runs), BENCH_PROFILE [0] (1: profile this tree's
# open loop: the API's CPU profile to BENCH_DIR/api-cpu.pprof through OFFSITE_API_PPROF_ADDR,
# `go tool pprof -top BENCH_DIR/api BENCH_DIR/api-cpu.pprof`; with perf installed, the
# PostgreSQL backends' to BENCH_DIR/pg-perf.data, `perf report -i BENCH_DIR/pg-perf.data`; and
# the CPU time of every process on the machine over the run, BENCH_DIR/processes-cpu.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT_NAME=bench-api.sh
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

eval "$(scripts/services.sh env)"
DB=${BENCH_DB:-offsite_bench}
PORT=${BENCH_PORT:-18089}
SECS=${BENCH_SECONDS:-20}
CONNS=${BENCH_CONNS:-32}
RATE=${BENCH_RATE:-1000}
BASELINE=${BENCH_BASELINE-58c3c6a51b59564289f9ae7ee8b5ca31c2871e92}
DIR=${BENCH_DIR:-.state/bench-api}
command -v wrk >/dev/null || die "wrk not found: apt-get install wrk"
mkdir -p "$DIR"

go build -o "$DIR/api" ./cmd/api
go build -o "$DIR/benchapi" ./cmd/benchapi

fresh=()
[ "${BENCH_FRESH:-0}" = 1 ] && fresh=(-fresh)
DBURL=$("$DIR/benchapi" seed -db "$DB" "${fresh[@]}" -uscc-out "$DIR/uscc.txt")
PGURL=$DBURL # the load generator lists the API's backends with it (their CPU time)
# pgxpool's default pool is max(4, CPUs) connections; the API under load wants more.
DBURL="$DBURL&pool_max_conns=${BENCH_POOL:-16}"

# The token seeds the account "bench" once (accounts outlive a run): it is kept with the
# bench database.
[ -s "$DIR/bench.token" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$DIR/bench.token")
TOKEN=$(cat "$DIR/bench.token")
SHA=$(printf '%s' "$TOKEN" | sha256sum | cut -d' ' -f1)
printf '[{"sha256": "%s", "name": "bench", "role": "inspector"}]\n' "$SHA" >"$DIR/tokens.json"

# The audit key (evidence views are audited), kept with the bench database between runs.
[ -s "$DIR/audit.key" ] || (umask 077 && printf 'bench:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$DIR/audit.key")

port_open "$PORT" && die "port $PORT is in use; set BENCH_PORT"
API_PID=
stop_api() {
	[ -n "$API_PID" ] || return 0
	kill "$API_PID" 2>/dev/null || true
	wait "$API_PID" 2>/dev/null || true
	API_PID=
}
trap stop_api EXIT
PPROF_ADDR=
[ "${BENCH_PROFILE:-0}" = 1 ] && PPROF_ADDR="127.0.0.1:$((PORT + 1))"
# start_api BINARY [DATABASE_URL]: runs the API on the bench database (or the one given) and
# waits for /healthz. The signed heads of the audit chain (a checkpoint every 100 views) go to
# an evidence bucket of that database's own, named by its oid (a reseeded database, a new
# chain, gets a new one): in the shared bucket, the heads of earlier bench databases and of the
# tests refused each checkpoint ("entries were deleted", "a different head is stored"), and
# each refusal listed every head in the bucket again, costing both the API and the gateway.
start_api() {
	local oid
	oid=$(psql -X -q -t -A "$(url="${2:-$DBURL}"; echo "${url%%&pool_max_conns=*}")" -c "SELECT oid FROM pg_database WHERE datname = current_database()")
	OFFSITE_S3_BUCKET_EVIDENCE="offsite-bench-$oid" \
	OFFSITE_API_PPROF_ADDR="$PPROF_ADDR" OFFSITE_DATABASE_URL="${2:-$DBURL}" OFFSITE_DATABASE_OWNER_URL= OFFSITE_AUDIT_KEY_FILE="$DIR/audit.key" \
		OFFSITE_LISTEN_ADDR="127.0.0.1:$PORT" OFFSITE_LOG_LEVEL=warn \
		OFFSITE_API_TOKENS_FILE="$DIR/tokens.json" "$1" 2>"$DIR/api.log" &
	API_PID=$!
	for _ in $(seq 100); do
		curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	curl -fsS "http://127.0.0.1:$PORT/healthz" >/dev/null || die "the API ($1) did not start; see $DIR/api.log"
}

BASE="http://127.0.0.1:$PORT"
# wrk script: random enterprise per request, bearer token.
cat >"$DIR/evidence.lua" <<LUA
local usccs = {}
for line in io.lines("$DIR/uscc.txt") do usccs[#usccs + 1] = line end
math.randomseed(42)
wrk.headers["Authorization"] = "Bearer $TOKEN"
request = function()
  return wrk.format("GET", "/api/v1/enterprises/" .. usccs[math.random(#usccs)] .. "/evidence")
end
LUA
cat >"$DIR/public.lua" <<LUA
math.randomseed(42)
request = function()
  return wrk.format("GET", "/public/positive-list?limit=100&offset=" .. math.random(0, 6600))
end
LUA

RESULTS="$DIR/open-loop.jsonl"
: >"$RESULTS"
# open_loop LABEL [DATABASE]: the evidence route at RATE, open loop; its JSON line goes to
# RESULTS too.
open_loop() {
	# Warm up at the rate measured: the API's database connections are new, and a new
	# backend faults in the pages of shared memory it touches (perf: a tenth of the backends'
	# CPU in page faults after 3 s at 200 rps), which a long-running API's have done.
	"$DIR/benchapi" load -url "$BASE" -token "$TOKEN" -uscc "$DIR/uscc.txt" -rate "$RATE" -duration 5s >/dev/null
	echo "== $1: open loop at $RATE rps for ${SECS}s, GET /api/v1/enterprises/{uscc}/evidence (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	PROFILE_PID=
	if [ -n "$PPROF_ADDR" ] && [ "${3:-}" = profile ]; then
		profile "${2:-$DB}" &
		PROFILE_PID=$!
	fi
	"$DIR/benchapi" load -label "$1" -cpu-pid "$API_PID" -pg-url "$PGURL" -pg-db "${2:-$DB}" -url "$BASE" -token "$TOKEN" -uscc "$DIR/uscc.txt" -rate "$RATE" -duration "${SECS}s" \
		-path-template '/api/v1/enterprises/%s/evidence' | tee -a "$RESULTS"
}

# profile DATABASE: the profiles of BENCH_PROFILE over the open loop but its first and last
# two seconds.
profile() {
	local secs=$((SECS > 6 ? SECS - 4 : SECS))
	sleep 2
	curl -fsS -o "$DIR/api-cpu.pprof" "http://$PPROF_ADDR/debug/pprof/profile?seconds=$secs" &
	if command -v perf >/dev/null; then
		pids=$(psql -X -q -t -A "$PGURL" -c "SELECT string_agg(pid::text, ',') FROM pg_stat_activity WHERE datname = '$1' AND pid <> pg_backend_pid()")
		[ -n "$pids" ] && perf record -q -F 499 -g -p "$pids" -o "$DIR/pg-perf.data" -- sleep "$secs" >/dev/null 2>&1 &
	fi
	# Every process's CPU time (utime + stime, clock ticks) before and after, by command name;
	# the database's commits and the server's WAL (records, full-page images, bytes, syncs).
	local before after stats
	before=$(mktemp) after=$(mktemp)
	stats="SELECT xact_commit, wal_records, wal_fpi, wal_bytes, wal_sync FROM pg_stat_database, pg_stat_wal WHERE datname = '$1'"
	read -r c0 r0 f0 b0 s0 < <(psql -X -q -t -A -F ' ' "$PGURL" -c "$stats")
	for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null || true; echo; done >"$before"
	sleep "$secs"
	for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null || true; echo; done >"$after"
	read -r c1 r1 f1 b1 s1 < <(psql -X -q -t -A -F ' ' "$PGURL" -c "$stats")
	echo "over ${secs}s: $(((c1 - c0) / secs)) commits/s, WAL $(((r1 - r0) / secs)) records/s, $(((f1 - f0) / secs)) full-page images/s, $(((b1 - b0) / secs / 1024)) KiB/s, $(((s1 - s0) / secs)) syncs/s" >"$DIR/pg-stats.txt"
	awk -v secs="$secs" -v hz="$(getconf CLK_TCK)" '
		# pid (comm) state ppid ...: utime and stime are the 12th and 13th fields after comm.
		FNR == 1 { file++ }
		/^[0-9]/ {
			lp = index($0, "("); rp = match($0, /\) [A-Z] /)
			pid = substr($0, 1, lp - 2); comm = substr($0, lp + 1, rp - lp - 1)
			split(substr($0, rp + 2), f, " "); ticks = f[12] + f[13]
			if (file == 1) { t0[pid] = ticks } else if ((d = ticks - (pid in t0 ? t0[pid] : 0)) > 0) { used[comm] += d }
		}
		END { for (c in used) printf "%8.2f s  %5.1f%% of a core  %s\n", used[c] / hz, 100 * used[c] / hz / secs, c }' "$before" "$after" |
		sort -rn >"$DIR/processes-cpu.txt"
	rm -f "$before" "$after"
	wait || true # curl and perf: a profile that failed is missing, the run goes on
}

if [ -n "$BASELINE" ]; then
	rev=$(git rev-parse --short "$BASELINE^{commit}") || die "BENCH_BASELINE $BASELINE is not a commit"
	src=$(mktemp -d) # outside the tree: gofmt and go vet ./... must not see it
	git archive "$rev" | tar -x -C "$src"
	out="$(cd "$DIR" && pwd)"
	(cd "$src" && go build -o "$out/api-baseline" ./cmd/api && go build -o "$out/benchapi-baseline" ./cmd/benchapi)
	rm -rf "$src"
	# The baseline runs on a database of its own, seeded and migrated by its own benchapi:
	# on this tree's schema it would have this tree's indexes (0110 gives its statements
	# generic plans too).
	BDB="${DB}_baseline"
	BDBURL=$("$DIR/benchapi-baseline" seed -db "$BDB" "${fresh[@]}" -uscc-out "$DIR/uscc-baseline.txt")
	cmp -s "$DIR/uscc.txt" "$DIR/uscc-baseline.txt" || die "the baseline seeded other enterprises"
	start_api "$DIR/api-baseline" "$BDBURL&pool_max_conns=${BENCH_POOL:-16}"
	open_loop "baseline $rev" "$BDB"
	stop_api
fi
start_api "$DIR/api"
open_loop "this tree $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- . 2>/dev/null || echo +dirty)" "$DB" profile
if [ -n "$PROFILE_PID" ]; then
	wait "$PROFILE_PID" || true
	echo "== profiles: $DIR/api-cpu.pprof, $DIR/pg-perf.data; the database $(cat "$DIR/pg-stats.txt"); CPU time by process over the run ($DIR/processes-cpu.txt):"
	head -12 "$DIR/processes-cpu.txt"
fi

if [ "${BENCH_WRK:-1}" = 1 ]; then
echo "== wrk: GET /api/v1/enterprises/{uscc}/evidence ($CONNS connections, ${SECS}s)"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$DIR/evidence.lua" "$BASE" | sed -n '/Thread Stats/,$p'
echo "== wrk: GET /public/positive-list?limit=100&offset=N ($CONNS connections, ${SECS}s)"
wrk -t2 -c"$CONNS" -d"${SECS}s" --latency -s "$DIR/public.lua" "$BASE" | sed -n '/Thread Stats/,$p'
fi

echo "== open loop at $RATE rps for ${SECS}s, GET /public/positive-list?limit=100&offset=N (load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$DIR/benchapi" load -url "$BASE" -rate "$RATE" -duration "${SECS}s" -max-offset 6600 \
	-path-template '/public/positive-list?limit=100&offset=%d'

echo "== the audit chain after the runs (every evidence view is an entry)"
"$DIR/benchapi" verify -db-url "$PGURL" -audit-key-file "$DIR/audit.key"

echo "== evidence route, open loop at $RATE rps: side by side (ratios against the first line)"
"$DIR/benchapi" table -p99 50ms -max 500ms <"$RESULTS"
