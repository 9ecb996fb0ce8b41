#!/bin/sh
# Installs what tessera needs on first use: npm dependencies, nats-server, and for the operations
# tests Debian's prometheus (with promtool) and chromium (driven by playwright-core; never a
# browser download). Idempotent and quiet when everything is already there.
set -e
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "tessera: installing npm dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund >&2
fi

# apt_install PACKAGE… : installs Debian packages, or says how to do it by hand and fails.
apt_install() {
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "tessera: cannot install $*: not root and no sudo. Install with 'apt-get install $*'." >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "tessera: cannot install $*: apt-get not available; install them by hand and put them on PATH." >&2
    exit 1
  fi
  echo "tessera: installing Debian's $*…" >&2
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@") >&2 || {
    echo "tessera: apt-get install $* failed; install by hand." >&2
    exit 1
  }
}

MISSING=""
if ! command -v nats-server >/dev/null 2>&1 && [ -z "$NATS_SERVER_BIN" ]; then MISSING="$MISSING nats-server"; fi
# The operations tests' tools only for the test command (`--with-test-tools`): `npm start` needs neither.
if [ "${1:-}" = "--with-test-tools" ]; then
  if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then MISSING="$MISSING prometheus"; fi
  if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then MISSING="$MISSING chromium"; fi
fi
if [ -n "$MISSING" ]; then
  # shellcheck disable=SC2086
  apt_install $MISSING
fi
