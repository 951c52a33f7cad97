#!/usr/bin/env bash
# `make run`: the database, demo data, then every process the app needs under one supervisor
# (devtools/supervisor.py): a local Redis if none answers, the SMTP sink, an RQ worker with its
# scheduler, the outbox relay and gunicorn. A process that exits is restarted with a backoff;
# Ctrl-C (or SIGTERM) stops them all, the Redis started here included.
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

"$BIN/flask" --app wsgi db upgrade
"$BIN/flask" --app wsgi demo --if-empty --no-logins

PROGRAMS=()
REDIS_COMMAND="$("$BIN/python" -m devtools.localredis "$REDIS_URL" "$RETURNYARD_INSTANCE")"
if [[ -n "$REDIS_COMMAND" ]]; then
  PROGRAMS+=("redis=$REDIS_COMMAND")
fi
if [[ "$MAIL_SINK" == "1" && "$SMTP_HOST" =~ ^(127\.0\.0\.1|localhost)$ ]]; then
  PROGRAMS+=("mail-sink=$BIN/flask --app wsgi mail-sink")
fi
PROGRAMS+=("worker=$BIN/flask --app wsgi worker")
PROGRAMS+=("relay=$BIN/flask --app wsgi relay")
# gthread workers: a slow client holds one thread, not a whole worker (gunicorn.conf.py).
PROGRAMS+=("web=$BIN/gunicorn --config gunicorn.conf.py --bind 127.0.0.1:$PORT --workers ${WEB_CONCURRENCY:-2} wsgi:app")

echo
echo "Returnyard runs at http://127.0.0.1:$PORT/  (mail: /mailbox, jobs: /jobs, health: /healthz)"
echo "Logs in $LOGS; the SMTP sink keeps every mail in $RETURNYARD_INSTANCE/mail/"
"$BIN/flask" --app wsgi demo-logins
echo
exec "$BIN/python" -m devtools.supervisor --logs "$LOGS" "${PROGRAMS[@]}"
