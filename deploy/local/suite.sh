#!/usr/bin/env bash
# Starts (or stops) the whole suite on this machine, without Docker: infrastructure, migrations,
# each service's api and worker (enrolment: two api replicas), the payment sandbox, the gateway
# (nginx, 127.0.0.1:8080), Prometheus (127.0.0.1:9090, scraping every api and worker), then the
# demo data; prints where to reach everything.
#   deploy/local/suite.sh up | down | stop | status
#     down: the suite and the infrastructure; stop: the suite's processes only (PostgreSQL, Kafka and
#     the mail sink keep running, e.g. for `make test`)
# Idempotent: `up` starts only what is not running and loads the demo without duplicating it.
# A service joins as soon as its entrypoints.py exists.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd -P)
cd "$repo"
CET_VAR=$(realpath -m "${CET_VAR:-$repo/.local}")
export CET_VAR
logs=$CET_VAR/logs
run=$CET_VAR/run
gateway=$CET_VAR/gateway
keys=$CET_VAR/var/payment-keys
mkdir -p "$logs" "$run"

present() { [ -f "services/$1/src/$1/entrypoints.py" ]; }

# name:port:health:command — every process of the suite in start order, as deploy/topology.toml
# declares them (the payment sandbox before payment-api: it writes the key the api reads at start).
# Every port answers its health path; the apis' and workers' (a worker's own small port,
# WORKER_METRICS_PORT) also /metrics for Prometheus.
processes=()
while read -r name port role health command; do
  [ "$role" = gateway ] && { GATEWAY="127.0.0.1:$port" GATEWAY_HEALTH=$health; continue; }
  present "${name%%-*}" || continue
  [ "$name" = passport-api ] && JWKS_DEFAULT="http://127.0.0.1:$port/.well-known/jwks.json"
  case $role in
    worker) processes+=("$name:$port:$health:$command") ;;
    *) processes+=("$name:$port:$health:$command --port $port") ;;
  esac
done < <(python3 deploy/topology.py local)
PROMETHEUS_ADDRESS=127.0.0.1:9090
api_ports() { # "NAME PORT, …" of every api and the sandbox: what an operator on this host may open
  local e out=()
  for e in "${processes[@]}"; do
    case ${e%%:*} in *-worker*) ;; *) out+=("${e%%:*} $(cut -d: -f2 <<<"$e")") ;; esac
  done
  printf '%s, ' "${out[@]}" | sed 's/, $//'
}
names() { local e; for e in "${processes[@]}" gateway prometheus; do echo "${e%%:*}"; done; }

is_running() { [ -f "$run/$1.pid" ] && kill -0 "$(cat "$run/$1.pid")" 2>/dev/null; }

wait_http() { # url seconds name
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$3 did not answer $1 within $2 s (log: $logs/$3.log)" >&2
  return 1
}

start() { # name command...  (own session and process group: `down` stops it and its children)
  local name=$1
  shift
  if is_running "$name"; then
    echo "$name already running (pid $(cat "$run/$name.pid"))"
    return 0
  fi
  setsid nohup "$@" >"$logs/$name.log" 2>&1 </dev/null &
  echo $! >"$run/$name.pid"
  echo "started $name (log: $logs/$name.log)"
}

