#!/usr/bin/env bash
# Local infrastructure for the CET suite, without Docker:
#   PostgreSQL  own cluster on 127.0.0.1:55432 (not Debian's "main" cluster), one database and one
#               LOGIN role per service, scram-sha-256 passwords generated on first start;
#   Kafka 4.1.1 one KRaft node (broker+controller) on 127.0.0.1:9092 (controller 9093), run from
#               jars fetched from Maven Central (deploy/local/kafka/pom.xml); no topic is created on
#               first use: `up` creates those of deploy/topics.toml (python -m cet_shared.topics);
#   mail sink   SMTP on 127.0.0.1:2525 keeping every message as an .eml file (deploy/local/mailsink.py).
#
# Usage: deploy/local/infra.sh up|down|status|reset|stop-stale
#   up          start what is not running (idempotent), then write $CET_VAR/env
#   down        stop what `up` started (pid files / the cluster's postmaster.pid)
#   status      one line per component; exit 0 when all run, 3 otherwise
#   reset       down, then delete $CET_VAR (data, secrets, keys); the jar cache stays
#   stop-stale  stop CET local infrastructure of ANOTHER checkout that holds our ports (see .ci/run)
#
# State lives in CET_VAR (default <repo>/.local):
#   env                    `export NAME=value` lines for the suite (source it)
#   secrets/ keys/         generated passwords, captcha secret, JWT ed25519 key (mode 600)
#   pg/                    the cluster (data/, postgres.log); a symlink into /var/lib/cet-local/<hash>
#                          when the postgres OS user cannot reach this folder (repo under /root)
#   kafka/                 server.properties (rendered), data/, kafka.log (INFO), kafka.out (stdout/err)
#   mail/                  one .eml per message;  mailsink.log
#   run/                   pid files of Kafka and the mail sink
# Settings (environment): CET_VAR, CET_PG_PORT (55432), CET_KAFKA_PORT (9092),
#   CET_KAFKA_CONTROLLER_PORT (9093), CET_SMTP_PORT (2525), CET_KAFKA_START_TIMEOUT (120 s),
#   CET_KAFKA_LIBS (jar cache, default ${XDG_CACHE_HOME:-$HOME/.cache}/cet-suite/kafka-<version>/libs).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
REPO=$(cd "$HERE/../.." && pwd -P)
CET_VAR=$(realpath -m "${CET_VAR:-$REPO/.local}")

