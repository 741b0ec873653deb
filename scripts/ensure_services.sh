#!/usr/bin/env bash
# The production profile's services for its tests: PostgreSQL, Redis and RabbitMQ on
# 127.0.0.1 (tests/services.py). Starts one that is installed but stopped; with
# CI=true a service that still does not answer fails the run here, before any test
# (tests/conftest.py also fails a test that skips in CI). Elsewhere it says what is
# missing, and those tests skip with the reason.
set -euo pipefail
answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
start() {
  case "$1" in
    postgres) [ -d /etc/postgresql ] && command -v pg_ctlcluster >/dev/null &&
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start ;;
    redis) command -v redis-server >/dev/null && redis-server --daemonize yes \
      --bind 127.0.0.1 --port 6379 --save "" --appendonly no ;;
    rabbitmq) command -v rabbitmq-server >/dev/null && rabbitmq-server -detached ;;
  esac
}
missing=()
for pair in postgres:5432 redis:6379 rabbitmq:5672; do
  name=${pair%%:*} port=${pair##*:}
  answers "$port" && continue
  echo "==> $name does not answer on 127.0.0.1:$port; starting it"
  start "$name" >/dev/null 2>&1 || true
  for _ in $(seq 1 60); do answers "$port" && break; sleep 1; done
  answers "$port" || missing+=("$name (127.0.0.1:$port)")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "note: not answering: ${missing[*]}; the production-profile tests need them" >&2
echo "      (docs/testing.md says how to run them)." >&2
[ "${CI:-}" != "true" ] || exit 1
