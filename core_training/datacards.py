"""Data cards (Hugging Face dataset-card format), generated from the data itself.

Every dataset a vertical ships or generates gets ``data_cards/<vertical>/<dataset>.md``; the YAML
header records the row count and a content hash, so :func:`stale_cards` (and a test) notices when a
card no longer matches its data. Regenerate with ``vkit cards VERTICAL``.

>>> schema_of([{"id": "a", "truth": {"rank": 1}}])
{'id': 'str', 'truth': 'dict'}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from core_training.config import config_hash
from core_training.contract import Vertical

DATASETS = ("graph", "cpt_corpus", "chains", "rl_prompts", "preferences", "dev_set", "eval_set")
LOADERS = {"cpt_corpus": "load_cpt_corpus", "chains": "load_chains", "rl_prompts": "load_rl_prompts",
           "preferences": "load_preferences", "dev_set": "load_dev_set", "eval_set": "load_eval_set"}
SPLIT_NAMES = {"dev_set": "dev", "eval_set": "test"}  # the split a card's rows form (else train)


def datasets_of(vertical: Vertical) -> tuple[str, ...]:
    """The datasets the vertical has a card for: every one of ``DATASETS`` but a ``dev_set`` it lacks."""
    return tuple(name for name in DATASETS if name != "dev_set" or getattr(vertical, "load_dev_set", None))


def schema_of(rows: Sequence[Any]) -> dict[str, str]:
    first = rows[0] if rows else {}
    return {k: type(v).__name__ for k, v in first.items()} if isinstance(first, dict) else {"text": "str"}


def dataset_rows(vertical: Vertical, name: str) -> tuple[list, dict[str, int]]:
    """The rows behind a card and the split sizes."""
    if name == "graph":
        import networkx as nx

        g = vertical.load_graph()
        rows = [{"node": str(n), **{k: str(v) for k, v in d.items()}} for n, d in g.nodes(data=True)]
        return rows, {"nodes": g.number_of_nodes(), "edges": g.number_of_edges()}
    data = getattr(vertical, LOADERS[name])()
    if isinstance(data, dict):
        rows = [{"split": split, "text": t} for split, texts in data.items() for t in texts]
        return rows, {split: len(texts) for split, texts in data.items()}
    return list(data), {SPLIT_NAMES.get(name, "train"): len(data)}


def _fingerprint(rows: list) -> str:
    return config_hash(rows)[:16]


def render_card(vertical: Vertical, name: str, rows: list, splits: dict[str, int], notes: dict | None = None) -> str:
    """The card's Markdown; ``notes`` (provenance, splits, ...) override the vertical's ``dataset_notes``."""
    notes = {**(getattr(vertical, "dataset_notes", {}) or {}), **(notes or {})}
    size = sum(v for k, v in splits.items() if k != "edges")
    bucket = "n<1K" if size < 1000 else "1K<n<10K" if size < 10_000 else "10K<n<100K"
    schema = "\n".join(f"- `{k}`: {t}" for k, t in schema_of(rows).items())
    split_lines = "\n".join(f"- {k}: {v}" for k, v in splits.items())
    return f"""---
license: {notes.get('license', 'apache-2.0')}
language: [zh]
pretty_name: {vertical.name} {name}
size_categories: [{bucket}]
vkit:
  vertical: {vertical.name}
  dataset: {name}
  rows: {len(rows)}
  fingerprint: {_fingerprint(rows)}
---
# {vertical.name} / {name}

{vertical.description}

## Provenance
{notes.get('provenance', 'Generated deterministically by the vertical package from its seed; rebuilt on load.')}

## Schema
{schema}

## Counts and splits
{split_lines}

{notes.get('splits', '')}

## Intended use
{notes.get('intended_use', f'Post-training and evaluating the {vertical.name} advisor with vkit. Not for real decisions.')}

## Limitations and known biases
{notes.get('limitations', 'Synthetic data: names and numbers are invented and only internally consistent.')}

## Licence
{notes.get('license', 'apache-2.0')}
"""


def card_path(root: Path, vertical: Vertical, name: str) -> Path:
    return Path(root) / vertical.name / f"{name}.md"


def write_cards(vertical: Vertical, root: Path) -> list[Path]:
    from core_training.io import atomic_write_text

    paths = []
    for name in datasets_of(vertical):
        rows, splits = dataset_rows(vertical, name)
        path = card_path(root, vertical, name)
        atomic_write_text(path, render_card(vertical, name, rows, splits))
        paths.append(path)
    return paths


def stale_cards(vertical: Vertical, root: Path) -> list[str]:
    """Datasets whose card is missing or whose recorded fingerprint differs from the data's."""
    stale = []
    for name in datasets_of(vertical):
        path = card_path(root, vertical, name)
        rows, _ = dataset_rows(vertical, name)
        if not path.is_file() or f"fingerprint: {_fingerprint(rows)}" not in path.read_text(encoding="utf-8"):
            stale.append(name)
    return stale
