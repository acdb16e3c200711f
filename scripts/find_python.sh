#!/usr/bin/env bash
# Print the path of a working Python X.Y interpreter: on PATH first, then through pyenv.
# Usage: scripts/find_python.sh 3.10
set -euo pipefail
want="${1:?usage: find_python.sh X.Y}"

works() { "$1" -c "import sys, venv; sys.exit(0 if '%d.%d' % sys.version_info[:2] == '$want' else 1)" >/dev/null 2>&1; }

for candidate in "python$want" "python3"; do
  path="$(command -v "$candidate" 2>/dev/null || true)"
  if [ -n "$path" ] && works "$path"; then echo "$path"; exit 0; fi
done
if command -v pyenv >/dev/null 2>&1; then
  for version in $(pyenv versions --bare 2>/dev/null | grep -E "^${want//./\\.}(\.[0-9]+)?$" | sort -t. -k3 -n -r); do
    path="$(pyenv root)/versions/$version/bin/python$want"
    if works "$path"; then echo "$path"; exit 0; fi
  done
fi
for path in /usr/bin/python$want /usr/local/bin/python$want "$HOME"/.pyenv/versions/$want*/bin/python$want; do
  if [ -x "$path" ] && works "$path"; then echo "$path"; exit 0; fi
done
cat >&2 <<MSG
error: Python $want was not found (looked on PATH, in pyenv and in /usr/bin, /usr/local/bin).
Install it, for example with one of:
  pyenv install $want          (then re-run make)
  sudo apt-get install python$want python$want-venv
Q&Aid needs Python 3.10 for the Rasa server (Rasa Open Source 3.6.21) and Python 3.11 for the
action server and the models (CPU torch 2.13.0).
MSG
exit 1
