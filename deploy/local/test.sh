#!/usr/bin/env bash
# Runs the test suite against the local infrastructure: sources $CET_VAR/env (written by
# `deploy/local/infra.sh up`), then `uv run --frozen pytest "$@"`.
# pytest's exit code 5 ("no tests collected") is a failure here too: a run that tested nothing
# must not pass.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
cd "$REPO"
CET_VAR=$(realpath -m "${CET_VAR:-$REPO/.local}")
if [ ! -f "$CET_VAR/env" ]; then
  echo "test.sh: $CET_VAR/env not found; start the infrastructure first: make infra-up" >&2
  exit 1
fi
# shellcheck source=/dev/null
. "$CET_VAR/env"

rc=0
uv run --frozen pytest "$@" || rc=$?
if [ "$rc" = 5 ]; then
  echo "test.sh: pytest collected no tests (exit code 5): treated as a failure" >&2
fi
exit "$rc"
