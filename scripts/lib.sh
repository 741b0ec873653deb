# Progress helpers for the project's scripts (sourced after scripts/env.sh).
#
#   say TEXT                    a bold "==> TEXT" line
#   quietly LABEL NAME CMD...   run CMD with its output kept in build/logs/NAME.log, print
#                               LABEL and the elapsed time; if CMD fails, print the whole
#                               log (a real failure is never hidden) and return its status
KAT_LOG_DIR="${KAT_LOG_DIR:-$KAT_ROOT/build/logs}"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

quietly() {
  local label="$1" log="$KAT_LOG_DIR/$2.log" start=$SECONDS status=0
  shift 2
  mkdir -p "$KAT_LOG_DIR"
  printf '\033[1m==> %s\033[0m ... ' "$label"
  "$@" >"$log" 2>&1 || status=$?
  if [ "$status" -eq 0 ]; then
    printf 'done (%ss)\n' "$((SECONDS - start))"
    return 0
  fi
  printf 'FAILED after %ss (exit status %s). Its output, also in %s:\n' \
    "$((SECONDS - start))" "$status" "${log#"$KAT_ROOT"/}" >&2
  cat "$log" >&2
  return "$status"
}
