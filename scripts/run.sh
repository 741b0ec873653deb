#!/usr/bin/env bash
# Set everything up and run the assistant: action server + Rasa server (REST channel and
# the authenticated HTTP API). Ctrl-C stops both.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
cd "$KAT_ROOT"
bash scripts/setup.sh run
VENV_BIN="$KAT_VENV/bin"
"$VENV_BIN/python" scripts/train_if_changed.py

# var/ holds conversations, tickets and secrets: the owner's only, whatever the umask.
mkdir -p "$KAT_VAR_DIR" && chmod 700 "$KAT_VAR_DIR"
# The HTTP API takes only short-lived JWTs (Authorization: Bearer, scripts/make_api_token.py)
# signed with RASA_JWT_SECRET, else a secret generated once into var/ (not in git).
if [ -z "${RASA_JWT_SECRET:-}" ]; then
  [ -s "$KAT_VAR_DIR/rasa_jwt_secret" ] || (umask 077; "$VENV_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$KAT_VAR_DIR/rasa_jwt_secret")
  RASA_JWT_SECRET="$(cat "$KAT_VAR_DIR/rasa_jwt_secret")"
fi
export RASA_JWT_SECRET
# Never an HTTP API without authentication: refuse a missing or short secret before
# anything starts (the same check scripts/rasa_run.py makes when it starts Rasa).
"$VENV_BIN/python" scripts/rasa_run.py check
# The action server answers only requests carrying this shared secret (endpoints.yml
# action_endpoint headers): KAT_ACTION_SERVER_TOKEN, else generated once into var/.
if [ -z "${KAT_ACTION_SERVER_TOKEN:-}" ]; then
  [ -s "$KAT_VAR_DIR/action_server_token" ] || (umask 077; "$VENV_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(32))' > "$KAT_VAR_DIR/action_server_token")
  KAT_ACTION_SERVER_TOKEN="$(cat "$KAT_VAR_DIR/action_server_token")"
fi
export KAT_ACTION_SERVER_TOKEN
# CORS for Rasa's REST channel and HTTP API: only the origins in KAT_CORS_ORIGINS
# (space-separated, e.g. "https://clinic.example"); none by default.
read -r -a CORS_ORIGINS <<< "${KAT_CORS_ORIGINS:-}"
CORS_ARGS=()
[ "${#CORS_ORIGINS[@]}" -eq 0 ] || CORS_ARGS=(--cors "${CORS_ORIGINS[@]}")
BIND="${KAT_BIND:-127.0.0.1}"
export RASA_URL="${RASA_URL:-http://127.0.0.1:$RASA_PORT}"
INBOX_PORT="$KAT_INBOX_PORT"
# Staff inbox users: KAT_STAFF_USERS, else one local user "staff" with every role
# (tickets, Insights and the review queue, the audit trail: staff_inbox/roles.py) and a
# password generated once into var/staff_password (not in git).
if [ -z "${KAT_STAFF_USERS:-}" ]; then
  [ -s "$KAT_VAR_DIR/staff_password" ] || (umask 077; "$VENV_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(12))' > "$KAT_VAR_DIR/staff_password")
  KAT_STAFF_USERS="staff:$("$VENV_BIN/python" -c 'import sys; from staff_inbox.auth import hash_password; print(hash_password(sys.argv[1]))' "$(cat "$KAT_VAR_DIR/staff_password")"):clinician+reviewer+admin:Clinic staff"
fi
export KAT_STAFF_USERS
# The web chat (python -m webchat): the secret that signs its sessions, from
# KAT_WEB_SESSION_SECRET, else generated once into var/web_session_secret (not in git);
# the browser origins allowed to connect to the socket.io channel, from KAT_WEB_ORIGINS.
WEB_PORT="$KAT_WEB_PORT"
if [ -z "${KAT_WEB_SESSION_SECRET:-}" ]; then
  [ -s "$KAT_VAR_DIR/web_session_secret" ] || (umask 077; "$VENV_BIN/python" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$KAT_VAR_DIR/web_session_secret")
  KAT_WEB_SESSION_SECRET="$(cat "$KAT_VAR_DIR/web_session_secret")"
fi
export KAT_WEB_SESSION_SECRET
export KAT_WEB_ORIGINS="${KAT_WEB_ORIGINS:-http://127.0.0.1:$WEB_PORT,http://localhost:$WEB_PORT}"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

(umask 077; "$VENV_BIN/python" scripts/make_credentials.py credentials.yml "$KAT_VAR_DIR/credentials.yml")
# Files made before this rule (or by hand) are closed too.
find "$KAT_VAR_DIR" -maxdepth 1 -type f -exec chmod 600 {} +

# KAT_PROFILE (scripts/env.sh): embedded (SQLite, in-memory locks) or production.
echo "==> Profile: $KAT_PROFILE (endpoints: $KAT_ENDPOINTS)"
if [ "$KAT_PROFILE" = "production" ]; then
  echo "    PostgreSQL $KAT_DB_HOST:$KAT_DB_PORT/$KAT_DB_NAME (tracker + hand-off tickets)," \
    "Redis $KAT_REDIS_HOST:$KAT_REDIS_PORT (locks), RabbitMQ $KAT_RABBITMQ_HOST:$KAT_RABBITMQ_PORT (events: $KAT_RABBITMQ_QUEUE)"
  "$VENV_BIN/python" scripts/ensure_database.py
fi
echo "==> Starting the action server on port $ACTION_PORT"
"$VENV_BIN/python" -m actions.server --port "$ACTION_PORT" &
pids+=($!)
echo "==> Starting the Rasa server on http://$BIND:$RASA_PORT"
# scripts/rasa_run.py is `rasa run` with the HTTP API on and its JWT secret taken from
# RASA_JWT_SECRET: a secret on the command line would show in `ps` to every local user.
"$VENV_BIN/python" scripts/rasa_run.py run --model models/kat-assistant.tar.gz \
  --endpoints "$KAT_ENDPOINTS" --credentials "$KAT_VAR_DIR/credentials.yml" \
  --interface "$BIND" --port "$RASA_PORT" "${CORS_ARGS[@]}" \
  --logging-config-file logging.yml &
pids+=($!)

echo "==> Starting the staff inbox on http://127.0.0.1:$INBOX_PORT"
"$VENV_BIN/python" -m staff_inbox --host 127.0.0.1 --port "$INBOX_PORT" &
pids+=($!)

echo "==> Starting the web chat on http://127.0.0.1:$WEB_PORT"
"$VENV_BIN/python" -m webchat --host 127.0.0.1 --port "$WEB_PORT" \
  --rasa-url "${KAT_WEB_RASA_URL:-$RASA_URL}" &
pids+=($!)

"$VENV_BIN/python" scripts/wait_for_servers.py "http://127.0.0.1:$RASA_PORT" "http://127.0.0.1:$ACTION_PORT"
cat <<MSG

  The assistant is running.
    Chat in this terminal:   .venv/bin/python scripts/chat.py
    REST channel:            curl -s http://127.0.0.1:$RASA_PORT/webhooks/rest/webhook \\
                               -H 'Content-Type: application/json' \\
                               -d '{"sender": "me", "message": "hi"}'
    HTTP API (short-lived JWT, secret in var/rasa_jwt_secret unless RASA_JWT_SECRET is set):
                             curl -s -H "Authorization: Bearer \$(.venv/bin/python scripts/make_api_token.py)" \\
                               http://127.0.0.1:$RASA_PORT/status
    Web chat (demo page):    http://127.0.0.1:$WEB_PORT/
    Staff inbox:             http://127.0.0.1:$INBOX_PORT  (user "staff", password in
                             var/staff_password, unless KAT_STAFF_USERS is set)
  Ctrl-C stops everything.

MSG
wait -n "${pids[@]}"