up() {
  "$repo/deploy/local/infra.sh" up
  # shellcheck disable=SC1091
  . "$CET_VAR/env"
  export JWKS_URL=${JWKS_URL:-$JWKS_DEFAULT}
  if present payment; then
    export ALIPAY_APP_PRIVATE_KEY_FILE=$keys/app_private_key.pem ALIPAY_PUBLIC_KEY_FILE=$keys/alipay_public_key.pem
    export PAYEASE_KEY_FILE=$keys/payease_key SANDBOX_KEY_DIR=$keys
    uv run --frozen payment-admin make-test-keys --dir "$keys" >/dev/null
  fi
  for svc in passport eligibility enrolment payment; do
    if [ -f "services/$svc/src/$svc/cli.py" ]; then
      uv run --frozen "$svc-admin" migrate
    fi
  done
  local entry name port health command
  for entry in "${processes[@]}"; do
    IFS=: read -r name port health command <<<"$entry"
    # shellcheck disable=SC2086
    case $name in
      *-worker) WORKER_METRICS_PORT=$port start "$name" uv run --frozen $command ;;
      *) start "$name" uv run --frozen $command ;;
    esac
    # payment-api must read the key of the sandbox that is running now
    [ "$name" = payment-sandbox ] && wait_http "http://127.0.0.1:$port$health" 60 "$name"
  done
  for entry in "${processes[@]}"; do
    IFS=: read -r name port health command <<<"$entry"
    wait_http "http://127.0.0.1:$port$health" 60 "$name"
  done
  start_prometheus
  local nginx
  nginx=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$nginx" ] || { echo "nginx not found (apt-get install -y nginx)" >&2; exit 1; }
  python3 deploy/gateway/render.py --prefix "$gateway" >/dev/null
  if is_running gateway; then
    kill -HUP "$(cat "$run/gateway.pid")" # re-read the freshly rendered config
    echo "gateway already running (pid $(cat "$run/gateway.pid")): configuration reloaded"
  else
    start gateway "$nginx" -p "$gateway" -c "$gateway/nginx.conf" -e "$gateway/error.log" -g 'daemon off;'
  fi
  wait_http "http://$GATEWAY$GATEWAY_HEALTH" 20 gateway
  echo
  "$repo/deploy/local/demo/load.sh"
  echo
  status
  cat <<INFO

The CET registration suite is running:
  gateway (portal and every api)  http://$GATEWAY/
      /api/passport/  /api/eligibility/  /api/enrolment/  /api/payment/
  services, for operators on this host only (docs at /docs):
      $(api_ports)
  prometheus        http://$PROMETHEUS_ADDRESS/ (alerts: /alerts; dashboard: deploy/observability/grafana-dashboard.json)
  mail sink         $CET_VAR/mail/ (one .eml file per message: reset links, verification, receipts)
  logs              $logs/  (gateway: $gateway/access.log, error.log)
Stop it with: make down
INFO
}

start_prometheus() { # scrapes every api and worker of the list above (not the sandbox: a stand-in for third parties)
  local prometheus entry targets=()
  prometheus=$(command -v prometheus || echo /usr/bin/prometheus)
  [ -x "$prometheus" ] || { echo "prometheus not found (apt-get install -y prometheus)" >&2; exit 1; }
  for entry in "${processes[@]}"; do
    case ${entry%%:*} in *-api | *-api-* | *-worker) targets+=("${entry%%:*}=127.0.0.1:$(echo "$entry" | cut -d: -f2)") ;; esac
  done
  python3 deploy/observability/prometheus_config.py --out "$CET_VAR/prometheus/prometheus.yml" "${targets[@]}"
  if is_running prometheus; then
    kill -HUP "$(cat "$run/prometheus.pid")" # re-read the freshly generated config
    echo "prometheus already running (pid $(cat "$run/prometheus.pid")): configuration reloaded"
  else
    start prometheus "$prometheus" --config.file="$CET_VAR/prometheus/prometheus.yml" --storage.tsdb.path="$CET_VAR/prometheus/data" \
      --storage.tsdb.retention.time=2d --web.listen-address="$PROMETHEUS_ADDRESS"
  fi
  wait_http "http://$PROMETHEUS_ADDRESS/-/ready" 30 prometheus
}

stop() {
  local name pid i entry stopping=()
  # the gateway first, so no request reaches a service that is stopping; then all at once
  for name in gateway $(names | grep -vx gateway | tac); do
    if is_running "$name"; then
      pid=$(cat "$run/$name.pid")
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      stopping+=("$name:$pid")
    fi
    rm -f "$run/$name.pid"
  done
  for entry in "${stopping[@]}"; do
    name=${entry%%:*}
    pid=${entry#*:}
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -KILL -- "-$pid" 2>/dev/null || true
      echo "stopped $name (SIGKILL after 15 s)"
    else
      echo "stopped $name"
    fi
  done
}

down() {
  stop
  "$repo/deploy/local/infra.sh" down
}

status() {
  local name
  for name in $(names); do
    if is_running "$name"; then echo "$name: running (pid $(cat "$run/$name.pid"))"; else echo "$name: stopped"; fi
  done
}

case "${1:-up}" in
  up) up ;;
  down) down ;;
  stop) stop ;;
  status) status; "$repo/deploy/local/infra.sh" status ;;
  *) echo "usage: $0 up|down|stop|status" >&2; exit 2 ;;
esac
