#!/usr/bin/env bash
# `make run`: a local Redis, the database, demo data, then gunicorn on 127.0.0.1:8000.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export RETURNYARD_INSTANCE="${RETURNYARD_INSTANCE:-$PWD/instance}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
PORT="${PORT:-8000}"
mkdir -p "$RETURNYARD_INSTANCE/logs"

"$BIN/python" -m stations.localredis "$REDIS_URL" "$RETURNYARD_INSTANCE"
"$BIN/flask" --app wsgi db upgrade
"$BIN/flask" --app wsgi demo --if-empty

echo
echo "Returnyard runs at http://127.0.0.1:$PORT/"
"$BIN/flask" --app wsgi demo-logins
echo
exec "$BIN/gunicorn" --bind "127.0.0.1:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - wsgi:app
