#!/usr/bin/env bash
# Generates the secrets docker-compose.yml reads, once, into deploy/docker/secrets/ (git-ignored).
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
chmod 600 "$dir"/*
chmod 644 "$dir/jwt-ed25519.pem"  # read by the non-root service user inside the container
echo "secrets in $dir"
