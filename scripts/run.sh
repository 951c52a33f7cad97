#!/usr/bin/env bash
# `make run`: a local Redis, the database, demo data, the background processes (SMTP sink, RQ
# worker with its scheduler, outbox relay), then gunicorn on 127.0.0.1:8000 in the foreground.
# When gunicorn stops (Ctrl-C), the background processes are stopped too.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
export RETURNYARD_INSTANCE="${RETURNYARD_INSTANCE:-$PWD/instance}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export SMTP_HOST="${SMTP_HOST:-127.0.0.1}"
export SMTP_PORT="${SMTP_PORT:-8025}"
export PORT="${PORT:-8000}"  # the app derives PUBLIC_URL from it when that is unset
MAIL_SINK="${MAIL_SINK:-1}"
LOGS="$RETURNYARD_INSTANCE/logs"
mkdir -p "$LOGS"

"$BIN/python" -m devtools.localredis "$REDIS_URL" "$RETURNYARD_INSTANCE"
"$BIN/flask" --app wsgi db upgrade
"$BIN/flask" --app wsgi demo --if-empty --no-logins

BACKGROUND=()
GUNICORN=""
start_background() {
  local name=$1
  shift
  "$@" >>"$LOGS/$name.log" 2>&1 &
  BACKGROUND+=($!)
  printf '  %-9s pid %-7s log %s\n' "$name" "$!" "$LOGS/$name.log"
}
stop_background() {
  trap - EXIT INT TERM
  for pid in $GUNICORN "${BACKGROUND[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  wait "${BACKGROUND[@]}" 2>/dev/null || true
}
trap stop_background EXIT INT TERM

echo
echo "Background processes:"
if [[ "$MAIL_SINK" == "1" && "$SMTP_HOST" =~ ^(127\.0\.0\.1|localhost)$ ]]; then
  start_background mail-sink "$BIN/flask" --app wsgi mail-sink
  echo "            SMTP sink on $SMTP_HOST:$SMTP_PORT keeps every mail in $RETURNYARD_INSTANCE/mail/"
else
  echo "  (no mail sink: mail goes to $SMTP_HOST:$SMTP_PORT)"
fi
start_background worker "$BIN/flask" --app wsgi worker
start_background relay "$BIN/flask" --app wsgi relay
echo "            worker and relay use Redis at $REDIS_URL"

echo
echo "Returnyard runs at http://127.0.0.1:$PORT/  (mail: /mailbox, jobs: /jobs, health: /healthz)"
"$BIN/flask" --app wsgi demo-logins
echo
# gunicorn runs as a child we wait for, so a TERM to this script reaches the trap at once.
"$BIN/gunicorn" --bind "127.0.0.1:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - wsgi:app &
GUNICORN=$!
wait "$GUNICORN"