PG_PORT=${CET_PG_PORT:-55432}
KAFKA_PORT=${CET_KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${CET_KAFKA_CONTROLLER_PORT:-9093}
SMTP_PORT=${CET_SMTP_PORT:-2525}
KAFKA_START_TIMEOUT=${CET_KAFKA_START_TIMEOUT:-120}

KAFKA_VERSION=4.1.1
KAFKA_LIBS=${CET_KAFKA_LIBS:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/cet-suite/kafka-$KAFKA_VERSION/libs}
SERVICES=(passport eligibility enrolment payment)

# Every process `up` starts carries this token in its command line (postgres: -c cet.owner=…,
# Kafka: -Dcet.var=<CET_VAR>, mail sink: --maildir <CET_VAR>/mail): that is how a process holding
# one of our ports is told apart as ours, another checkout's, or something else entirely.
token_of() { printf '%s' "$1" | sha256sum | cut -c1-16; }
TOKEN=$(token_of "$CET_VAR")

log() { printf '[infra] %s\n' "$*"; }
die() { printf '[infra] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# processes and ports (from /proc: works without iproute2/procps on a bare Debian)

pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

argv_of() { # pid -> ARGV array
  ARGV=()
  [ -r "/proc/$1/cmdline" ] && mapfile -d '' ARGV <"/proc/$1/cmdline" 2>/dev/null || true
}

# pids listening on TCP <port> (any local address)
listen_pids() {
  local hex inode
  hex=$(printf '%04X' "$1")
  for inode in $(awk -v h="$hex" 'FNR > 1 && $4 == "0A" { n = split($2, a, ":"); if (a[n] == h) print $10 }' \
      /proc/net/tcp /proc/net/tcp6 2>/dev/null | sort -u); do
    find /proc/[0-9]*/fd -maxdepth 1 -lname "socket:\[$inode\]" 2>/dev/null | cut -d/ -f3
  done | sort -u
}

port_answers() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid -> "KIND OWNER_TOKEN" for a CET local process, empty otherwise
cet_identity() {
  local pid=$1 i a kind="" owner=""
  argv_of "$pid"
  for ((i = 0; i < ${#ARGV[@]}; i++)); do
    a=${ARGV[i]}
    case $a in
      cet.owner=*) kind=postgres owner=${a#cet.owner=} ;;
      -Dcet.var=*) kind=kafka owner=$(token_of "${a#-Dcet.var=}") ;;
      */mailsink.py) kind=mailsink ;;
      --maildir) [ "$kind" = mailsink ] && owner=$(token_of "$(dirname "${ARGV[i + 1]:-}")") ;;
    esac
  done
  [ -n "$kind" ] && [ -n "$owner" ] && echo "$kind $owner"
  return 0
}

describe_pid() {
  local pid=$1 where="" cmd i
  argv_of "$pid"
  cmd="${ARGV[*]:0:6}"
  if [ -r "/proc/$pid/cwd/cet-local.owner" ]; then
    where=" (CET_VAR=$(cat "/proc/$pid/cwd/cet-local.owner"))"
  else
    for ((i = 0; i < ${#ARGV[@]}; i++)); do
      case ${ARGV[i]} in
        -Dcet.var=*) where=" (CET_VAR=${ARGV[i]#-Dcet.var=})" ;;
        --maildir) where=" (CET_VAR=$(dirname "${ARGV[i + 1]:-}"))" ;;
      esac
    done
  fi
  printf 'pid %s: %s%s' "$pid" "${cmd:0:160}" "$where"
}

# Before starting <what> on <port>: succeed if the port is free; print the pid if our own <what>
# already holds it (a lost pid file); otherwise stop with who holds it. We never use a service
# that another checkout started: its passwords and data are not ours.
claim_port() {
  local port=$1 what=$2 pid id holders
  holders=$(listen_pids "$port")
  if [ -z "$holders" ]; then
    port_answers "$port" && die "port $port ($what) is taken by a process this user cannot see; free it or set CET_*_PORT"
    return 0
  fi
  for pid in $holders; do
    id=$(cet_identity "$pid")
    if [ "$id" = "$what $TOKEN" ]; then
      echo "$pid"
      return 0
    fi
    if [ -n "$id" ]; then
      die "port $port ($what) is held by the CET local infrastructure of another checkout: $(describe_pid "$pid").
  Stop it there (CET_VAR=… deploy/local/infra.sh down), or here with: deploy/local/infra.sh stop-stale,
  or give this checkout other ports (CET_PG_PORT, CET_KAFKA_PORT, CET_KAFKA_CONTROLLER_PORT, CET_SMTP_PORT)."
    fi
    die "port $port ($what) is held by something that is not CET local infrastructure: $(describe_pid "$pid")"
  done
}

# stop a pid that we know to be one of ours; SIGTERM, then SIGKILL after <timeout> s
stop_pid() {
  local pid=$1 name=$2 timeout=${3:-30} sig=${4:-TERM} i
  pid_alive "$pid" || return 0
  kill -s "$sig" "$pid" 2>/dev/null || return 0
  for ((i = 0; i < timeout * 10; i++)); do
    pid_alive "$pid" || return 0
    sleep 0.1
  done
  log "$name (pid $pid) did not stop in ${timeout}s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
}

# pid from <pidfile> if alive and still the process we started (guards against pid reuse)
tracked_pid() {
  local file=$1 kind=$2 pid
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  pid_alive "$pid" && [ "$(cet_identity "$pid")" = "$kind $TOKEN" ] && echo "$pid"
  return 0
}

# ---------------------------------------------------------------------------------------------
# secrets

secret() { # name [bytes] -> value, generated once
  local f="$CET_VAR/secrets/$1"
  if [ ! -s "$f" ]; then
    (umask 077 && openssl rand -hex "${2:-24}" >"$f.tmp" && mv "$f.tmp" "$f")
  fi
  cat "$f"
}

ensure_jwt_key() {
  local f="$CET_VAR/keys/jwt-ed25519.pem"
  if [ ! -s "$f" ]; then
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$f.tmp" 2>/dev/null && mv "$f.tmp" "$f")
    log "generated $f"
  fi
  chmod 600 "$f"
}

# ---------------------------------------------------------------------------------------------
# PostgreSQL

IS_ROOT=0
[ "$(id -u)" = 0 ] && IS_ROOT=1

as_pg() { # run a PostgreSQL tool as the cluster owner; cwd / so that a root-only cwd does not matter
  if [ "$IS_ROOT" = 1 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# The folder holding data/ and postgres.log. $CET_VAR/pg itself when the postgres OS user can
# reach it; else /var/lib/cet-local/<hash of CET_VAR>, linked from $CET_VAR/pg.
pg_root() {
  local link="$CET_VAR/pg" alt
  if [ -L "$link" ]; then
    readlink -f "$link"
  elif [ -d "$link" ] || [ "${1:-}" != create ]; then
    echo "$link"
  else
    mkdir -p "$link"
    if [ "$IS_ROOT" = 0 ]; then
      echo "$link"
      return
    fi
    chown postgres:postgres "$link"
    chmod 700 "$link"
    if as_pg test -w "$link" -a -x "$link"; then
      echo "$link"
      return
    fi
    rmdir "$link"
    alt="/var/lib/cet-local/$TOKEN"
    mkdir -p "$alt"
    chmod 755 /var/lib/cet-local
    chown postgres:postgres "$alt"
    chmod 700 "$alt"
    ln -s "$alt" "$link"
    log "the postgres OS user cannot reach $CET_VAR: cluster kept in $alt (linked from $link)" >&2
    echo "$alt"
  fi
}

pg_bin() { # the server version that made the cluster, else the newest installed
  local root=$1 v
  if [ -f "$root/data/PG_VERSION" ]; then
    v=$(cat "$root/data/PG_VERSION")
    [ -x "/usr/lib/postgresql/$v/bin/pg_ctl" ] || die "the cluster in $root was made by PostgreSQL $v, which is not installed"
    echo "/usr/lib/postgresql/$v/bin"
    return
  fi
  v=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$v" ] && [ -x "$v/initdb" ] || die "PostgreSQL server not installed (apt-get install -y postgresql)"
  echo "$v"
}

pg_running() { # root -> 0 when the cluster's postmaster runs
  [ -f "$1/data/PG_VERSION" ] && as_pg "$(pg_bin "$1")/pg_ctl" -D "$1/data" status >/dev/null 2>&1
}

pg_postmaster_pid() { [ -f "$1/data/postmaster.pid" ] && head -n 1 "$1/data/postmaster.pid" || true; }

pg_conf() {
  cat <<EOF
# Written by deploy/local/infra.sh on every \`up\`; changes need a restart (infra.sh down && up).
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = ''      # TCP only: no socket path to share or to outgrow 107 bytes
max_connections = 300
shared_buffers = 256MB
fsync = on
password_encryption = scram-sha-256
log_timezone = 'UTC'
timezone = 'UTC'
log_line_prefix = '%m [%p] %q%u@%d '
EOF
}

pg_hba() {
  cat <<'EOF'
# Written by deploy/local/infra.sh. TCP on 127.0.0.1 only, passwords (scram-sha-256).
# TYPE  DATABASE  USER  ADDRESS       METHOD
local   all       all                 peer
host    all       all   127.0.0.1/32  scram-sha-256
EOF
}

pg_up() {
  local root bin data pw pwfile pid changed=0
  root=$(pg_root create)
  data="$root/data"
  bin=$(pg_bin "$root")
  pw=$(secret pg-postgres)

  if [ ! -f "$data/PG_VERSION" ]; then
    log "postgres: initdb $data"
    pwfile="$root/.pwfile"
    (umask 077 && printf '%s\n' "$pw" >"$pwfile")
    [ "$IS_ROOT" = 1 ] && chown postgres:postgres "$pwfile"
    as_pg "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" --auth-local=peer \
      --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >"$root/initdb.log" 2>&1 ||
      { rm -f "$pwfile"; cat "$root/initdb.log" >&2; die "initdb failed"; }
    rm -f "$pwfile"
    printf '%s\n' "$CET_VAR" | as_pg tee "$data/cet-local.owner" >/dev/null
    echo "include_if_exists = 'cet-local.conf'" | as_pg tee -a "$data/postgresql.conf" >/dev/null
  fi
  if ! pg_conf | cmp -s - "$data/cet-local.conf"; then
    pg_conf | as_pg tee "$data/cet-local.conf" >/dev/null
    changed=1
  fi
  if ! pg_hba | cmp -s - "$data/pg_hba.conf"; then
    pg_hba | as_pg tee "$data/pg_hba.conf" >/dev/null
    changed=1
  fi

  if pg_running "$root"; then
    log "postgres: already running (pid $(pg_postmaster_pid "$root"))"
    [ "$changed" = 0 ] || log "postgres: settings changed; they apply after: deploy/local/infra.sh down && deploy/local/infra.sh up"
  else
    pid=$(claim_port "$PG_PORT" postgres)
    [ -z "$pid" ] || die "port $PG_PORT is held by a postgres of this checkout that $data does not know (pid $pid)"
    log "postgres: starting on 127.0.0.1:$PG_PORT"
    # 9>&- : the postmaster must not inherit (and hold forever) our lock
    as_pg "$bin/pg_ctl" -D "$data" -l "$root/postgres.log" -w -t 60 -s \
      -o "-c cet.owner=$TOKEN" start 9>&- ||
      { tail -n 30 "$root/postgres.log" >&2 || true; die "postgres did not start (log: $root/postgres.log)"; }
  fi
  pg_provision "$bin"
}

# roles and databases, every `up` (cheap, and repairs drift): each service a LOGIN role owning
# its database; nobody else may connect to it (REVOKE … FROM PUBLIC; superusers still can).
pg_provision() {
  local bin=$1 svc sql=""
  for svc in "${SERVICES[@]}"; do
    sql+="
SELECT 'CREATE ROLE $svc' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$svc') \\gexec
ALTER ROLE $svc WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD '$(secret "pg-$svc")';
SELECT 'CREATE DATABASE $svc OWNER $svc' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$svc') \\gexec
ALTER DATABASE $svc OWNER TO $svc;
REVOKE ALL ON DATABASE $svc FROM PUBLIC;"
  done
  # the maintenance databases are the admin's: service roles reach only their own database
  sql+="
REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;
REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;"
  # the SQL (with passwords) goes through stdin, not the command line
  printf '%s\n' "$sql" | PGPASSWORD=$(secret pg-postgres) PGCONNECT_TIMEOUT=10 \
    "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -f - >/dev/null ||
    die "postgres: provisioning roles/databases failed (if $CET_VAR/secrets was lost, run: deploy/local/infra.sh reset)"
}

pg_down() {
  local root
  root=$(pg_root)
  [ -d "$root/data" ] || return 0
  if pg_running "$root"; then
    log "postgres: stopping"
    as_pg "$(pg_bin "$root")/pg_ctl" -D "$root/data" -m fast -w -t 60 -s stop
  fi
}

# ---------------------------------------------------------------------------------------------
# Kafka

# jars of kafka_2.13:$KAFKA_VERSION (+ what pom.xml adds), fetched once per machine; refetched when
# pom.xml changes (its hash is kept beside the jars)
kafka_fetch() {
  local pom="$HERE/kafka/pom.xml" want cache tmp t0
  want=$(sha256sum "$pom" | cut -c1-64)
  [ "$(cat "$KAFKA_LIBS/.pom.sha256" 2>/dev/null)" = "$want" ] && return 0
  cache=$(dirname "$KAFKA_LIBS")
  mkdir -p "$cache"
  exec 8>"$cache/.lock"
  flock -w 900 8 || die "timed out waiting for another fetch into $cache"
  if [ "$(cat "$KAFKA_LIBS/.pom.sha256" 2>/dev/null)" != "$want" ]; then
    command -v mvn >/dev/null || die "Maven not found (apt-get install -y maven)"
    log "kafka: fetching kafka_2.13:$KAFKA_VERSION and its runtime jars from Maven Central into $KAFKA_LIBS"
    t0=$SECONDS
    tmp="$KAFKA_LIBS.tmp.$$"
    rm -rf "$tmp"
    mvn -B -q -f "$pom" -Dkafka.version="$KAFKA_VERSION" dependency:copy-dependencies \
      -DincludeScope=runtime -DoutputDirectory="$tmp" </dev/null >"$cache/mvn.log" 2>&1 ||
      { rm -rf "$tmp"; cat "$cache/mvn.log" >&2; die "mvn could not fetch the Kafka jars (log: $cache/mvn.log)"; }
    echo "$want" >"$tmp/.pom.sha256"
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
    log "kafka: $(ls "$KAFKA_LIBS"/*.jar | wc -l) jars in $((SECONDS - t0))s"
  fi
  exec 8>&-
}

kafka_pid() { tracked_pid "$CET_VAR/run/kafka.pid" kafka; }
KAFKA_JUST_STARTED=0

# launches the broker without waiting for it (kafka_wait does), so PostgreSQL starts meanwhile
kafka_start() {
  local dir="$CET_VAR/kafka" pid
  pid=$(kafka_pid)
  if [ -n "$pid" ]; then
    log "kafka: already running (pid $pid)"
    return 0
  fi
  pid=$(claim_port "$KAFKA_PORT" kafka)
  [ -n "$pid" ] || pid=$(claim_port "$KAFKA_CONTROLLER_PORT" kafka)
  if [ -n "$pid" ]; then # ours, pid file lost
    echo "$pid" >"$CET_VAR/run/kafka.pid"
    log "kafka: already running (pid $pid; pid file restored)"
    return 0
  fi
  # rendered, formatted and run by kafka.sh, the same way as the test harness's brokers
  "$HERE/kafka.sh" render "$dir" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"
  if [ ! -f "$dir/data/meta.properties" ]; then
    log "kafka: formatting $dir/data"
    "$HERE/kafka.sh" format "$dir"
  fi
  [ -f "$dir/kafka.log" ] && mv -f "$dir/kafka.log" "$dir/kafka.log.prev"
  log "kafka: starting on 127.0.0.1:$KAFKA_PORT (controller $KAFKA_CONTROLLER_PORT)"
  # setsid: own session, so a Ctrl-C of `make` does not reach the broker (kafka.sh execs into
  # java: $! is the broker's pid). 9>&-: do not hold our lock.
  (
    exec setsid "$HERE/kafka.sh" run "$dir" "$CET_VAR"
  ) </dev/null >"$dir/kafka.out" 2>&1 9>&- &
  echo $! >"$CET_VAR/run/kafka.pid"
  KAFKA_JUST_STARTED=1
}

kafka_wait() {
  local dir="$CET_VAR/kafka" pid deadline=$((SECONDS + KAFKA_START_TIMEOUT)) why=""
  pid=$(cat "$CET_VAR/run/kafka.pid")
  while :; do
    if ! pid_alive "$pid"; then
      kafka_tails
      die "kafka exited while starting"
    fi
    # a broker started just now must also have logged its start (so the answer is surely its
    # own); one already running is judged by the probe alone (its log may have rolled over)
    if [ "$KAFKA_JUST_STARTED" = 0 ] || grep -q 'Kafka Server started' "$dir/kafka.log" 2>/dev/null; then
      why=$(probe_kafka 2>&1) && { log "kafka: ready (pid $pid)"; return 0; }
    fi
    if ((SECONDS >= deadline)); then
      kafka_tails
      die "kafka not ready after ${KAFKA_START_TIMEOUT}s${why:+ ($why)}; it keeps running: deploy/local/infra.sh down to stop it"
    fi
    sleep 0.3
  done
}

probe_kafka() {
  local py
  py=$(command -v python3 || true)
  [ -n "$py" ] || py="$REPO/.venv/bin/python"
  "$py" "$HERE/kafka_probe.py" 127.0.0.1 "$KAFKA_PORT" 1
}

# the topics of deploy/topics.toml (the broker creates none by itself); existing ones stay as they are
kafka_topics() {
  local py
  py=$(mail_python)
  "$py" -m cet_shared.topics create --bootstrap "127.0.0.1:$KAFKA_PORT" --manifest "$REPO/deploy/topics.toml" </dev/null |
    sed 's/^/[infra] kafka: /' || die "could not create the topics of deploy/topics.toml"
}

kafka_tails() {
  local f
  for f in "$CET_VAR/kafka/kafka.out" "$CET_VAR/kafka/kafka.log"; do
    [ -s "$f" ] || continue
    printf -- '----- tail of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2
  done
}

kafka_down() {
  local pid
  pid=$(kafka_pid)
  if [ -n "$pid" ]; then
    log "kafka: stopping (pid $pid)"
    stop_pid "$pid" kafka 60
  fi
  rm -f "$CET_VAR/run/kafka.pid"
}

# ---------------------------------------------------------------------------------------------
# mail sink

mail_pid() { tracked_pid "$CET_VAR/run/mailsink.pid" mailsink; }

mail_python() { # an interpreter with aiosmtpd: the project's venv (uv dev group)
  local py="$REPO/.venv/bin/python"
  if [ -x "$py" ] && "$py" -c 'import aiosmtpd' 2>/dev/null; then
    echo "$py"
    return
  fi
  command -v uv >/dev/null || die "no .venv with aiosmtpd and no uv to make one (make sync)"
  log "mail sink: no .venv with aiosmtpd yet; uv run makes it" >&2
  (cd "$REPO" && uv run --frozen python -c 'import aiosmtpd, sys; print(sys.executable)' </dev/null) ||
    die "uv could not provide aiosmtpd (make sync)"
}

mail_up() {
  local pid py i
  pid=$(mail_pid)
  if [ -n "$pid" ]; then
    log "mail sink: already running (pid $pid)"
    return 0
  fi
  pid=$(claim_port "$SMTP_PORT" mailsink)
  if [ -n "$pid" ]; then
    echo "$pid" >"$CET_VAR/run/mailsink.pid"
    log "mail sink: already running (pid $pid; pid file restored)"
    return 0
  fi
  py=$(mail_python)
  mkdir -p "$CET_VAR/mail"
  log "mail sink: starting on 127.0.0.1:$SMTP_PORT -> $CET_VAR/mail"
  setsid "$py" "$HERE/mailsink.py" --host 127.0.0.1 --port "$SMTP_PORT" --maildir "$CET_VAR/mail" \
    </dev/null >>"$CET_VAR/mailsink.log" 2>&1 9>&- &
  pid=$!
  echo "$pid" >"$CET_VAR/run/mailsink.pid"
  for ((i = 0; i < 150; i++)); do
    if ! pid_alive "$pid"; then
      tail -n 20 "$CET_VAR/mailsink.log" >&2
      die "mail sink exited while starting"
    fi
    smtp_banner && return 0
    sleep 0.1
  done
  tail -n 20 "$CET_VAR/mailsink.log" >&2
  die "mail sink not answering on $SMTP_PORT"
}

smtp_banner() { # the sink answers with a 220 greeting
  (
    exec 3<>"/dev/tcp/127.0.0.1/$SMTP_PORT" || exit 1
    read -r -t 2 line <&3 || exit 1
    printf 'QUIT\r\n' >&3 || true
    [[ $line == 220* ]]
  ) 2>/dev/null
}

mail_down() {
  local pid
  pid=$(mail_pid)
  if [ -n "$pid" ]; then
    log "mail sink: stopping (pid $pid)"
    stop_pid "$pid" "mail sink" 10
  fi
  rm -f "$CET_VAR/run/mailsink.pid"
}

# ---------------------------------------------------------------------------------------------
# env file

env_line() { # NAME value -> export line, single-quoted only when needed
  if [[ $2 =~ ^[A-Za-z0-9_./:@+,=-]*$ ]]; then
    printf 'export %s=%s\n' "$1" "$2"
  else
    printf "export %s='%s'\n" "$1" "${2//\'/\'\\\'\'}"
  fi
}

write_env() {
  local svc up tmp="$CET_VAR/env.tmp"
  {
    echo "# Written by deploy/local/infra.sh up: local-only values, never commit. Source it: . $CET_VAR/env"
    env_line CET_VAR "$CET_VAR"
    env_line CET_ENV development
    env_line PG_ADMIN_URL "postgresql://postgres:$(secret pg-postgres)@127.0.0.1:$PG_PORT/postgres"
    for svc in "${SERVICES[@]}"; do
      up=${svc^^}
      env_line "DATABASE_URL_$up" "postgresql+asyncpg://$svc:$(secret "pg-$svc")@127.0.0.1:$PG_PORT/$svc"
    done
    env_line KAFKA_BOOTSTRAP_SERVERS "127.0.0.1:$KAFKA_PORT"
    env_line SMTP_HOST 127.0.0.1
    env_line SMTP_PORT "$SMTP_PORT"
    env_line MAIL_DIR "$CET_VAR/mail"
    env_line CAPTCHA_SECRET "$(secret captcha 32)"
    env_line JWT_PRIVATE_KEY_FILE "$CET_VAR/keys/jwt-ed25519.pem"
  } >"$tmp"
  chmod 600 "$tmp"
  mv "$tmp" "$CET_VAR/env"
}

# ---------------------------------------------------------------------------------------------
# commands

lock() { # one up/down/reset at a time per CET_VAR; children are started with 9>&-
  mkdir -p "$CET_VAR"
  exec 9>"$CET_VAR/.lock"
  flock -w 300 9 || die "another infra.sh holds $CET_VAR/.lock"
}

cmd_up() {
  local t0=$SECONDS
  command -v openssl >/dev/null || die "openssl not found (apt-get install -y openssl)"
  [ "$IS_ROOT" = 0 ] || getent passwd postgres >/dev/null || die "no postgres OS user (apt-get install -y postgresql)"
  lock
  mkdir -p "$CET_VAR/run" "$CET_VAR/kafka" "$CET_VAR/mail" "$CET_VAR/secrets" "$CET_VAR/keys"
  chmod 755 "$CET_VAR"
  chmod 700 "$CET_VAR/secrets" "$CET_VAR/keys"
  ensure_jwt_key
  secret captcha 32 >/dev/null
  kafka_fetch
  kafka_start
  pg_up
  mail_up
  kafka_wait
  kafka_topics
  write_env
  log "up in $((SECONDS - t0))s; environment: . $CET_VAR/env"
}

cmd_down() {
  [ -d "$CET_VAR" ] || { log "nothing to stop ($CET_VAR does not exist)"; return 0; }
  lock
  mail_down
  kafka_down
  pg_down
  log "down"
}

cmd_status() {
  local root pid all=0 holders
  if [ -d "$CET_VAR" ]; then
    root=$(pg_root)
    if pg_running "$root"; then
      printf '%-10s running  pid %s, 127.0.0.1:%s, data %s\n' postgres "$(pg_postmaster_pid "$root")" "$PG_PORT" "$root/data"
    else
      printf '%-10s stopped\n' postgres
      all=3
    fi
    pid=$(kafka_pid)
    if [ -n "$pid" ]; then
      if probe_kafka 2>/dev/null; then
        printf '%-10s running  pid %s, 127.0.0.1:%s, log %s\n' kafka "$pid" "$KAFKA_PORT" "$CET_VAR/kafka/kafka.log"
      else
        printf '%-10s starting pid %s (not answering yet), log %s\n' kafka "$pid" "$CET_VAR/kafka/kafka.log"
        all=3
      fi
    else
      printf '%-10s stopped\n' kafka
      all=3
    fi
    pid=$(mail_pid)
    if [ -n "$pid" ]; then
      printf '%-10s running  pid %s, 127.0.0.1:%s, mail in %s\n' mailsink "$pid" "$SMTP_PORT" "$CET_VAR/mail"
    else
      printf '%-10s stopped\n' mailsink
      all=3
    fi
  else
    log "$CET_VAR does not exist: nothing was started from here"
    all=3
  fi
  if [ "$all" != 0 ]; then
    for port in "$PG_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$SMTP_PORT"; do
      for pid in $(listen_pids "$port"); do
        [[ $(cet_identity "$pid") == *" $TOKEN" ]] && continue
        printf '%-10s port %s held by %s\n' note "$port" "$(describe_pid "$pid")"
      done
    done
  fi
  [ -f "$CET_VAR/env" ] && printf '%-10s %s\n' env "$CET_VAR/env"
  return "$all"
}

cmd_reset() {
  local root
  case "$CET_VAR" in
    / | "$REPO" | "${HOME:-/root}" | /root | /tmp | /var | /var/lib) die "refusing to delete CET_VAR=$CET_VAR" ;;
  esac
  [ -d "$CET_VAR" ] || { log "nothing to reset"; return 0; }
  [ -e "$CET_VAR/env" ] || [ -d "$CET_VAR/run" ] || [ -e "$CET_VAR/pg" ] ||
    die "$CET_VAR does not look like a CET_VAR (no env, run/ or pg); not deleting it"
  cmd_down
  root=$(pg_root)
  if [ -L "$CET_VAR/pg" ] && [[ $root == /var/lib/cet-local/* ]]; then
    rm -rf "$root"
  fi
  rm -rf "$CET_VAR"
  log "deleted $CET_VAR (the Kafka jars stay in $KAFKA_LIBS)"
}

# Stop CET local services of another checkout (another CET_VAR) that hold one of our ports:
# the leftovers of an earlier run. Ours and unknown processes are left alone (`up` reports them).
cmd_stop_stale() {
  local port pid id kind owner stopped=0
  for port in "$PG_PORT" "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$SMTP_PORT"; do
    for pid in $(listen_pids "$port"); do
      id=$(cet_identity "$pid")
      [ -n "$id" ] || continue
      read -r kind owner <<<"$id"
      [ "$owner" != "$TOKEN" ] || continue
      log "stopping stale $kind of another checkout on port $port: $(describe_pid "$pid")"
      case $kind in
        postgres) stop_pid "$pid" postgres 60 INT ;; # SIGINT = pg_ctl stop -m fast
        kafka) stop_pid "$pid" kafka 60 ;;
        *) stop_pid "$pid" "$kind" 10 ;;
      esac
      stopped=$((stopped + 1))
    done
  done
  log "stale processes stopped: $stopped"
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  stop-stale) cmd_stop_stale ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    exit 2
    ;;
esac
