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


def split_pairs(pairs: Sequence[Example], eval_fraction: float = 0.1) -> tuple[list, list]:
    """Deterministic train/held-out split of preference pairs by id order."""
    pairs = sorted(pairs, key=lambda p: str(p["id"]))
    n_eval = max(1, int(len(pairs) * eval_fraction)) if len(pairs) > 1 else 0
    return pairs[n_eval:], pairs[:n_eval]
