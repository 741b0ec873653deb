#!/usr/bin/env bash
# Set everything up and run every test: lint, types, data validation, unit tests,
# training, dialogue and NLU evaluation, end-to-end tests against real servers.
#
#   scripts/test.sh         everything (make test)
#   scripts/test.sh check   lint, types and unit tests only: no training, no servers
#                           (make check, the fast inner loop)
set -euo pipefail
MODE="${1:-all}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$KAT_ROOT/scripts/lib.sh"
cd "$KAT_ROOT"
bash scripts/setup.sh test
bash scripts/ensure_services.sh
B="$KAT_VENV/bin"
# Tests run on every core, at most 4 (pytest-xdist; each end-to-end worker starts its
# own servers, about 1 GB each). KAT_TEST_WORKERS=1 runs them in one process.
WORKERS="${KAT_TEST_WORKERS:-$(n=$(nproc 2>/dev/null || echo 2); echo $((n > 4 ? 4 : n)))}"
PARALLEL=(-n "$WORKERS" --dist loadfile)
[ "$WORKERS" = "1" ] && PARALLEL=()
STARTED=$SECONDS
step() { printf '\n\033[1m==> %s\033[0m (at %ss)\n' "$*" "$((SECONDS - STARTED))"; }

step "Lint (ruff, black) and types (mypy)"
"$B/ruff" check .
"$B/black" --check --quiet .
"$B/mypy" actions kat components staff_inbox channels webchat

step "Unit tests"
"$B/pytest" -q -m "not e2e" -p no:cacheprovider "${PARALLEL[@]}"
if [ "$MODE" = "check" ]; then
  say "make check passed in $((SECONDS - STARTED))s"
  exit 0
fi

step "Known advisories for the pinned dependencies (security/advisories.yml)"
"$B/python" scripts/check_advisories.py

step "rasa data validate --fail-on-warnings"
"$B/rasa" data validate --fail-on-warnings --quiet

step "Train (only if data or config changed)"
"$B/python" scripts/train_if_changed.py

MODEL=models/kat-assistant.tar.gz
rm -rf results && mkdir -p results
step "Dialogue test stories (rasa test core --fail-on-prediction-errors)"
"$B/rasa" test core --model "$MODEL" --stories tests/stories --out results/core \
  --fail-on-prediction-errors --quiet

step "Held-out NLU test set (intent and response selection >= 90 %)"
"$B/rasa" test nlu --model "$MODEL" --nlu tests/nlu --out results/nlu --quiet \
  --no-plot
"$B/python" scripts/check_nlu_results.py results/nlu --min-accuracy 0.90

step "End-to-end tests against the real servers ($WORKERS at a time)"
"$B/pytest" -q -m "e2e and not exclusive" -p no:cacheprovider --durations=15 \
  "${PARALLEL[@]}"
step "End-to-end tests that restart a shared service (alone)"
"$B/pytest" -q -m "e2e and exclusive" -p no:cacheprovider --durations=5
say "make test passed in $((SECONDS - STARTED))s"
