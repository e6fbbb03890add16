#!/usr/bin/env bash
# System packages the tests need beyond Python: headless Chromium renders the saved reports.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing and cannot be installed here (need root and apt-get)" >&2
    exit 1
  fi
fi
