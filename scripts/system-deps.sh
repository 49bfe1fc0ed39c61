#!/usr/bin/env bash
# Debian packages the browser tests need: Chromium and a CJK font (without it
# Chinese renders as boxes in screenshots). Installs only what is missing.
set -euo pipefail
missing=()
if [ "${1:-}" = bench ]; then
  command -v wrk >/dev/null || missing+=(wrk)
else
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi "wqy\|noto sans cjk" || missing+=(fonts-wqy-microhei)
  # tests/test_deploy.py runs deploy/nginx-grid-lms.conf in a real nginx on loopback (~1.5 MB installed)
  [ -x /usr/sbin/nginx ] || missing+=(nginx)
  # tests/certification/test_pdf_font.py checks the certificate's embedded font with pdffonts and renders it with pdftoppm
  command -v pdffonts >/dev/null || missing+=(poppler-utils)
  # tests/reports/test_exports.py opens our XLSX exports in LibreOffice, the spreadsheet a county office has
  # (~20 s to install without recommends)
  command -v soffice >/dev/null || missing+=(libreoffice-calc-nogui)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "system-deps: please install ${missing[*]} (needs root and apt-get); browser tests will fail without them" >&2
  exit 0
fi
echo "system-deps: installing ${missing[*]}"
apt-get update -qq
office=(); rest=()
for package in "${missing[@]}"; do [[ $package == libreoffice-* ]] && office+=("$package") || rest+=("$package"); done
[ ${#rest[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${rest[@]}" >/dev/null
# LibreOffice's recommends would add ~500 MB of desktop packages the tests don't need.
[ ${#office[@]} -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${office[@]}" >/dev/null
# Only the tests run nginx (on a loopback port); don't leave the package's own service serving port 80.
if [[ " ${missing[*]} " == *" nginx "* ]]; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
