#!/usr/bin/env bash
# One single-node KRaft broker (broker and controller in one JVM), started the one way: by
# deploy/local/infra.sh (make infra-up) and by the test harness (tests/harness/stack_kafka.py, a
# broker of its own per run, which a drill may kill).
#   kafka.sh render DIR PORT CONTROLLER_PORT   DIR/server.properties from kafka/server.properties
#   kafka.sh format DIR                        format DIR/data once (a new cluster id)
#   kafka.sh run DIR [TAG]                     exec the broker in the foreground; TAG becomes
#                                              -Dcet.var=TAG, how infra.sh recognises its own broker
# CET_KAFKA_JVM_OPTS: heap and JIT options (default -Xms256m -Xmx512m); CET_KAFKA_LIBS: the jars
# infra.sh fetched (default ${XDG_CACHE_HOME:-$HOME/.cache}/cet-suite/kafka-<version>/libs).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
KAFKA_VERSION=4.1.1
KAFKA_LIBS=${CET_KAFKA_LIBS:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/cet-suite/kafka-$KAFKA_VERSION/libs}
LOG4J="$HERE/kafka/log4j2.xml"

die() { printf '[kafka] ERROR: %s\n' "$*" >&2; exit 1; }

java_bin() {
  local j v
  for j in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/java-17-openjdk-*/bin/java; do
    [ -x "$j" ] || continue
    v=$("$j" -version 2>&1 | awk -F'"' '/version/ { split($2, a, "."); print a[1]; exit }')
    [ "${v:-0}" -ge 17 ] 2>/dev/null && { echo "$j"; return; }
  done
  die "Java 17+ not found (apt-get install -y openjdk-17-jre-headless)"
}

jars() {
  compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null || die "Kafka jars not found in $KAFKA_LIBS: run \`make infra-up\` once (it fetches them)"
  echo "$KAFKA_LIBS/*"
}

render() { # dir port controller_port
  local dir=$1 esc
  mkdir -p "$dir/data"
  esc=$(printf '%s' "$dir/data" | sed 's/[\\&#]/\\&/g')
  sed -e "s#@@KAFKA_PORT@@#$2#g" -e "s#@@CONTROLLER_PORT@@#$3#g" -e "s#@@DATA_DIR@@#$esc#g" \
    "$HERE/kafka/server.properties" >"$dir/server.properties.tmp"
  mv "$dir/server.properties.tmp" "$dir/server.properties"
}

format() { # dir
  local dir=$1 java cp
  [ -f "$dir/data/meta.properties" ] && return 0
  java=$(java_bin) cp=$(jars)
  [ -s "$dir/cluster-id" ] || "$java" -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1 >"$dir/cluster-id"
  "$java" -cp "$cp" -XX:TieredStopAtLevel=1 -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$dir" \
    kafka.tools.StorageTool format --ignore-formatted -t "$(cat "$dir/cluster-id")" -c "$dir/server.properties" \
    >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "kafka storage format failed"; }
}

run() { # dir [tag]
  local dir=$1 tag=${2:-} java cp
  java=$(java_bin) cp=$(jars)
  # Each partition keeps files open and tests make new topics (6 partitions each): the hard limit.
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
  # shellcheck disable=SC2086 # the options are words
  exec "$java" ${CET_KAFKA_JVM_OPTS:--Xms256m -Xmx512m} -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$LOG4J" -Dkafka.logs.dir="$dir" ${tag:+"-Dcet.var=$tag"} \
    -cp "$cp" kafka.Kafka "$dir/server.properties"
}

case "${1:-}" in
  render) [ $# = 4 ] || die "usage: kafka.sh render DIR PORT CONTROLLER_PORT"; render "$2" "$3" "$4" ;;
  format) [ $# = 2 ] || die "usage: kafka.sh format DIR"; format "$2" ;;
  run) [ $# -ge 2 ] || die "usage: kafka.sh run DIR [TAG]"; run "$2" "${3:-}" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
