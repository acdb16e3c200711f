#!/usr/bin/env bash
# Browser test of the web chat: headless Chromium (Debian package) driven by playwright-core.
# Installs what it needs: Chromium via apt when run as root (otherwise prints the command), npm packages via npm ci.
set -euo pipefail
cd "$(dirname "$0")"

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$CHROMIUM" ]; then
  install_cmd="apt-get install -y --no-install-recommends chromium"
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Chromium (Debian package)..."
    apt-get update -q && DEBIAN_FRONTEND=noninteractive $install_cmd
  else
    echo "Chromium is missing at $CHROMIUM. Install it with: sudo $install_cmd" >&2
    exit 1
  fi
fi

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

exec node --test --test-concurrency=1 webchat.test.mjs
