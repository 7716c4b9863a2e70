"""The conformance checks every vertical must pass, as plain functions returning a list of problems.

``tests/verticals/test_conformance.py`` runs them over every registered vertical, the scaffold's test
over a freshly generated package, and anyone can run them on an outside package::

    from core_training.conformance import check_vertical
    from core_training.registry import get_vertical
    problems = check_vertical(get_vertical("k12"))   # {check name: [problem, ...]}, empty lists = conformant

An empty list means the vertical passes that check.

>>> from types import SimpleNamespace
>>> cards_root_for(SimpleNamespace(datasets_dir="/pkg/vkit_k12/data_cards/k12"), Path("data_cards"))
PosixPath('/pkg/vkit_k12/data_cards')
>>> cards_root_for(SimpleNamespace(datasets_dir="data_cards/gaokao"), Path("/repo/data_cards"))
PosixPath('/repo/data_cards')
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from core_training.config import ConfigError, resolve_run_config
from core_training.contract import Vertical
from core_training.datacards import stale_cards
from core_training.rewards import all_passed, check

GOLD_CHAINS_CHECKED = 200
MAX_LISTED = 3


def _failing_rules(vertical: Vertical, answer: str, example) -> dict[str, str]:
    return {name: r.reason for name, r in check(vertical, answer, example).items() if not r.passed}


def eval_set_problems(vertical: Vertical) -> list[str]:
    """The eval set is non-empty and its ids are unique."""
    ids = [ex["id"] for ex in vertical.load_eval_set()]
    if not ids:
        return ["the eval set is empty"]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    return [f"duplicate eval ids: {', '.join(duplicates[:MAX_LISTED])}"] if duplicates else []


def gold_answer_problems(vertical: Vertical) -> list[str]:
    """Gold answers (eval set and the first chains) pass every applicable rule."""
    examples = list(vertical.load_eval_set()) + list(vertical.load_chains())[:GOLD_CHAINS_CHECKED]
    failures = [(ex["id"], _failing_rules(vertical, ex["answer"], ex)) for ex in examples]
    return [f"gold answer {i} fails {failed}" for i, failed in failures if failed][:MAX_LISTED]


def known_bad_problems(vertical: Vertical) -> list[str]:
    """Known-bad answers exist and each fails some rule."""
    bad = list(vertical.known_bad() if vertical.known_bad else [])
    if not bad:
        return [f"{vertical.name} supplies no known-bad answers"]
    passing = [ex["id"] for ex in bad if all_passed(check(vertical, ex["answer"], ex))]
    return [f"known-bad answer {i} passes every rule" for i in passing][:MAX_LISTED]


def preference_problems(vertical: Vertical) -> list[str]:
    """Preference pairs exist, and none prefers an answer the rules reject over one they accept."""
    pairs = list(vertical.load_preferences())
    if not pairs:
        return ["no preference pairs"]
    inverted = [p["id"] for p in pairs
                if all_passed(check(vertical, p["rejected"], p)) and not all_passed(check(vertical, p["chosen"], p))]
    return [f"pair {i}: the rules accept the rejected answer but not the chosen one" for i in inverted][:MAX_LISTED]


def graph_problems(vertical: Vertical) -> list[str]:
    """The knowledge graph loads with nodes, and the retriever answers the first eval question."""
    graph = vertical.load_graph()
    if graph is None or graph.number_of_nodes() == 0:
        return ["the knowledge graph is empty"]
    examples = vertical.load_eval_set()
    if not examples:
        return ["no eval example to retrieve for"]
    user = "\n".join(m["content"] for m in examples[0]["messages"] if m["role"] == "user")
    return [] if vertical.retrieve(user).strip() else [f"the retriever returns nothing for {user[:40]!r}"]


def paraphrase_problems(vertical: Vertical) -> list[str]:
    """The paraphrase set (optional): its gold answers pass every rule, and no question of it is a user turn
    of the training chains (it measures how people ask, so it must be unseen)."""
    if vertical.load_paraphrase_set is None:
        return []
    examples = list(vertical.load_paraphrase_set())
    trained = {m["content"] for ex in vertical.load_chains() for m in ex["messages"] if m["role"] == "user"}
    problems = [f"paraphrase gold answer {ex['id']} fails {failed}" for ex in examples
                if (failed := _failing_rules(vertical, ex["answer"], ex))]
    problems += [f"paraphrase question {ex['id']} is a training question" for ex in examples
                 if any(m["content"] in trained for m in ex["messages"] if m["role"] == "user")]
    return problems[:MAX_LISTED]


BUILD_TRUTH_CHECKED = 20


def build_truth_problems(vertical: Vertical) -> list[str]:
    """``build_truth`` is declared (the advisor checks live answers with it), and on the eval questions every
    fact it returns equals the example's ``truth`` (it may leave out facts a question cannot give)."""
    if vertical.build_truth is None:
        return [f"{vertical.name} declares no build_truth: the advisor cannot check a live answer against facts"]
    problems = []
    for ex in list(vertical.load_eval_set())[:BUILD_TRUTH_CHECKED]:
        user = "\n".join(m["content"] for m in ex["messages"] if m["role"] == "user")
        built = dict(vertical.build_truth(user))
        wrong = sorted(k for k, v in built.items() if ex.get("truth", {}).get(k) != v)
        if not built or wrong:
            problems.append(f"build_truth({user[:30]!r}) disagrees with eval example {ex['id']}'s truth on "
                            f"{wrong or 'everything (it returned nothing)'}")
    return problems[:MAX_LISTED]


