"""Turning a vertical's examples into the datasets each TRL trainer reads.

Two prompt modes, used the same way in training, evaluation and the apps:

- ``closed_book``: the system prompt and the dialog, nothing else;
- ``grounded``: the system prompt carries the facts the vertical's retriever returns for the
  user's side of the dialog.

>>> from core_training.contract import Vertical
>>> v = Vertical(name="toy", description="", system_prompt="你是顾问。", rules=(), retrieve=lambda q: "事实A",
...     rubric=lambda r, e: {}, rubric_dimensions=(), load_graph=dict, load_cpt_corpus=dict, load_chains=list,
...     load_rl_prompts=list, load_preferences=list, load_eval_set=list)
>>> ex = {"id": "1", "messages": [{"role": "user", "content": "问题"}], "answer": "回答", "truth": {}}
>>> prompt_messages(v, ex, "grounded")[0]["content"]
'你是顾问。\\n\\n【已知事实】\\n事实A'
>>> [m["role"] for m in sft_messages(v, ex)]
['system', 'user', 'assistant']
"""

from __future__ import annotations

from typing import Sequence

from core_training.contract import Example, Vertical
from core_training.rewards import encode_example_columns

MODES = ("closed_book", "grounded")
FACTS_HEADER = "【已知事实】"


def user_text(messages: Sequence[dict]) -> str:
    """The user's side of a dialog, as the retriever sees it."""
    return "\n".join(m["content"] for m in messages if m["role"] == "user")


def system_prompt(vertical: Vertical, messages: Sequence[dict], mode: str) -> str:
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if mode == "closed_book":
        return vertical.system_prompt
    return f"{vertical.system_prompt}\n\n{FACTS_HEADER}\n{vertical.retrieve(user_text(messages))}"


def prompt_messages(vertical: Vertical, example: Example, mode: str = "grounded") -> list[dict]:
    """System turn plus the dialog before the answer."""
    msgs = list(example["messages"])
    return [{"role": "system", "content": system_prompt(vertical, msgs, mode)}, *msgs]


def sft_messages(vertical: Vertical, example: Example, mode: str = "grounded") -> list[dict]:
    """The whole training dialog: every assistant turn in it is trained (assistant-only loss)."""
    return [*prompt_messages(vertical, example, mode), {"role": "assistant", "content": example["answer"]}]


def cpt_dataset(texts: Sequence[str]):
    from datasets import Dataset

    return Dataset.from_dict({"text": list(texts)})


def sft_dataset(vertical: Vertical, examples: Sequence[Example], mode: str = "grounded"):
    from datasets import Dataset

    return Dataset.from_dict({"messages": [sft_messages(vertical, ex, mode) for ex in examples]})


def rl_dataset(vertical: Vertical, examples: Sequence[Example], mode: str = "grounded"):
    """Conversational prompts plus the columns the rules read (``truth`` as JSON, ``id``)."""
    from datasets import Dataset

    rows = []
    for ex in examples:
        cols = encode_example_columns({"id": ex["id"], "truth": ex.get("truth", {})})
        rows.append({"prompt": prompt_messages(vertical, ex, mode), **cols})
    return Dataset.from_list(rows)


def preference_dataset(vertical: Vertical, pairs: Sequence[Example], mode: str = "grounded"):
    """TRL's conversational preference format: prompt, chosen, rejected."""
    from datasets import Dataset

    return Dataset.from_list([
        {"prompt": prompt_messages(vertical, p, mode),
         "chosen": [{"role": "assistant", "content": p["chosen"]}],
         "rejected": [{"role": "assistant", "content": p["rejected"]}]}
        for p in pairs
    ])


VERTICAL_SOURCE = "vertical"  # the ``source`` of a vertical's own pairs; an annotation export's pairs are "export"


def pair_source(pair: Example) -> str:
    """Where a preference pair came from: its ``source`` field, else the vertical's own set."""
    return str(pair.get("source") or VERTICAL_SOURCE)


def with_source(pairs: Sequence[Example], source: str) -> list[dict]:
    """``pairs`` with ``source`` set where a pair does not name one already."""
    return [{**p, "source": p.get("source") or source} for p in pairs]


def preference_pairs(vertical: Vertical, preferences: Sequence[Example] | None = None) -> list[dict]:
    """The pairs the rm and dpo stages split: ``preferences`` (an annotation export, source "export" unless a
    pair names its own) when given, else the vertical's own pairs (source "vertical")."""
    if preferences is not None:
        return with_source(preferences, "export")
    return with_source(vertical.load_preferences(), VERTICAL_SOURCE)


def prompt_hash(example: Example) -> str:
    """A stable hash of the dialog a pair answers: pairs that share a prompt are held out together."""
    import hashlib
    import json

    text = json.dumps(list(example["messages"]), ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def split_pairs(pairs: Sequence[Example], eval_fraction: float = 0.1) -> tuple[list, list]:
    """Deterministic train/held-out split of preference pairs, stratified by :func:`pair_source`.

    Within each source the prompts are ordered by a hash of their dialog and the first
    ``eval_fraction`` of them (at least one, when a source has two or more prompts) are held out with
    every pair on them. So each source, an annotation export included, is both trained on and scored
    on unseen prompts; a pair's side depends on its content, not on its id or on the order of the list.

    >>> own = [{"id": f"gk-{i}", "messages": [{"role": "user", "content": f"q{i}"}]} for i in range(20)]
    >>> new = with_source([{"id": f"task-{i}", "messages": [{"role": "user", "content": f"n{i}"}]}
    ...                    for i in range(10)], "export")
    >>> train, held = split_pairs(own + new)
    >>> sum(pair_source(p) == "export" for p in train), sum(pair_source(p) == "export" for p in held)
    (9, 1)
    >>> sorted(p["id"] for p in split_pairs(list(reversed(own + new)))[1]) == sorted(p["id"] for p in held)
    True
    """
    train: list = []
    held_out: list = []
    for source in sorted({pair_source(p) for p in pairs}):
        group = [p for p in pairs if pair_source(p) == source]
        prompts = sorted({prompt_hash(p) for p in group})
        n_held = max(1, round(len(prompts) * eval_fraction)) if len(prompts) > 1 and eval_fraction > 0 else 0
        held = set(prompts[:n_held])
        train += [p for p in group if prompt_hash(p) not in held]
        held_out += [p for p in group if prompt_hash(p) in held]
    return train, held_out


def source_counts(pairs: Sequence[Example]) -> dict[str, int]:
    """How many pairs of each source ``pairs`` holds.

    >>> source_counts([{"source": "export"}, {}, {"source": "export"}])
    {'export': 2, 'vertical': 1}
    """
    counts: dict[str, int] = {}
    for p in pairs:
        counts[pair_source(p)] = counts.get(pair_source(p), 0) + 1
    return dict(sorted(counts.items()))
