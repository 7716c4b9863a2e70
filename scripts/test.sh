#!/usr/bin/env bash
# Set up (venv + system packages for the app tests) and run the whole test suite on CPU, offline.
# Usage: bash scripts/test.sh [--fast] [pytest arguments ...]
#   --fast  the fast tier: leaves out the tests marked slow (training, real browser) or gpu
set -uo pipefail
tier=()
if [ "${1:-}" = "--fast" ]; then tier=(-m "not slow and not gpu"); shift; fi
cd "$(dirname "$0")/.."
bash scripts/setup.sh --with-system || exit 1
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
mkdir -p test-artifacts
.venv/bin/python -m pytest -q --junitxml=test-artifacts/junit.xml "${tier[@]}" "$@"
rc=$?
# A plain closing line from the JUnit report (some app tests swallow pytest's own last line).
.venv/bin/python - <<'PY'
import xml.etree.ElementTree as ET
root = ET.parse("test-artifacts/junit.xml").getroot()
suite = root if root.tag == "testsuite" else root[0]
tests, failures, errors, skipped = (int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped"))
print(f"{tests - failures - errors - skipped} passed, {failures + errors} failed, {skipped} skipped")
PY
exit $rc
