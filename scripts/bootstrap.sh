#!/usr/bin/env bash
# Set up everything fiscalwatch needs on a fresh Debian machine; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libreoffice-writer libreoffice-calc   # .doc/.wps/.et conversion, test fixture rendering
  fonts-noto-cjk fonts-wqy-zenhei       # CJK glyphs for rendering and OCR fixtures
  poppler-utils poppler-data img2pdf    # scanned-PDF fixtures
  unar                                  # .rar archives (rarfile backend)
  antiword catdoc                       # text-only fallback for .doc
  chromium                              # headless browser tests of the dashboard
)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[[ -x .venv/bin/python ]] || python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
