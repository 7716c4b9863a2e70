#!/usr/bin/env bash
# Create .venv and install vkit with the exact stack in constraints.txt (pyproject.toml has only ranges).
# CPU torch first: an unpinned torch pulls a CUDA build. DeepSpeed (the distributed extra) builds from source
# with no ops prebuilt; its ops compile on first use.
# Usage: bash scripts/setup.sh [--with-system]   (--with-system also installs PostgreSQL and Chromium for the app tests)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then "$PY" -m venv .venv; fi
.venv/bin/python -m pip install -q --upgrade pip 2>&1 | grep -v -i warning || true
.venv/bin/python -m pip install -q -c constraints.txt torch 2>&1 | grep -v -i "warning" || true
.venv/bin/python -m pip install -q -c constraints.txt -e ".[test,apps,base,distributed]" 2>&1 | grep -v -i "warning" || true
.venv/bin/python -c "import torch, transformers, trl, peft, deepspeed.launcher; print('stack:', torch.__version__, transformers.__version__, trl.__version__, peft.__version__)" 2>&1 | grep -v "Setting accelerator"
if [ "${1:-}" = "--with-system" ] && [ "$(id -u)" = "0" ]; then
  need=""
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$need postgresql"
  command -v chromium >/dev/null 2>&1 || need="$need chromium"
  dpkg -s fonts-noto-cjk >/dev/null 2>&1 || need="$need fonts-noto-cjk fonts-noto-color-emoji"
  if [ -n "$need" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
  fi
fi
