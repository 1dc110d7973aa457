#!/usr/bin/env bash
# Builds Docker Compose from its Go module (no Docker engine needed: `docker-compose config`
# validates docker-compose.yml offline), into DIR/docker-compose. tests/deploy/test_compose.py
# runs it. The module's go.mod has replace/exclude directives, so `go install pkg@version` refuses
# it: build inside the downloaded module instead.
#   deploy/docker/build-compose.sh /root/.cache/cet-suite/bin
set -euo pipefail
COMPOSE_VERSION=v2.40.3
out=${1:?usage: build-compose.sh DIR}
mkdir -p "$out"
if [ -x "$out/docker-compose" ] && "$out/docker-compose" version >/dev/null 2>&1 && [ -f "$out/.docker-compose-$COMPOSE_VERSION" ]; then
  exit 0
fi
module=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
work=$(mktemp -d)
trap 'chmod -R u+w "$work"; rm -rf "$work"' EXIT
cp -r "$module/." "$work/"
chmod -R u+w "$work"
(cd "$work" && go build -trimpath -ldflags "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" -o "$out/docker-compose" ./cmd)
touch "$out/.docker-compose-$COMPOSE_VERSION"
echo "docker-compose $COMPOSE_VERSION in $out"
