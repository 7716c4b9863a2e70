#!/usr/bin/env bash
# Create .venv and install vkit with its pinned stack. CPU torch first: an unpinned torch pulls a CUDA build.
# Usage: bash scripts/setup.sh [--with-system]   (--with-system also installs PostgreSQL and Chromium for the app tests)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v -i warning || true
.venv/bin/python -m pip install -q "torch==2.13.0" 2>&1 | grep -v -i "warning" || true
.venv/bin/python -m pip install -q -e ".[test,apps,base]" 2>&1 | grep -v -i "warning" || true
.venv/bin/python -c "import torch, transformers, trl, peft; print('stack:', torch.__version__, transformers.__version__, trl.__version__, peft.__version__)"
if [ "${1:-}" = "--with-system" ] && [ "$(id -u)" = "0" ]; then
  need=""
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
  command -v chromium >/dev/null 2>&1 || need="$need chromium"
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need="$need fonts-noto-cjk fonts-noto-color-emoji"
  if [ -n "$need" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  fi
fi
