#!/usr/bin/env bash
# Install the named Debian packages that are missing (fonts, graphviz, chromium).
# As root it installs them; otherwise it says what is missing and carries on, so a
# developer without root still gets a working (if plainer) service.
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages present: $*"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "note: missing system packages ${missing[*]} (install with: sudo apt-get install ${missing[*]})" >&2
  exit 0
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
