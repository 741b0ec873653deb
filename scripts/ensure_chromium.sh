#!/usr/bin/env bash
# Debian's chromium for the browser tests and the CI smoke of `make run`: never a
# browser download. Installs it with apt-get when run as root; otherwise says what to do.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
source "$KAT_ROOT/scripts/lib.sh"
command -v chromium >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  quietly "Installing Debian's chromium for the browser tests" apt-chromium \
    bash -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium'
else
  echo "note: the browser tests need Chromium: sudo apt-get install chromium" >&2
  [ "${CI:-}" != "true" ] || exit 1  # CI never skips the browser tests
fi
