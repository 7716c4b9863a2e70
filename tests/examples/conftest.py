"""Make the example packages importable without installing them (the slow test installs k12 for real)."""

from __future__ import annotations

import sys
from pathlib import Path

K12 = Path(__file__).resolve().parents[2] / "examples" / "vkit-k12"
if str(K12) not in sys.path:
    sys.path.insert(0, str(K12))
