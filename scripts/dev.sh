#!/usr/bin/env bash
# make dev: install, build, make sure Postgres and NATS run, start taskorch all-in-one
# (scheduler + coordinator + worker in one process) and show a task succeed. Ctrl-C stops it.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
[ -d node_modules ] || npm ci --no-audit --no-fund || npm install --no-audit --no-fund
npm run --silent build
bash scripts/infra.sh up
DB_NAME="${DEV_DATABASE:-taskorch}"
psql_url="postgres://postgres@127.0.0.1:5432/postgres"
node -e '
const pg = require("pg");
const c = new pg.Client({ connectionString: process.argv[1] });
c.connect().then(() => c.query("SELECT 1 FROM pg_database WHERE datname = $1", [process.argv[2]]))
 .then((r) => r.rowCount ? null : c.query(`CREATE DATABASE ${process.argv[2]}`))
 .then(() => c.end()).catch((e) => { console.error("dev: cannot create database:", e.message); process.exit(1); });
' "$psql_url" "$DB_NAME"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/$DB_NAME}"
export METRICS_PORT="${METRICS_PORT:-9090}"
node services/all-in-one/dist/cli.js all-in-one &
PID=$!
trap 'kill -TERM $PID 2>/dev/null; wait $PID' INT TERM EXIT
node scripts/demo.mjs "127.0.0.1:${GRPC_PORT:-50051}"
echo
echo "taskorch is running: gRPC 127.0.0.1:${GRPC_PORT:-50051} (scheduler), 127.0.0.1:50052 (coordinator),"
echo "metrics and health on http://127.0.0.1:$METRICS_PORT/metrics and /health. Ctrl-C stops it."
wait $PID
