#!/usr/bin/env bash
# Installs what the tests need beyond Rust: Debian's headless Chromium and chromedriver for the
# browser test, poppler-utils (pdftotext) for the PDF tests, and axe-core (npm) for its accessibility checks. Safe to run again; does nothing when both are there. Needs root (or sudo) and
# apt; elsewhere it says what to install and leaves it to you.
set -euo pipefail

cd "$(dirname "$0")/.."

# axe-core, for the browser test's accessibility checks (WCAG 2.1 A and AA), pinned in
# tools/a11y/package-lock.json. Without it those checks say they are skipping.
if [ ! -f tools/a11y/node_modules/axe-core/axe.min.js ]; then
  if command -v npm >/dev/null; then
    echo "== installing axe-core (for the accessibility checks)"
    (cd tools/a11y && npm ci --no-audit --no-fund --silent) \
      || echo "setup: WARNING: axe-core could not be installed; the accessibility checks will say they are skipping" >&2
  else
    echo "setup: npm is missing: the browser test's accessibility checks will be skipped" >&2
  fi
fi

# Debian packages still missing: Chromium and chromedriver for the browser test, poppler's
# pdftotext for the driving-log PDF's text-extraction tests (they say SKIPPED without it).
NEED=""
if ! { command -v chromedriver >/dev/null && { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }; }; then
  NEED="chromium chromium-driver"
fi
command -v pdftotext >/dev/null || NEED="$NEED poppler-utils"
if [ -z "${NEED// /}" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "setup: install $NEED for the browser and PDF tests (they are skipped without them)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: run as root to install chromium and chromium-driver (the browser test is skipped without them)" >&2
    exit 0
  fi
fi
echo "== installing$NEED (for the browser and PDF tests)"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # NEED is a list of package names
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends $NEED >/dev/null; }; then
  echo "setup: WARNING:$NEED could not be installed; the tests that need them will say they are skipping" >&2
fi
