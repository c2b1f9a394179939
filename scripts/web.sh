#!/usr/bin/env bash
# web.sh: build the web interface's bundle into internal/webui/dist/app, which cmd/api
# embeds with go:embed.
#
# Runs `npm ci` in web/ when node_modules is missing or older than package-lock.json, and
# the Vite build when a source is newer than the bundle (or the bundle is missing), so a
# second run with nothing changed returns at once. Needs Node >= 18 (Vite 6; Debian 12's
# nodejs is 18) and npm;
# scripts/deps.sh installs them. `web.sh --force` rebuilds regardless.
set -euo pipefail
SCRIPT_NAME=web.sh
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$REPO_ROOT/web"

command -v node >/dev/null && command -v npm >/dev/null ||
	die "node and npm are required to build the web interface (scripts/deps.sh installs them)"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' ||
	die "Node $(node --version) is too old for Vite 6: it needs >= 18"

out="$REPO_ROOT/internal/webui/dist/app/index.html"
force="${1:-}"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	log "npm ci"
	npm ci --no-audit --no-fund --loglevel=error
	force=--force
fi

if [ "$force" = --force ] || [ ! -f "$out" ] ||
	[ -n "$(find index.html vite.config.ts tsconfig.json package.json src -newer "$out" -print -quit)" ]; then
	log "building the bundle (tsc + vite)"
	npm run --silent build
else
	log "bundle up to date"
fi
