"""The core imports no vertical, knowledge graph or app: ``apps -> verticals, knowledge_graphs -> core``.

An AST scan of every module under core_training/, covering ``import x``, ``from x import y``,
relative imports that climb out of the package, and imports nested inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CORE = REPO / "core_training"
FORBIDDEN = {"verticals", "knowledge_graphs", "apps"}


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Absolute names of every module ``source`` imports; ``module`` is its own dotted name."""
    package = module.split(".") if is_package else module.split(".")[:-1]
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            prefix = ".".join(base + ([node.module] if node.module else []))
            names.update([prefix] if prefix else [])
            names.update(f"{prefix}.{alias.name}".lstrip(".") for alias in node.names)
    return names


def _module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


@pytest.mark.parametrize(
    ("source", "module", "expected"),
    [
        ("import verticals.gaokao", "core_training.x", "verticals.gaokao"),
        ("from apps import ui", "core_training.x", "apps.ui"),
        ("from .. import verticals", "core_training.x", "verticals"),
        ("from ..knowledge_graphs import kg", "core_training.x", "knowledge_graphs.kg"),
        ("def f():\n    import apps.web", "core_training.x", "apps.web"),
        ("from . import contract", "core_training.x", "core_training.contract"),
        ("from .sub import y", "core_training.pkg", "core_training.sub.y"),
    ],
)
def test_scanner_resolves_imports(source, module, expected):
    assert expected in imported_modules(source, module)


def test_core_imports_no_vertical_graph_or_app():
    offenders = []
    for path in sorted(CORE.rglob("*.py")):
        module, is_package = _module_name(path)
        for name in imported_modules(path.read_text(encoding="utf-8"), module, is_package):
            if name.split(".")[0] in FORBIDDEN:
                offenders.append(f"{path.relative_to(REPO)} imports {name}")
    assert not offenders, "core_training must not depend on verticals/knowledge_graphs/apps:\n" + "\n".join(offenders)
