#!/usr/bin/env bash
# Starts (or stops) the whole suite on this machine, without Docker: infrastructure, migrations,
# each service's api and worker, and prints where to reach them.
#   deploy/local/suite.sh up | down | status
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"
CET_VAR=${CET_VAR:-$repo/.local}
logs=$CET_VAR/logs
run=$CET_VAR/run
mkdir -p "$logs" "$run"

# name:command — every process of the suite. Enrolment runs two api replicas (O1).
processes=(
  "passport-api:passport-api --port 8001"
  "passport-worker:passport-worker"
)
for svc in eligibility enrolment payment; do
  if [ -f "services/$svc/src/$svc/entrypoints.py" ]; then
    case $svc in
      eligibility) processes+=("eligibility-api:eligibility-api --port 8002" "eligibility-worker:eligibility-worker") ;;
      enrolment) processes+=("enrolment-api-1:enrolment-api --port 8003" "enrolment-api-2:enrolment-api --port 8013" "enrolment-worker:enrolment-worker") ;;
      payment) processes+=("payment-api:payment-api --port 8004" "payment-worker:payment-worker") ;;
    esac
  fi
done

is_running() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

up() {
  "$repo/deploy/local/infra.sh" up
  # shellcheck disable=SC1091
  . "$CET_VAR/env"
  export JWKS_URL=${JWKS_URL:-http://127.0.0.1:8001/.well-known/jwks.json}
  for svc in passport eligibility enrolment payment; do
    if [ -f "services/$svc/src/$svc/cli.py" ]; then
      uv run --frozen "$svc-admin" migrate
    fi
  done
  for entry in "${processes[@]}"; do
    name=${entry%%:*}
    command=${entry#*:}
    if is_running "$name"; then
      echo "$name already running (pid $(cat "$run/$name.pid"))"
      continue
    fi
    # setsid: each process in its own group, so `down` stops it and its children only.
    setsid nohup uv run --frozen $command >"$logs/$name.log" 2>&1 &
    echo $! >"$run/$name.pid"
    echo "started $name (log: $logs/$name.log)"
  done
  for entry in "${processes[@]}"; do
    port=$(grep -oE -- '--port [0-9]+' <<<"$entry" | cut -d' ' -f2) || continue
    for _ in $(seq 1 60); do
      curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
      sleep 0.5
    done
  done
  status
  cat <<INFO

The CET registration suite is running:
  passport api      http://127.0.0.1:8001/docs
  eligibility api   http://127.0.0.1:8002/docs
  enrolment api     http://127.0.0.1:8003/docs  (replica: 8013)
  payment api       http://127.0.0.1:8004/docs
  mail sink         $CET_VAR/mail/ (one .eml file per message)
  logs              $logs/
Stop it with: make down
INFO
}

down() {
  for entry in "${processes[@]}"; do
    name=${entry%%:*}
    if is_running "$name"; then
      kill -TERM -- "-$(cat "$run/$name.pid")" 2>/dev/null || true
      echo "stopped $name"
    fi
    rm -f "$run/$name.pid"
  done
  "$repo/deploy/local/infra.sh" down
}

status() {
  for entry in "${processes[@]}"; do
    name=${entry%%:*}
    if is_running "$name"; then echo "$name: running (pid $(cat "$run/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  status) status; "$repo/deploy/local/infra.sh" status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
