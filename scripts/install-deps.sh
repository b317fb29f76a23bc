#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are not installed yet.
# Uses apt-get directly as root, sudo otherwise; says clearly what to install when it can do neither.
set -euo pipefail
missing=()
for pkg in "$@"; do
  if [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" != "install ok installed" ]]; then
    missing+=("$pkg")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "smlmkit: installing missing Debian packages: ${missing[*]}"
if [[ $(id -u) -eq 0 ]]; then
  apt=(apt-get)
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt=(sudo apt-get)
else
  echo "smlmkit: cannot install packages (not root and no password-less sudo)." >&2
  echo "smlmkit: please run: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}"
