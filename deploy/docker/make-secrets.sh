#!/usr/bin/env bash
# Generates the secrets docker-compose.yml reads, once, into deploy/docker/secrets/ (git-ignored,
# kept out of the image by .dockerignore): the database password, passport's signing key, the
# services' environment (captcha secret, database URLs) and the demo staff passwords.
# The payment sandbox's test keys are made inside compose (the payment-keys service).
set -euo pipefail
dir=$(cd "$(dirname "$0")" && pwd)/secrets
mkdir -p "$dir"
[ -f "$dir/db_password" ] || openssl rand -hex 24 >"$dir/db_password"
[ -f "$dir/jwt-ed25519.pem" ] || openssl genpkey -algorithm ed25519 -out "$dir/jwt-ed25519.pem"
if [ ! -f "$dir/cet.env" ]; then
  pw=$(cat "$dir/db_password")
  {
    echo "CAPTCHA_SECRET=$(openssl rand -hex 32)"
    for svc in passport eligibility enrolment payment; do
      echo "DATABASE_URL_$(echo $svc | tr a-z A-Z)=postgresql+asyncpg://$svc:$pw@postgres:5432/$svc"
    done
  } >"$dir/cet.env"
fi
if [ ! -f "$dir/demo-accounts.env" ]; then
  for who in TEACHER SUPPORT OPS; do
    echo "DEMO_${who}_PASSWORD=Cet-$(openssl rand -hex 6)"
  done >"$dir/demo-accounts.env"
fi
chmod 600 "$dir"/*
chmod 644 "$dir/jwt-ed25519.pem"  # read by the non-root service user inside the container
echo "secrets in $dir (demo staff passwords: $dir/demo-accounts.env)"
