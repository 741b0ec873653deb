#!/usr/bin/env bash
# Set everything up, idempotently: Python 3.10 virtualenv, pinned packages and the
# project's spaCy pipeline. (Training is scripts/train_if_changed.py, run by run.sh and
# test.sh after this.)
#
#   scripts/setup.sh run    runtime packages only
#   scripts/setup.sh test   runtime + test/lint tools
set -euo pipefail
MODE="${1:-run}"
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$KAT_ROOT/scripts/lib.sh"
cd "$KAT_ROOT"

# --- 1. Find Python 3.10 (Rasa 3.6 supports 3.8-3.10, not 3.11) ----------------------
is_py310() { [ -n "$1" ] && "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
find_python() {
  local candidate
  for candidate in "${KAT_PYTHON:-}" \
      "$( (command -v pyenv >/dev/null && pyenv which python) 2>/dev/null || true)" \
      "$(command -v python3.10 || true)" \
      "$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10*/bin/python 2>/dev/null | sort -V | tail -n 1)" \
      /usr/bin/python3.10 /usr/local/bin/python3.10; do
    if is_py310 "$candidate"; then echo "$candidate"; return 0; fi
  done
  return 1
}

if [ -x "$KAT_VENV/bin/python" ] && ! is_py310 "$KAT_VENV/bin/python"; then
  say "Existing $KAT_VENV is not Python 3.10; recreating it"
  rm -rf "$KAT_VENV"
fi
if [ ! -x "$KAT_VENV/bin/python" ]; then
  if ! PY="$(find_python)"; then
    cat >&2 <<'MSG'
error: Python 3.10 was not found (Rasa 3.6 needs 3.10; 3.11 will not work).
Install it, then run the command again. Any one of these works:
  pyenv install 3.10        (pyenv reads .python-version in this folder)
  apt-get install python3.10 python3.10-venv
or point KAT_PYTHON at a python3.10 executable.
MSG
    exit 1
  fi
  say "Creating virtualenv $KAT_VENV with $PY"
  "$PY" -m venv "$KAT_VENV"
fi
VPY="$KAT_VENV/bin/python"

# --- 2. Pinned packages (skipped when the lock files are unchanged) --------------------
REQ=requirements.txt
[ "$MODE" = "test" ] && REQ=requirements-dev.txt
STAMP="$KAT_VENV/.installed-$(basename "$REQ" .txt)"
WANT="$(cat requirements*.txt | sha256sum | cut -c1-16)"
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
  quietly "Installing pinned packages from $REQ (the first time takes 2-4 minutes)" pip \
    bash -c '"$0" -m pip install --upgrade "pip==24.0" && "$0" -m pip install --no-deps -r "$1"' "$VPY" "$REQ"
  # Installed with --no-deps: every requirement of every pin must itself be pinned.
  quietly "Checking the installed set (pip check, every requirement pinned)" pip-check \
    bash -c '"$0" -m pip check && "$0" scripts/check_requirements.py "$1"' "$VPY" "$REQ"
  echo "$WANT" > "$STAMP"
else
  say "Packages up to date ($REQ)"
fi

# --- 3. Browser for the browser tests (test mode): Debian's chromium, never a download ---
[ "$MODE" != "test" ] || bash scripts/ensure_chromium.sh

# --- 4. The project's spaCy pipeline ---------------------------------------------------
quietly "Building the project's spaCy pipeline (build/spacy)" spacy \
  "$VPY" scripts/build_spacy_pipeline.py
# WordLlama's static token embeddings, unpacked from its pinned PyPI wheel (never
# installed; nothing is downloaded at run time): scripts/build_embeddings.py.
quietly "Unpacking the WordLlama token embeddings (build/wordllama)" embeddings \
  "$VPY" scripts/build_embeddings.py

# --- 5. The web chat's socket.io client (pinned in web/package-lock.json) ---------------
# npm ci only when the lock file changed; served from this machine, never from a CDN.
WEB_STAMP="web/node_modules/.kat-installed"
WEB_WANT="$(sha256sum web/package-lock.json | cut -c1-16)"
if [ "$(cat "$WEB_STAMP" 2>/dev/null)" != "$WEB_WANT" ] \
    || [ ! -s web/node_modules/socket.io-client/dist/socket.io.min.js ]; then
  if ! command -v npm >/dev/null 2>&1 && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    quietly "Installing Debian's npm for the web chat" apt-npm \
      bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm' 
  fi
  if ! command -v npm >/dev/null 2>&1; then
    cat >&2 <<'MSG'
error: the web chat needs npm to install its socket.io client (web/package-lock.json).
Install Node.js with npm (e.g. `sudo apt-get install npm`, or from nodejs.org), then run
the command again.
MSG
    exit 1
  fi
  quietly "Installing the web chat's socket.io client (npm ci in web/)" npm \
    bash -c 'cd web && npm ci --no-audit --no-fund --loglevel=error' 
  echo "$WEB_WANT" > "$WEB_STAMP"
else
  say "Web chat client up to date (web/package-lock.json)"
fi
