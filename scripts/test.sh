#!/usr/bin/env bash
# test.sh: every test, against real services.
#
# Installs missing dependencies (scripts/deps.sh), starts the local services
# (scripts/services.sh start), then checks that go.mod and tools/go.mod are tidy,
# runs go vet and staticcheck (built from tools/go.mod into .state/bin), and go
# test over the whole module with the OFFSITE_* variables of those services:
# all but e2e and webui with the race detector. The web interface's bundle is
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

log "go mod tidy -diff (the main module and tools/)"
go mod tidy -diff || die "go.mod/go.sum are not tidy: run go mod tidy"
(cd tools && go mod tidy -diff) || die "tools/go.mod/go.sum are not tidy: run (cd tools && go mod tidy)"

log "go vet ./..."
go vet ./...

# staticcheck is pinned in tools/go.mod, built like versitygw (scripts/services.sh) and
# rebuilt only when tools/go.sum is newer than the binary.
STATICCHECK="${OFFSITE_STATE_DIR:-$REPO_ROOT/.state}/bin/staticcheck"
if ! [ -x "$STATICCHECK" ] || ! [ "$STATICCHECK" -nt "$REPO_ROOT/tools/go.sum" ]; then
	log "building staticcheck (tool of tools/go.mod) into $STATICCHECK"
	mkdir -p "$(dirname "$STATICCHECK")"
	(cd "$REPO_ROOT/tools" && go build -o "$STATICCHECK.tmp" honnef.co/go/tools/cmd/staticcheck)
	mv -f "$STATICCHECK.tmp" "$STATICCHECK"
fi
log "staticcheck ./..."
"$STATICCHECK" ./...

# Every package runs under the race detector but these: e2e drives the built binaries for
# 3-6 minutes without it, and webui's tests drive a browser. The others take about 11
# minutes under -race one after another on 2 busy cores (postgres 93 s, httpapi 94 s,
# raster 69 s, geo 60 s, process 47 s; about 5 minutes as go test runs them two at a time).
NO_RACE=(internal/e2e internal/webui)
RACE_PKGS=()
OTHER_PKGS=()
while read -r pkg; do
	case " ${NO_RACE[*]} " in
	*" ${pkg#github.com/offsite/offsite/} "*) OTHER_PKGS+=("$pkg") ;;
	*) RACE_PKGS+=("$pkg") ;;
	esac
done < <(go list ./...)

log "go test -race -count=1 -timeout 30m on ${#RACE_PKGS[@]} packages (CI=${CI:-unset})"
go test -race -count=1 -timeout 30m "$@" "${RACE_PKGS[@]}"

log "go test -count=1 -timeout 30m ${OTHER_PKGS[*]} (CI=${CI:-unset})"
go test -count=1 -timeout 30m "$@" "${OTHER_PKGS[@]}"
