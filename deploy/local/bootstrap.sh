#!/usr/bin/env bash
# Installs what `make up`, `make test` and .ci/run need and this machine lacks, so that the README's
# two commands are the whole set-up on a fresh Debian 12 machine. Idempotent and quick when
# everything is present (one `dpkg -s` per package, one version check per tool); `apt-get update`
# runs only when a package is missing.
#
#   Debian packages  PostgreSQL, Java 17, Maven (fetches the Kafka jars), nginx (the gateway),
#                    Chromium + CJK fonts (browser tests), Prometheus + promtool, poppler-utils
#                    and zbar-tools (admission-ticket checks), wrk (benchmarks)
#   uv               pinned ($UV_VERSION), into ~/.local/bin
#   Go tools         (`bootstrap.sh test` only: what the tests need) built from their modules with
#                    the machine's Go, into $CET_TOOLS: toxiproxy-server (fault drills), kustomize
#                    (renders deploy/k8s), docker-compose (validates docker-compose.yml offline;
#                    the slow one, several minutes the first time)
#
#   deploy/local/bootstrap.sh [up|test]     (default: up)
#
# Needs root (or sudo) only when a Debian package is missing. Settings: CET_TOOLS (default
# ${XDG_CACHE_HOME:-~/.cache}/cet-suite/bin). Prints the PATH additions the caller needs.
set -euo pipefail
MODE=${1:-up}

UV_VERSION=0.13.9
TOXIPROXY_MODULE=github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0
KUSTOMIZE_MODULE=sigs.k8s.io/kustomize/kustomize/v5@v5.5.0  # the newest v5 that builds with Go 1.26
CET_TOOLS=${CET_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/cet-suite/bin}
export DEBIAN_FRONTEND=noninteractive PIP_ROOT_USER_ACTION=ignore PIP_DISABLE_PIP_VERSION_CHECK=1
export PATH="${HOME:-/root}/.local/bin:$CET_TOOLS:/usr/local/go/bin:$PATH"

log() { printf '[bootstrap] %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
  log "ERROR: '$*' needs root and there is no sudo"; exit 1; fi; }

# -- Debian packages ---------------------------------------------------------------------------
have_pkg() { dpkg -s "$1" >/dev/null 2>&1; }
packages=(postgresql openjdk-17-jre-headless maven nginx curl chromium fonts-noto-cjk openssl make
  python3 ca-certificates prometheus poppler-utils zbar-tools wrk git)
missing=()
for p in "${packages[@]}"; do
  case $p in
    # a Java 17+ already on PATH (another package, a JDK) will do; so will any python3 >= 3.11
    openjdk-17-jre-headless) java -version 2>&1 | grep -qE 'version "(1[7-9]|[2-9][0-9])' && continue ;;
    python3) python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && continue ;;
  esac
  have_pkg "$p" || missing+=("$p")
done
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
command -v go >/dev/null || missing+=(golang-go)
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# -- uv, pinned --------------------------------------------------------------------------------
if [ "$(uv --version 2>/dev/null | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  log "installing uv $UV_VERSION into ~/.local/bin"
  # Debian's python3 is "externally managed" (PEP 668): a --user install needs the override there
  python3 -m pip install -q --user "uv==$UV_VERSION" 2>/dev/null \
    || python3 -m pip install -q --user --break-system-packages "uv==$UV_VERSION"
  hash -r
fi

# -- Go tools, built from their modules --------------------------------------------------------
go_tool() { # <binary name> <module@version>: builds once per version (a stamp file records it)
  local name=$1 module=$2 stamp="$CET_TOOLS/.$1.version" built
  if [ -x "$CET_TOOLS/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$module" ]; then return 0; fi
  log "building $name from $module"
  mkdir -p "$CET_TOOLS"
  built=$(mktemp -d)
  GOBIN="$built" GOFLAGS=-mod=mod go install "$module"
  mv "$built"/* "$CET_TOOLS/$name"
  rmdir "$built"
  printf '%s\n' "$module" >"$stamp"
}
if [ "$MODE" = test ]; then
  go_tool toxiproxy-server "$TOXIPROXY_MODULE"
  go_tool kustomize "$KUSTOMIZE_MODULE"
  "$(dirname "${BASH_SOURCE[0]}")/../docker/build-compose.sh" "$CET_TOOLS"
fi

log "ready: uv $(uv --version | cut -d' ' -f2), tools in $CET_TOOLS"