def config_problems(vertical: Vertical) -> list[str]:
    """The vertical's config overrides resolve, alone and under ``--preset micro``."""
    try:
        cfg = resolve_run_config(dict(vertical.config_overrides), cli_overrides=[f"vertical={vertical.name}"])
        micro = resolve_run_config(dict(vertical.config_overrides), preset="micro")
    except ConfigError as error:
        return [f"config overrides do not resolve: {error}"]
    problems = [] if cfg.vertical == vertical.name else [f"resolved vertical is {cfg.vertical!r}"]
    return problems + ([] if micro.sft.max_steps <= 10 else ["--preset micro does not shrink sft.max_steps"])


def cards_root_for(vertical: Vertical, default: Path) -> Path:
    """Where the vertical's data cards live: the parent of an absolute ``datasets_dir`` (an outside
    package ships its own cards), else ``default`` (the repo's ``data_cards/``)."""
    datasets_dir = getattr(vertical, "datasets_dir", None)
    return Path(datasets_dir).parent if datasets_dir and Path(datasets_dir).is_absolute() else Path(default)


def data_card_problems(vertical: Vertical, cards_root: Path) -> list[str]:
    """Every dataset has a data card whose fingerprint matches the data."""
    stale = stale_cards(vertical, cards_root)
    return [f"missing or stale data cards in {cards_root / vertical.name}: {', '.join(stale)} "
            f"(run `vkit cards {vertical.name} --out {cards_root}`)"] if stale else []


CHECKS: dict[str, Callable[[Vertical], list[str]]] = {
    "eval_set": eval_set_problems, "gold_answers": gold_answer_problems, "known_bad": known_bad_problems,
    "preferences": preference_problems, "graph": graph_problems, "configs": config_problems,
    "build_truth": build_truth_problems, "paraphrase": paraphrase_problems,
}


def check_vertical(vertical: Vertical, default_cards_root: Path = Path("data_cards")) -> dict[str, list[str]]:
    """Run every check; ``{check name: problems}`` (all lists empty = conformant)."""
    results = {name: fn(vertical) for name, fn in CHECKS.items()}
    results["data_cards"] = data_card_problems(vertical, cards_root_for(vertical, default_cards_root))
    return results
