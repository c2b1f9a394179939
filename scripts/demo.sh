#!/usr/bin/env bash
# The demo survey, end to end on local services: installs what is missing, starts Redis,
# PostgreSQL+PostGIS and the S3 gateway when they are not running, builds and starts the api
# and a worker, then runs cmd/demo: a generated 4-band UTM scene and six parcels go through
# the API, the queue and the worker, and a table of clips is printed. Exits 0 only if every
# parcel was clipped. The api and worker it started are stopped on exit; services stay up
# (`make services-stop` stops those the project started).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/deps.sh
bash scripts/services.sh start
eval "$(bash scripts/services.sh env)"

state=${OFFSITE_STATE_DIR:-$root/.state}
run="$state/demo"
mkdir -p "$run"

# Ports of their own, so a dev api on 8080 does not collide with the demo.
export OFFSITE_LISTEN_ADDR=${OFFSITE_DEMO_LISTEN_ADDR:-127.0.0.1:18080}
export OFFSITE_WORKER_METRICS_ADDR=${OFFSITE_DEMO_METRICS_ADDR:-127.0.0.1:19091}
# The HJ 212 receiver the demo's data loggers connect to, and its /metrics.
export OFFSITE_RECEIVER_ADDR=${OFFSITE_DEMO_RECEIVER_ADDR:-127.0.0.1:18212}
export OFFSITE_RECEIVER_METRICS_ADDR=${OFFSITE_DEMO_RECEIVER_METRICS_ADDR:-127.0.0.1:18213}
for addr in "$OFFSITE_LISTEN_ADDR" "$OFFSITE_WORKER_METRICS_ADDR" "$OFFSITE_RECEIVER_ADDR" "$OFFSITE_RECEIVER_METRICS_ADDR"; do
  if (exec 3<>"/dev/tcp/${addr%:*}/${addr##*:}") 2>/dev/null; then
    echo "demo: $addr is already in use; set OFFSITE_DEMO_LISTEN_ADDR / OFFSITE_DEMO_METRICS_ADDR to free ports" >&2
    exit 1
  fi
done

# The API admits no one without an account: the token file seeds the analyst "demo" the
# first time (accounts live in PostgreSQL, which outlives a run), so its token is kept in the
# state directory; the file holds only its SHA-256.
mkdir -p "$state"
[ -s "$state/demo.token" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$state/demo.token")
token=$(cat "$state/demo.token")
sum=$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)
printf '[{"sha256": "%s", "name": "demo", "role": "analyst"}]\n' "$sum" >"$run/tokens.json"
export OFFSITE_API_TOKENS_FILE="$run/tokens.json"
export OFFSITE_DEMO_TOKEN="$token"

# The audit log is sealed with a key kept outside the database. The demo makes one once and
# keeps it in the state directory: entries sealed on earlier runs must verify on later ones.
if [ ! -s "$state/audit.key" ]; then
  (umask 077 && printf 'demo:%s\n' "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$state/audit.key")
fi
export OFFSITE_AUDIT_KEY_FILE="$state/audit.key"

echo "== building"
make --no-print-directory build

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

echo "== starting api ($OFFSITE_LISTEN_ADDR), worker and receiver ($OFFSITE_RECEIVER_ADDR); logs in $run/"
bin/api >"$run/api.log" 2>&1 &
pids+=($!)
bin/worker >"$run/worker.log" 2>&1 &
pids+=($!)

for i in $(seq 1 100); do
  if curl -fsS "http://$OFFSITE_LISTEN_ADDR/healthz" >/dev/null 2>&1; then break; fi
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "demo: a process exited at start; last log lines:" >&2
      tail -n 20 "$run/api.log" "$run/worker.log" >&2
      exit 1
    fi
  done
  sleep 0.2
done
curl -fsS "http://$OFFSITE_LISTEN_ADDR/healthz" >/dev/null || {
  echo "demo: api not healthy:" >&2; curl -sS "http://$OFFSITE_LISTEN_ADDR/healthz" >&2 || true; exit 1; }
# The receiver does not migrate: it starts once the api has brought the schema up to date.
bin/receiver serve >"$run/receiver.log" 2>&1 &
pids+=($!)
for i in $(seq 1 50); do
  curl -fsS "http://$OFFSITE_RECEIVER_METRICS_ADDR/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://$OFFSITE_RECEIVER_METRICS_ADDR/healthz" >/dev/null || {
  echo "demo: receiver not healthy; last log lines:" >&2; tail -n 20 "$run/receiver.log" >&2; exit 1; }

echo "== demo survey"
# The simulated data loggers send their HJ 212 frames to the receiver started above.
go run ./cmd/demo -api "http://$OFFSITE_LISTEN_ADDR" -dir "$run/data" -receiver "$OFFSITE_RECEIVER_ADDR"

echo "== verifying every stored artifact against its recorded SHA-256"
bin/worker verify
