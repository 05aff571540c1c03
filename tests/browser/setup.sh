#!/usr/bin/env bash
# Installs the browser driver for the upload-page tests (playwright-core,
# pinned in package-lock.json; it drives Debian's Chromium and downloads no
# browser). A no-op once the locked version is installed. Needs Node.js 18
# or later and npm.
set -euo pipefail
cd "$(dirname "$0")"
lock="$(sha256sum package-lock.json | cut -d' ' -f1)"
marker=node_modules/.genderlens-lock
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$lock" ]; then
    exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
echo "$lock" > "$marker"
