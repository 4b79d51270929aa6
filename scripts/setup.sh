#!/usr/bin/env bash
# Installs what the tests need beyond Rust: Debian's headless Chromium and chromedriver for the
# browser test. Safe to run again; does nothing when both are there. Needs root (or sudo) and
# apt; elsewhere it says what to install and leaves it to you.
set -euo pipefail

if command -v chromedriver >/dev/null && { command -v chromium >/dev/null || command -v chromium-browser >/dev/null; }; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "setup: install Chromium and chromedriver for the browser test (it is skipped without them)" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then SUDO="sudo"; else
    echo "setup: run as root to install chromium and chromium-driver (the browser test is skipped without them)" >&2
    exit 0
  fi
fi
echo "== installing chromium and chromium-driver (for the browser test)"
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; }; then
  echo "setup: WARNING: chromium could not be installed; the browser test will say it is skipping" >&2
fi
