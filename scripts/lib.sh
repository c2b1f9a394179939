# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; do not run it.

# REPO_ROOT is the repository root (the parent of scripts/).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT

log() { printf '%s: %s\n' "${SCRIPT_NAME:-offsite}" "$*" >&2; }
die() { printf '%s: error: %s\n' "${SCRIPT_NAME:-offsite}" "$*" >&2; exit 1; }

is_root() { [ "$(id -u)" -eq 0 ]; }

# pg_major prints the highest PostgreSQL major version installed from Debian
# packages (from /usr/lib/postgresql/<major>/bin/postgres), or nothing.
pg_major() {
	local d v best=""
	for d in /usr/lib/postgresql/*/bin/postgres; do
		[ -x "$d" ] || continue
		v="${d#/usr/lib/postgresql/}"
		v="${v%%/*}"
		if [ -z "$best" ] || [ "$v" -gt "$best" ]; then best="$v"; fi
	done
	printf '%s' "$best"
}

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
	timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# port_holder PORT prints "pid N, cmd ..." for the process listening on
# 127.0.0.1:PORT (or on all addresses), when it can be found.
port_holder() {
	local port="$1" line pid cmd
	if command -v ss >/dev/null 2>&1; then
		line="$(ss -Hltnp "sport = :$port" 2>/dev/null | head -n1)"
		pid="$(printf '%s' "$line" | sed -n 's/.*pid=\([0-9]*\).*/\1/p')"
	fi
	if [ -z "${pid:-}" ] && command -v fuser >/dev/null 2>&1; then
		pid="$(fuser -n tcp "$port" 2>/dev/null | awk '{print $1}')"
	fi
	if [ -z "${pid:-}" ]; then
		printf 'pid unknown, cmd unknown'
		return
	fi
	cmd="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | sed 's/ *$//')"
	printf 'pid %s, cmd %s' "$pid" "${cmd:-unknown}"
}

# pid_alive PIDFILE [PATTERN]: true when PIDFILE names a live process whose
# command line contains PATTERN (when given).
pid_alive() {
	local pidfile="$1" pattern="${2:-}" pid
	[ -s "$pidfile" ] || return 1
	pid="$(cat "$pidfile")"
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	if [ -n "$pattern" ]; then
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$pattern" || return 1
	fi
}

# wait_for SECONDS CMD...: run CMD every 0.2 s until it succeeds or time runs out.
wait_for() {
	local secs="$1" i=0
	shift
	while ! "$@" >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -ge $((secs * 5)) ] && return 1
		sleep 0.2
	done
}
