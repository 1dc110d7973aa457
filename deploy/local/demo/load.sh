#!/usr/bin/env bash
# Loads the demo into the running suite (deploy/local/suite.sh up calls it; safe to run again):
#   registry and CET4 scores   eligibility-admin import-students / import-scores (upserts)
#   the exam session           enrolment-admin setup --publish (its demo document; kept when it exists)
#   staff accounts             passport-admin create-staff, passwords generated once and kept in
#                              $CET_VAR/demo/accounts.env (mode 600, local use only)
# Prints the demo accounts at the end.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/../../.." && pwd -P)
cd "$repo"
CET_VAR=$(realpath -m "${CET_VAR:-$repo/.local}")
# shellcheck source=/dev/null
. "$CET_VAR/env"
demo=$CET_VAR/demo
mkdir -p "$demo"
chmod 700 "$demo"
accounts=$demo/accounts.env
touch "$accounts"
chmod 600 "$accounts"

log() { printf '[demo] %s\n' "$*"; }

log "registry: $(uv run --frozen eligibility-admin import-students "$here/students.csv")"
log "CET4 scores: $(uv run --frozen eligibility-admin import-scores "$here/scores.csv")"

if [ -f services/enrolment/src/enrolment/cli.py ]; then
  session_file=services/enrolment/src/enrolment/demo/session.yaml
  session_id=$(awk '$1 == "id:" { print $2; exit }' "$session_file")
  if out=$(uv run --frozen enrolment-admin setup "$session_file" --publish 2>&1); then
    log "exam session created and published: $out"
  elif grep -q '已存在' <<<"$out"; then
    # the same document was loaded by an earlier `up`: publish again (eligibility upserts it)
    uv run --frozen enrolment-admin publish "$session_id" >/dev/null
    log "exam session $session_id already set up; published again"
  else
    printf '%s\n' "$out" >&2
    exit 1
  fi
else
  log "enrolment not present: no exam session loaded"
fi

# email|role args|label
staff=(
  "teacher@99101.test|--role teacher --school 99101|teacher of (99101)测试学校 (CET6 reviews, registry)"
  "support@cet.test|--role support|support agent (rebinding)"
  "ops@cet.test|--role ops|operator (exam sessions, registry and scores)"
)
for entry in "${staff[@]}"; do
  IFS='|' read -r email roles label <<<"$entry"
  grep -q "^$email " "$accounts" && continue
  DEMO_PASSWORD="Cet-$(openssl rand -hex 6)"
  export DEMO_PASSWORD
  # shellcheck disable=SC2086
  if out=$(uv run --frozen passport-admin create-staff --email "$email" $roles --password-env DEMO_PASSWORD 2>&1); then
    printf '%s %s %s\n' "$email" "$DEMO_PASSWORD" "$label" >>"$accounts"
    log "created $email"
  else
    log "could not create $email (its password, if it exists, is not in $accounts): $out"
  fi
done
unset DEMO_PASSWORD

echo
echo "Demo accounts (local use only; kept in $accounts):"
while read -r email password label; do
  printf '  %-22s %-18s %s\n' "$email" "$password" "$label"
done <"$accounts"
echo "  candidates: register at the portal (captcha), then query with a demo identity, e.g."
echo "    廖晓儿 中华人民共和国居民身份证 330101199001010024, 李博 澳门身份证 99101000001 (see deploy/local/demo/README.md)"
