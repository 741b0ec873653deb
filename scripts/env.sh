# Shared environment for the project's scripts (sourced, not executed).
# Every value can be overridden from the calling environment.
export RASA_TELEMETRY_ENABLED="${RASA_TELEMETRY_ENABLED:-false}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}"
export TF_ENABLE_ONEDNN_OPTS="${TF_ENABLE_ONEDNN_OPTS:-0}"
export SQLALCHEMY_SILENCE_UBER_WARNING=1
export PYTHONWARNINGS="${PYTHONWARNINGS:-ignore::DeprecationWarning}"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export KAT_ROOT="${KAT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
export PYTHONPATH="$KAT_ROOT${PYTHONPATH:+:$PYTHONPATH}"
export KAT_VENV="${KAT_VENV:-$KAT_ROOT/.venv}"
export KAT_VAR_DIR="${KAT_VAR_DIR:-$KAT_ROOT/var}"
export KAT_TRACKER_DB="${KAT_TRACKER_DB:-$KAT_VAR_DIR/tracker.db}"
export RASA_PORT="${RASA_PORT:-5005}"
export ACTION_PORT="${ACTION_PORT:-5055}"
export ACTION_SERVER_URL="${ACTION_SERVER_URL:-http://127.0.0.1:$ACTION_PORT/webhook}"
