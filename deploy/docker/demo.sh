#!/bin/sh
# The demo data for docker-compose.yml (the container twin of deploy/local/demo/load.sh; safe to
# run again): the registry and CET4 scores, the published exam session, the staff accounts, whose
# passwords make-secrets.sh generated into deploy/docker/secrets/demo-accounts.env (never printed).
set -eu
log() { printf '[demo] %s\n' "$*"; }

log "registry: $(eligibility-admin import-students /demo/students.csv)"
log "CET4 scores: $(eligibility-admin import-scores /demo/scores.csv)"

session_file=$(python -c 'from enrolment.cli import DEMO_SESSION; print(DEMO_SESSION)')
session_id=$(awk '$1 == "id:" { print $2; exit }' "$session_file")
if out=$(enrolment-admin setup "$session_file" --publish 2>&1); then
  log "exam session created and published"
elif printf '%s' "$out" | grep -q '已存在'; then
  enrolment-admin publish "$session_id" >/dev/null
  log "exam session $session_id already set up; published again"
else
  printf '%s\n' "$out" >&2
  exit 1
fi

# email, password variable (deploy/docker/secrets/demo-accounts.env, from make-secrets.sh), roles
create() {
  email=$1 variable=$2
  shift 2
  if out=$(passport-admin create-staff --email "$email" "$@" --password-env "$variable" 2>&1); then
    log "created $email"
  else
    log "$email not created (an earlier run made it?): $out"
  fi
}
create teacher@99101.test DEMO_TEACHER_PASSWORD --role teacher --school 99101
create support@cet.test DEMO_SUPPORT_PASSWORD --role support
create ops@cet.test DEMO_OPS_PASSWORD --role ops
log "staff passwords: deploy/docker/secrets/demo-accounts.env (on the host)"
