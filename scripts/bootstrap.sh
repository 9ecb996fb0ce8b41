#!/bin/sh
# Installs what tessera needs on first use: npm dependencies and nats-server.
# Idempotent and quiet when everything is already there.
set -e
cd "$(dirname "$0")/.."
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "tessera: installing npm dependencies (npm ci)…" >&2
  npm ci --no-audit --no-fund >&2
fi
if ! command -v nats-server >/dev/null 2>&1 && [ -z "$NATS_SERVER_BIN" ]; then
  echo "tessera: nats-server not found; installing Debian's nats-server package…" >&2
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "tessera: cannot install nats-server: not root and no sudo. Install it with 'apt-get install nats-server' or set NATS_SERVER_BIN." >&2
      exit 1
    fi
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "tessera: cannot install nats-server: apt-get not available. Install nats-server (>= 2.9) and put it on PATH, or set NATS_SERVER_BIN." >&2
    exit 1
  fi
  ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nats-server) >&2 || {
    echo "tessera: apt-get install nats-server failed; install it by hand or set NATS_SERVER_BIN." >&2
    exit 1
  }
fi
