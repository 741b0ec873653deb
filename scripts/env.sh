# Shared environment for the project's scripts (sourced, not executed).
# Every value can be overridden from the calling environment.
export RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-0}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
_kat_here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -n "${KAT_ENV_ROOT:-}" ] && [ "$KAT_ENV_ROOT" != "$_kat_here" ]; then
  # This file was sourced before for another checkout (a shell that ran `. scripts/env.sh`
  # elsewhere): its paths are not this checkout's.
  unset KAT_ROOT KAT_VENV KAT_VAR_DIR KAT_TRACKER_DB
fi
export KAT_ROOT="${KAT_ROOT:-$_kat_here}"
export KAT_ENV_ROOT="$KAT_ROOT"
export PYTHONPATH="$KAT_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export KAT_VENV="${KAT_VENV:-$KAT_ROOT/.venv}"
export KAT_VAR_DIR="${KAT_VAR_DIR:-$KAT_ROOT/var}"
export KAT_TRACKER_DB="${KAT_TRACKER_DB:-$KAT_VAR_DIR/tracker.db}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
# The web chat's demo page and the staff inbox (ports browsers allow: not 5060).
export KAT_WEB_PORT="${KAT_WEB_PORT:-8080}"
export KAT_INBOX_PORT="${KAT_INBOX_PORT:-8081}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:$ACTION_PORT/webhook}"
# Shared secret Rasa sends to the action server (endpoints.yml action_endpoint headers);
# scripts/run.sh generates one into var/ when unset. Empty here so endpoints.yml parses.
export KAT_ACTION_SERVER_TOKEN="${KAT_ACTION_SERVER_TOKEN:-}"

# Deployment profile: "embedded" (default: SQLite tracker, in-memory locks, endpoints.yml)
# or "production" (PostgreSQL tracker and hand-off store, Redis locks, RabbitMQ events:
# endpoints.production.yml). See README "Production profile" and docs/deploy.md.
export KAT_PROFILE="${KAT_PROFILE:-embedded}"
if [ "$KAT_PROFILE" = "production" ]; then
  export KAT_ENDPOINTS="${KAT_ENDPOINTS:-endpoints.production.yml}"
  export KAT_DB_HOST="${KAT_DB_HOST:-127.0.0.1}"
  export KAT_DB_PORT="${KAT_DB_PORT:-5432}"
  export KAT_DB_NAME="${KAT_DB_NAME:-kat}"
  export KAT_DB_USER="${KAT_DB_USER:-postgres}"
  export KAT_DB_PASSWORD="${KAT_DB_PASSWORD:-}"
  export KAT_DB_SSLMODE="${KAT_DB_SSLMODE:-prefer}"
  # The hand-off store lives in the same database (tables handoff_*).
  if [ -z "${KAT_HANDOFF_DB_URL:-}" ]; then
    KAT_HANDOFF_DB_URL="$("${KAT_VENV}/bin/python" -c 'import os, sqlalchemy as sa
print(sa.engine.URL.create("postgresql", username=os.environ["KAT_DB_USER"], password=os.environ["KAT_DB_PASSWORD"] or None, host=os.environ["KAT_DB_HOST"], port=int(os.environ["KAT_DB_PORT"]), database=os.environ["KAT_DB_NAME"], query={"sslmode": os.environ["KAT_DB_SSLMODE"]}).render_as_string(hide_password=False))' 2>/dev/null || true)"
    export KAT_HANDOFF_DB_URL
  fi
  export KAT_REDIS_HOST="${KAT_REDIS_HOST:-127.0.0.1}"
  export KAT_REDIS_PORT="${KAT_REDIS_PORT:-6379}"
  export KAT_REDIS_PASSWORD="${KAT_REDIS_PASSWORD:-}"
  export KAT_REDIS_DB="${KAT_REDIS_DB:-1}"
  export KAT_REDIS_KEY_PREFIX="${KAT_REDIS_KEY_PREFIX:-kat}"
  export KAT_RABBITMQ_HOST="${KAT_RABBITMQ_HOST:-127.0.0.1}"
  export KAT_RABBITMQ_PORT="${KAT_RABBITMQ_PORT:-5672}"
  export KAT_RABBITMQ_USER="${KAT_RABBITMQ_USER:-guest}"
  export KAT_RABBITMQ_PASSWORD="${KAT_RABBITMQ_PASSWORD:-guest}"
  export KAT_RABBITMQ_QUEUE="${KAT_RABBITMQ_QUEUE:-kat_events}"
  # The web chat across several Rasa servers: replies made in one reach chats held by
  # another through Redis pub/sub (channels/socketio_redis.py).
  if [ -z "${KAT_WEB_REDIS_URL:-}" ]; then
    KAT_WEB_REDIS_URL="$("${KAT_VENV}/bin/python" -c 'import os, urllib.parse as u
e = os.environ
auth = ":" + u.quote(e["KAT_REDIS_PASSWORD"], safe="") + "@" if e["KAT_REDIS_PASSWORD"] else ""
print("redis://%s%s:%s/%s" % (auth, e["KAT_REDIS_HOST"], e["KAT_REDIS_PORT"], e["KAT_REDIS_DB"]))' 2>/dev/null || true)"
    export KAT_WEB_REDIS_URL
  fi
  export KAT_WEB_REDIS_CHANNEL="${KAT_WEB_REDIS_CHANNEL:-${KAT_REDIS_KEY_PREFIX}-webchat}"
else
  export KAT_ENDPOINTS="${KAT_ENDPOINTS:-endpoints.yml}"
fi
