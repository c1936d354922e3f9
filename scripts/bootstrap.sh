#!/usr/bin/env bash
# Set up everything fablabctl needs on a Debian machine, idempotently:
#   Debian packages (installed when root, otherwise the exact apt-get line is printed),
#   the virtual environment .venv with the package and its dependencies.
# Usage: scripts/bootstrap.sh [run|test]   (test also installs what the test suite needs)
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-run}"
. scripts/quiet.sh

packages=(prusa-slicer)                      # the slicer used to turn STL into G-code
# documents (WeasyPrint): Pango and HarfBuzz for text, a font package so PDFs render offline
packages+=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core)
if [ "$purpose" = test ]; then
  packages+=(postgresql socat)               # throwaway PostgreSQL server, pty tools for serial tests
  packages+=(poppler-utils)                  # pdftotext / pdftoppm: the document tests read the PDFs
  packages+=(chromium)                       # the browser tests (tests/web) drive it with Playwright
fi
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)

missing=()
for pkg in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "fablabctl: installing Debian packages: ${missing[*]}"
    quietly "apt-get update" apt-get update -qq
    quietly "apt-get install ${missing[*]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}"
  else
    echo "fablabctl: missing Debian packages. Run as root:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "fablabctl needs Python >= 3.11 (found $(python3 --version 2>&1))" >&2; exit 1; }

[ -x .venv/bin/python ] || quietly "creating .venv" python3 -m venv .venv
# reinstall only when the declared dependencies changed
stamp=".venv/.fablabctl-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  echo "fablabctl: installing the Python packages into .venv (a few minutes the first time)..."
  quietly "upgrading pip" .venv/bin/python -m pip install -q --upgrade pip
  quietly "installing fablabctl and its dependencies" .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.fablabctl-installed-*
  touch "$stamp"
  echo "fablabctl: Python packages installed."
fi

if [ "$purpose" = test ] && [ -x scripts/setup_octoprint.sh ]; then
  scripts/setup_octoprint.sh            # a real OctoPrint server (own venv) for the driver tests
fi
