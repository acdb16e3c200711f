#!/usr/bin/env bash
# Installs the Debian servers the scaled topology needs (redis-server, haproxy, postgresql) when one is missing:
# with apt-get when run as root, otherwise it prints the command to run.
set -euo pipefail
missing=()
command -v redis-server >/dev/null || missing+=(redis-server)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ ${#missing[@]} -eq 0 ] && exit 0
install_cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing ${missing[*]} ..."
  apt-get update -q && DEBIAN_FRONTEND=noninteractive $install_cmd
else
  echo "Missing: ${missing[*]}. Install them with: sudo $install_cmd" >&2
  exit 1
fi
