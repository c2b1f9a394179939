#!/usr/bin/env bash
# bench-monitoring: the HJ 212 receiver under simulated data loggers over real TCP (see
# cmd/benchmonitoring): connections held, receiver RSS per idle connection, sustained
# acknowledged frames/s with p99 ack latency, and ingest rows/s beside PostgreSQL COPY of the
# same rows, all in one run on a fresh database (offsite_bench_monitoring).
#
# Environment: the OFFSITE_* variables of scripts/services.sh; BENCH_CONNS [10000],
# BENCH_RATE [5000], BENCH_SECONDS [30], BENCH_SATURATE [15], BENCH_PORT [19212],
# BENCH_IDLE_WAIT [130] (seconds idle before RSS per connection is read), BENCH_DIR
# [.state/bench-monitoring], BENCH_PROFILE (a file: CPU profile of the receiver while
# saturated), BENCH_TRACE (a file: a 5 s execution trace of the receiver from the middle of the
# sustained phase, for go tool trace).
set -euo pipefail
cd "$(dirname "$0")/.."
SCRIPT_NAME=bench-monitoring.sh
# shellcheck source=scripts/lib.sh
. scripts/lib.sh

eval "$(scripts/services.sh env)"
CONNS=${BENCH_CONNS:-10000}
DIR=${BENCH_DIR:-.state/bench-monitoring}
PORT=${BENCH_PORT:-19212}
mkdir -p "$DIR"

# Each side of CONNS connections needs a descriptor per connection, and some to spare.
need=$((CONNS + 1000))
if [ "$(ulimit -n)" -lt "$need" ]; then
	ulimit -n "$need" 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fi
[ "$(ulimit -n)" -ge "$need" ] || die "ulimit -n is $(ulimit -n), the hard limit $(ulimit -Hn); $CONNS connections need $need (raise the hard limit, or set BENCH_CONNS)"
port_open "$PORT" && die "port $PORT is in use; set BENCH_PORT"

# The receiver queues the monitoring analysis of each MN-hour it stores: here into a Redis
# database of the bench's own (10), emptied before and after the run, so that no worker on the
# demo's database 0 is left 10,000 analyses of simulated loggers to run.
export OFFSITE_REDIS_DB=10
flush_queue() { redis-cli -h "${OFFSITE_REDIS_ADDR%:*}" -p "${OFFSITE_REDIS_ADDR##*:}" -n "$OFFSITE_REDIS_DB" flushdb >/dev/null; }
flush_queue
trap flush_queue EXIT

go build -o "$DIR/receiver" ./cmd/receiver
go build -o "$DIR/benchmonitoring" ./cmd/benchmonitoring
"$DIR/benchmonitoring" -receiver "$DIR/receiver" -dir "$DIR" -addr "127.0.0.1:$PORT" -conns "$CONNS" \
	-rate "${BENCH_RATE:-5000}" -duration "${BENCH_SECONDS:-30}s" -saturate "${BENCH_SATURATE:-15}s" \
	-idle-wait "${BENCH_IDLE_WAIT:-130}s" ${BENCH_PROFILE:+-profile "$BENCH_PROFILE"} ${BENCH_TRACE:+-trace "$BENCH_TRACE"}
