"""`vkit new-vertical`: the generated package passes the conformance checks untouched, registers through
an entry point, and its own tests (a table-driven rule test, doctests, conformance) pass."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from core_training import registry
from core_training.conformance import check_vertical
from core_training.scaffold import ScaffoldError, new_vertical


@pytest.fixture
def generated(tmp_path, monkeypatch):
    """A package for vertical ``tea`` in tmp, importable from there and registered as an entry point."""
    out = tmp_path / "vkit-tea"
    written = new_vertical("tea", out, "茶饮价格顾问")
    monkeypatch.syspath_prepend(str(out))
    info = registry.VerticalInfo("tea", "entry point vkit-tea", "vkit_tea:VERTICAL")
    monkeypatch.setattr(registry, "_entry_point_infos", lambda: [info])
    yield out, written
    for module in [m for m in sys.modules if m == "vkit_tea" or m.startswith("vkit_tea.")]:
        del sys.modules[module]


def test_layout(generated):
    out, written = generated
    names = {p.relative_to(out).as_posix() for p in written}
    assert {"pyproject.toml", "README.md", "vkit_tea/__init__.py", "vkit_tea/rules.py", "vkit_tea/kg.py",
            "vkit_tea/data.py", "tests/test_rules.py", "vkit_tea/data_cards/tea/eval_set.md"} <= names
    pyproject = (out / "pyproject.toml").read_text(encoding="utf-8")
    assert '[project.entry-points."vkit.verticals"]\ntea = "vkit_tea:VERTICAL"' in pyproject
    assert not any("{{" in p.read_text(encoding="utf-8") for p in written)


def test_registered_vertical_passes_conformance(generated):
    assert "tea" in [i.name for i in registry.list_verticals()]
    vertical = registry.get_vertical("tea")
    assert vertical.description == "茶饮价格顾问"
    problems = check_vertical(vertical)
    assert problems == {name: [] for name in problems}


def test_generated_package_tests_pass(generated):
    out, _ = generated
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(out / "tests")],
                          capture_output=True, text=True, cwd=out, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "10 passed" in proc.stdout


def test_rejects_bad_names_and_non_empty_dirs(tmp_path):
    with pytest.raises(ValueError, match="must match"):
        new_vertical("Tea-Shop", tmp_path / "x")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="not empty"):
        new_vertical("tea", tmp_path / "full")


def test_cli_hook(tmp_path, capsys):
    from core_training.scaffold import register

    parser = argparse.ArgumentParser(prog="vkit")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["new-vertical", "juice", "--out", str(tmp_path / "juice")])
    assert args.fn(args) == 0
    assert (tmp_path / "juice" / "vkit_juice" / "rules.py").is_file() and "pip install -e ." in capsys.readouterr().out
    assert "vkit_juice" not in sys.modules  # generating cards leaves no module behind
    args = parser.parse_args(["new-vertical", "Juice", "--out", str(tmp_path / "j2")])
    assert args.fn(args) == 2


def test_docstring_examples():
    import doctest

    for name in ("scaffold", "conformance"):
        result = doctest.testmod(importlib.import_module(f"core_training.{name}"))
        assert result.failed == 0 and result.attempted > 0
