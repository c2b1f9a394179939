#!/usr/bin/env bash
# test.sh: every test, against real services.
#
# Installs missing dependencies (scripts/deps.sh), starts the local services
# (scripts/services.sh start), then runs go vet and go test over the whole
# module with the OFFSITE_* variables of those services. The web interface's bundle is
# built first (scripts/web.sh), so that the api binary embeds it and its browser tests run.
# CI (CI=true) is passed
# through: with it, tests fail instead of skipping when a service is missing.
# Extra arguments go to `go test` (e.g. scripts/test.sh -run TestSlice).
set -euo pipefail
SCRIPT_NAME=test.sh
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT"

"$REPO_ROOT/scripts/deps.sh"
"$REPO_ROOT/scripts/services.sh" start
eval "$("$REPO_ROOT/scripts/services.sh" env)"
export CI="${CI:-}"
export CGO_ENABLED=1
"$REPO_ROOT/scripts/web.sh"

log "go vet ./..."
go vet ./...

log "go test -count=1 -timeout 30m ./... (CI=${CI:-unset})"
go test -count=1 -timeout 30m "$@" ./...
