#!/usr/bin/env bash
# bench-survey: the sentinel2 pipeline on a pair of 3000x3000 scenes with 500 parcels, in
# local mode and from the first upload through the API, the queue and a worker on the local
# services to the last finding (arrival to evidence); then a survey with one and with two
# worker processes. Prints them side by side with the load average. Generated scenes are
# kept in .state/bench-survey. Arguments go to cmd/benchsurvey (bench-survey-s2 passes a
# Sentinel-2-sized pair: -size 10980 -bands 10 -parcels 10000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/services.sh start
eval "$(bash scripts/services.sh env)"
run="${OFFSITE_STATE_DIR:-.state}/bench-survey"
mkdir -p "$run"
# BENCH_SURVEY_SLOT (0, 1, ...) lets two runs go at once (bench-survey beside the long
# bench-survey-s2): each slot has its own ports, logs and Redis database.
slot=${BENCH_SURVEY_SLOT:-0}
api_port=$((18081 + 10 * slot)) metrics_port=$((19092 + 10 * slot))
export OFFSITE_LISTEN_ADDR=127.0.0.1:$api_port OFFSITE_WORKER_METRICS_ADDR=127.0.0.1:$metrics_port
# A Redis database of its own (12, 11, ... by slot): its workers run this run's tasks only,
# not what other programs left queued in the demo's database 0 (a run once began by working
# off 10,000 queued monitoring analyses of bench-monitoring's receiver).
export OFFSITE_REDIS_DB=$((12 - slot))
# The token seeds the account "bench-survey" once (accounts outlive a run): it is kept here.
[ -s "$run/bench.token" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$run/bench.token")
token=$(cat "$run/bench.token")
printf '[{"sha256": "%s", "name": "bench-survey", "role": "analyst"}]\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" >"$run/tokens.json"
export OFFSITE_API_TOKENS_FILE="$run/tokens.json" OFFSITE_DEMO_TOKEN="$token"
# The audit log is sealed with a key kept outside the database. The bench runs on the same
# database as the demo, so it uses the demo's key (made once, kept in the state directory): a
# key of its own would leave entries the demo's verify cannot check.
state="${OFFSITE_STATE_DIR:-.state}"
if [ ! -s "$state/audit.key" ]; then
	(umask 077 && printf 'demo:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$state/audit.key")
fi
export OFFSITE_AUDIT_KEY_FILE="$state/audit.key"
make --no-print-directory build
go build -o "$run/benchsurvey-$slot" ./cmd/benchsurvey
pids=()
trap 'for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait' EXIT
bin/api >"$run/api-$slot.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -fsS "http://$OFFSITE_LISTEN_ADDR/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
# benchsurvey starts the worker processes itself (metrics on the slot's port and the next).
"$run/benchsurvey-$slot" -api "http://$OFFSITE_LISTEN_ADDR" -metrics-port "$metrics_port" -worker bin/worker -dir "$run" "$@"
