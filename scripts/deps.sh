#!/usr/bin/env bash
# deps.sh: install the Debian packages Offsite needs, when they are missing.
#
# Idempotent: when everything is installed it only asks dpkg and returns in
# well under a second. As root it runs apt-get (update only when something is
# missing); otherwise it prints the exact command to run and exits 1.
#
# Needs: GDAL (tools and headers, for godal through cgo), a C/C++ toolchain and
# pkg-config (cgo), Redis, PostgreSQL with PostGIS 3 for the installed major
# version, python3-rasterio (benchmarks), wrk, curl, make, git; Node.js and npm (the web
# interface's bundle; Vite 6 needs Node >= 18, as Debian 12 has; scripts/web.sh checks) and Chromium
# with a CJK font (the interface's browser tests and their screenshots); a TrueType CJK font with
# Latin letters for the PDF case files (fonts-lxgw-wenkai) and pdftotext (poppler-utils) for
# their tests.
set -euo pipefail
SCRIPT_NAME=deps.sh
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BASE_PKGS=(
	gdal-bin libgdal-dev
	gcc g++ pkg-config make git
	redis-server
	postgresql
	python3-rasterio
	wrk curl ca-certificates
	nodejs chromium fonts-wqy-microhei
	fonts-lxgw-wenkai poppler-utils
)

# missing PKG...: prints the packages that are not installed.
missing() {
	local p status
	for p in "$@"; do
		status="$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)"
		[ "$status" = "install ok installed" ] || printf '%s\n' "$p"
	done
}

# postgis_pkg prints the PostGIS package for the installed PostgreSQL major,
# or for the major the `postgresql` package would install (read from the
# local apt lists, no network), or nothing.
postgis_pkg() {
	local major
	major="$(pg_major)"
	if [ -z "$major" ]; then
		major="$(apt-cache depends postgresql 2>/dev/null |
			sed -n 's/^ *Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -n1)"
	fi
	[ -n "$major" ] && printf 'postgresql-%s-postgis-3' "$major"
}

apt_install() {
	log "installing: $*"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

main() {
	command -v dpkg-query >/dev/null || die "this script supports Debian/Ubuntu (dpkg) only"

	local pkgs=("${BASE_PKGS[@]}") postgis todo
	postgis="$(postgis_pkg || true)"
	[ -n "$postgis" ] && pkgs+=("$postgis")
	# NodeSource's nodejs carries npm; Debian's does not.
	command -v npm >/dev/null || pkgs+=(npm)
	mapfile -t todo < <(missing "${pkgs[@]}")

	if [ "${#todo[@]}" -eq 0 ] && [ -n "$postgis" ]; then
		log "all dependencies present (PostgreSQL $(pg_major), ${postgis})"
		return 0
	fi

	if ! is_root; then
		# Without PostgreSQL and without apt lists we cannot know the
		# major version; the postgresql-postgis metapackage picks the
		# default one.
		[ -z "$postgis" ] && todo+=(postgresql-postgis)
		printf '%s: missing packages: %s\n' "$SCRIPT_NAME" "${todo[*]}" >&2
		printf 'Run this, then try again:\n\n  sudo apt-get update && sudo apt-get install -y --no-install-recommends %s\n\n' "${todo[*]}" >&2
		exit 1
	fi

	log "missing: ${todo[*]:-(PostGIS for PostgreSQL)}"
	apt-get update -qq
	if [ "${#todo[@]}" -gt 0 ]; then
		apt_install "${todo[@]}"
	fi

	# PostgreSQL may just have been installed: PostGIS must match its major.
	postgis="$(postgis_pkg || true)"
	[ -n "$postgis" ] || die "PostgreSQL is not installed under /usr/lib/postgresql after installing postgresql"
	mapfile -t todo < <(missing "$postgis")
	if [ "${#todo[@]}" -gt 0 ]; then
		apt_install "${todo[@]}"
	fi
	log "dependencies installed (PostgreSQL $(pg_major), ${postgis})"
}

main "$@"
