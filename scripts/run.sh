#!/usr/bin/env bash
# Set up and run the main job: `vkit run gaokao` from the shipped tiny MoE base (about 10-15 minutes on 2 CPU cores).
# Extra arguments go to `vkit run`, e.g.  bash scripts/run.sh auto --preset micro
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
if [ $# -eq 0 ]; then set -- gaokao; fi
exec .venv/bin/vkit run "$@"
