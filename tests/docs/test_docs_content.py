"""The README and docs/ read as a product: short README, no machine's paths, no run names outside the repo,
and the runnable examples of docs/writing-a-vertical.md run."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEXT = (".md", ".json", ".yml", ".yaml", ".txt")
PAGES = [ROOT / "README.md", ROOT / "mkdocs.yml", *sorted(p for p in (ROOT / "docs").rglob("*") if p.suffix in TEXT)]
# An absolute path: a slash that starts a word (not a URL's, a fraction's or a relative path's) and two
# or more segments, e.g. /tmp/run or /home/me/models; and SQLite's sqlite:////abs/file form.
ABSOLUTE_PATH = re.compile(r"(?<![\w.~:/\\\-\]\)}>$%@!])/[\w.\-]+/[\w.\-]+|sqlite:////\w")
RUN_NAME = re.compile(r"runs/[\w\-]+/r\d+\b")


def findings(pattern: re.Pattern, text: str) -> list[str]:
    """``line N: match`` for each match of ``pattern`` in ``text``.

    >>> findings(ABSOLUTE_PATH, "see /tmp/fin2/gaokao and https://a.b/c/d, 1/2/3, docs/x/y, sqlite:////tmp/x.db")
    ['line 1: /tmp/fin2', 'line 1: sqlite:////t']
    >>> findings(RUN_NAME, "runs/realestate/r11 and runs/k12-micro")
    ['line 1: runs/realestate/r11']
    """
    return [f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group()}" for m in pattern.finditer(text)]


def test_the_patterns_catch_what_they_must():
    result = doctest.DocTestRunner().run(doctest.DocTestFinder().find(findings, globs=globals())[0])
    assert result.failed == 0 and result.attempted == 2


def test_readme_is_a_short_guide():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) < 250, f"README.md has {len(lines)} lines; the guide stays under 250 (history goes to docs/)"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_machine_path_and_no_run_name_outside_the_repo(page):
    text = page.read_text(encoding="utf-8")
    found = findings(ABSOLUTE_PATH, text) + findings(RUN_NAME, text)
    assert not found, f"{page.relative_to(ROOT)}: {found}"


def test_writing_a_vertical_describes_every_contract_field():
    import dataclasses

    from core_training.contract import Vertical

    text = (ROOT / "docs" / "writing-a-vertical.md").read_text(encoding="utf-8")
    missing = [f.name for f in dataclasses.fields(Vertical) if f"| `{f.name}` |" not in text]
    assert not missing, f"docs/writing-a-vertical.md: the contract table lacks {missing}"


def test_writing_a_vertical_examples_run():
    text = (ROOT / "docs" / "writing-a-vertical.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    for block in blocks:
        scope: dict = {}
        exec(compile(block, "docs/writing-a-vertical.md", "exec"), scope)  # noqa: S102 - our own docs
        for obj in [v for v in scope.values() if callable(v) and ">>>" in (getattr(v, "__doc__", "") or "")]:
            for test in doctest.DocTestFinder().find(obj, globs=scope):
                assert doctest.DocTestRunner().run(test).failed == 0, obj.__name__
