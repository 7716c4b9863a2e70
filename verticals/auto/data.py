"""Datasets of the auto vertical: SFT chains, RL prompts, eval set, preference pairs, known-bad answers.

Everything is deterministic (``DATA_SEED``) and cached per process. A question is kept only when the
retriever reads back the intent it was written from, and each example's ``truth`` is built by calling
the retriever on the example's own user text, so the grounded prompt the core builds with ``retrieve``
lists exactly the trims the rules check.

Held-out evaluation is by series, in two splits (:mod:`verticals.auto.kg`):

* SFT, RL and preference questions name only trims of the 32 training series, and a recommendation is
  kept for training only when *every* retrieved candidate belongs to them, so no held-out trim
  appears in a training prompt, truth or answer;
* ``dev`` (:func:`load_dev_set`, for choosing settings; the eval set the shipped settings were chosen
  on, unchanged, ids ``auto-eval-*``): spec and comparison questions name only trims of the 8 dev series
  (both trims of a comparison), and every dev recommendation recommends at least one of them;
* ``test`` (:func:`load_eval_set`, never used to choose anything): the same with the 6 test series of two
  超豪华 brands; no test example lists a trim of another split. Its recommendations have budgets of
  ``TEST_BUDGETS`` (every test trim costs over 75万, out of reach of the others' budgets: :func:`priced_out`). It is drawn
  from a random stream of its own after every other split, so adding it changed no other example.

An imported graph without test series has no dev split: its eval series are the test split
(:func:`splits_used` says so).

Question types are mixed 40% spec / 30% compare / 30% recommend in every split.

>>> chains = load_chains()
>>> len(chains), sorted(chains[0])
(1000, ['answer', 'id', 'messages', 'truth'])
"""

from __future__ import annotations

import random
from functools import lru_cache
from itertools import repeat
from typing import Iterable

from core_training.authoring import gold_examples, shuffled_perturbations, user_example, weighted_choice
from core_training.contract import DataError
from verticals.auto.experts import EXPERT_STYLES, write_gold_answer
from verticals.auto.kg import auto_index
from verticals.auto.paraphrase import load_paraphrase_set  # noqa: F401 (a loader: dataset_loaders picks it up)
from verticals.auto.perturb import BREAKS, HARD_PERTURBATIONS, PERTURBATIONS
from verticals.auto.query import QueryError
from verticals.auto.questions import compare_question, intent_matches, recommend_question, spec_question
from verticals.auto.retriever import build_truth

DATA_SEED = 20250624
SIZES = {"sft": 1000, "rl": 200, "pref": 330, "eval": 60, "test": 60}  # pref: spare questions, 300 pairs kept
TEST_STREAM = 10  # test questions are drawn from random.Random(DATA_SEED + TEST_STREAM)
TEST_BUDGETS = range(175, 241)  # 万: a test recommendation's budget (candidates cost 0.45-1.25 x the budget)
PREFERENCE_PAIRS = 300
TYPE_SHARES = (("spec", 0.4), ("compare", 0.3), ("recommend", 0.3))
STYLE_WEIGHTS = {"干练": 0.4, "热心": 0.2, "笼统": 0.2, "发散": 0.2}
MAX_TRIES = 2_000  # draws per wanted question before giving up (the generated graph needs at most 35)
KIND_NEEDS = {  # what a usable question of each kind needs from the graph (for the error of a graph too small)
    "spec": "a trim of the split with a parameter to ask about, in a wording not drawn before",
    "compare": ("two trims of the split in one series, or of one body type within 35% in price, differing on a "
                "comparable 项 (price, power, 0-100, fuel or range of the same energy, ...)"),
    "recommend": ("a budget (6-60万) and body/energy need that at least two trims fit while a third is over budget "
                  "or of another energy; eval recommendations must include a held-out trim, training ones none"),
}


def split_ok(truth: dict, split: str) -> bool:
    """Whether a question belongs to ``split`` under the held-out-series design (module docstring)."""
    pool_of, pool = auto_index().pool_of, split_pool(split)
    pools = [pool_of(c["trim"]) for c in truth["candidates"]]
    if pool == "train":
        return all(p == "train" for p in pools)
    if truth["type"] == "recommend":
        recommended = any(pool_of(c["trim"]) == pool for c in truth["candidates"] if c["id"] in truth["recommend"])
        return recommended and ({"eval": "test", "test": "eval"}[pool] not in pools)  # dev and test share no trim
    return all(p == pool for p in pools)


def split_pool(split: str) -> str:
    """The pool of series a split's questions are about: ``train``, ``eval`` (the dev split) or ``test``.

    >>> split_pool("sft"), split_pool("eval"), split_pool("test")
    ('train', 'eval', 'test')
    """
    return split if split in ("eval", "test") else "train"


def priced_out(pool: str) -> bool:
    """Whether every trim of ``pool`` costs over ``TEST_MIN_PRICE``, out of reach of the usual budgets (the
    generated test series): its recommendations then get budgets of ``TEST_BUDGETS``."""
    from knowledge_graphs.auto import TEST_MIN_PRICE

    return all(auto_index().trims[t]["price"] > TEST_MIN_PRICE for t in trim_pool(pool))


@lru_cache(maxsize=3)
def trim_pool(pool: str) -> tuple[str, ...]:
    """Trims of ``pool`` (``train``, ``eval`` or ``test``): the ones its questions may name."""
    index = auto_index()
    return tuple(t for t in sorted(index.trims) if index.pool_of(t) == pool)


def usable(truth: dict) -> bool:
    """A recommendation needs two fitting trims and at least one trap (over budget / wrong energy)."""
    if truth["type"] != "recommend":
        return True
    return len(truth["recommend"]) == 2 and any(c["tag"] != "符合" for c in truth["candidates"])


def draw_question(rng: random.Random, kind: str, split: str) -> tuple[str, dict] | None:
    """One question of ``kind`` for ``split`` with its truth, or None when the draw is unusable."""
    pool = list(trim_pool(split_pool(split)))
    if kind == "spec":
        text, intent = spec_question(rng, pool)
    elif kind == "compare":
        text, intent = compare_question(rng, pool)
    else:
        text, intent = recommend_question(rng, TEST_BUDGETS if split == "test" and priced_out("test") else None)
    if text is None:
        return None
    try:
        truth = build_truth(text)
    except QueryError:
        return None
    if not (intent_matches(truth, intent) and usable(truth) and split_ok(truth, split)):
        return None
    return text, truth


def check_pools() -> None:
    """A DataError naming what is missing when the graph has no held-out or no training trims."""
    index = auto_index()
    for pools, role in ((("eval", "test"), "held-out (dev or test)"), (("train",), "training")):
        if not any(trim_pool(pool) for pool in pools):
            raise DataError(
                f"auto: the graph has no {role} trims. The dev and test sets are held out by series: an imported "
                "graph names them with options.eval_series / test_series in the trims mapping (without any, the "
                "series named in verticals.auto.kg.HELD_OUT_SERIES, or else the last ~15% of the series, are held "
                f"out); at least one series must be left for "
                f"training. Series: {sorted(s['name'] for s in index.series.values())}; held out: "
                f"{sorted(index.series[s]['name'] for s in index.held_out)}")


@lru_cache(maxsize=1)
def _questions() -> dict[str, list[tuple[str, dict]]]:
    """All splits' questions from one seeded stream; no question text repeats across splits.

    Raises:
        DataError: the graph cannot give a split its questions (no held-out or training trims, or
            ``MAX_TRIES`` draws without a usable question of some kind); the message says what is needed.
    """
    check_pools()
    rng, seen, out = random.Random(DATA_SEED), set(), {}
    for split in ("sft", "rl", "pref", "eval"):
        if split != "eval" or trim_pool("eval"):
            out[split] = _split_questions(rng, split, seen)
    if trim_pool("test"):
        out["test"] = _split_questions(random.Random(DATA_SEED + TEST_STREAM), "test", seen)
    return out


def _split_questions(rng: random.Random, split: str, seen: set) -> list[tuple[str, dict]]:
    """``SIZES[split]`` questions of the kinds' shares whose text is not in ``seen`` (updated)."""
    size = SIZES[split]
    kinds = [kind for kind, share in TYPE_SHARES for _ in range(round(size * share))]
    rng.shuffle(kinds)
    rows = []
    for kind in kinds:
        for _ in range(MAX_TRIES):
            drawn = draw_question(rng, kind, split)
            if drawn and drawn[0] not in seen:
                seen.add(drawn[0])
                rows.append(drawn)
                break
        else:
            pool = trim_pool(split_pool(split))
            raise DataError(
                f"auto: could not draw a usable {kind} question for {split} in {MAX_TRIES} tries "
                f"({len(rows)} of {size} {split} questions drawn). It needs {KIND_NEEDS[kind]}. The graph has "
                f"{len(pool)} {split_pool(split)}-pool trims in "
                f"{len({auto_index().trims[t]['series'] for t in pool})} series; add trims (more series, "
                "bodies, energies and prices) or lower verticals.auto.data.SIZES")
    return rows


def splits_used() -> str:
    """One line saying which series the dev and test splits hold out in this graph.

    >>> splits_used()
    'dev: 8 held-out series (凌云 晨曦 松涛 浪花 澄空 立夏 长庚 黑曜); test: 6 test series (珊瑚 琉璃 琥珀 翡翠 鎏金 青铜)'
    """
    index = auto_index()
    names = lambda ids: " ".join(sorted(index.series[s]["name"] for s in ids))  # noqa: E731
    chosen = "by series chosen automatically (the graph names none): " if index.split_by == "automatic" else ""
    if not index.test:
        return f"dev: none (the graph has no test series); test: {len(index.held_out)} held-out series ({names(index.held_out)})"
    dev = f"{len(index.held_out)} held-out series ({names(index.held_out)})" if index.held_out else "none"
    return f"{chosen}dev: {dev}; test: {len(index.test)} test series ({names(index.test)})"


def _gold(split: str, styles: Iterable[str]) -> list[dict]:
    return gold_examples("auto", split, _questions()[split], write_gold_answer, styles)


@lru_cache(maxsize=1)
def load_chains() -> list[dict]:
    """1000 SFT examples; gold answers from the four simulated advisors (weights ``STYLE_WEIGHTS``)."""
    rng = random.Random(DATA_SEED + 1)
    return _gold("sft", [weighted_choice(rng, STYLE_WEIGHTS) for _ in _questions()["sft"]])


@lru_cache(maxsize=1)
def load_rl_prompts() -> list[dict]:
    """200 RL prompts (training series); the answer is the best advisor's."""
    return _gold("rl", repeat("干练"))


@lru_cache(maxsize=1)
def load_dev_set() -> list[dict]:
    """60 dev examples (for choosing settings) about trims of the dev series; none when the graph has no
    test series (its held-out series are then the test split)."""
    return _gold("eval", repeat("干练")) if {"eval", "test"} <= set(_questions()) else []


@lru_cache(maxsize=1)
def load_eval_set() -> list[dict]:
    """60 test examples (never used to choose anything) about trims of the test series only; the held-out
    series' when the graph has no test series."""
    return _gold("test" if "test" in _questions() else "eval", repeat("干练"))


@lru_cache(maxsize=1)
def load_preferences() -> list[dict]:
    """300 pairs ordered by the simulated panel's majority (``core_training.judge.make_panel``).

    The best advisor's answer faces a weaker advisor's (every third pair: soft differences only) or a
    perturbation of itself. The panel (rubric + rules, noisy) decides which is chosen; a tie, or a
    verdict that would choose a rule-breaking answer over one that passes every rule, moves on to the
    next rival.
    """
    from core_training.judge import majority_preference, make_panel
    from core_training.rewards import all_passed, check
    from verticals.auto import VERTICAL

    panel, rng, pairs = make_panel(VERTICAL, n=3, seed=DATA_SEED), random.Random(DATA_SEED + 2), []
    for i, (text, truth) in enumerate(_questions()["pref"]):
        example = user_example(f"auto-pref-{i:04d}", text, truth)
        best = write_gold_answer(truth, "干练", variant=i)
        rivals = [(style, write_gold_answer(truth, style, variant=i)) for style in rng.sample(EXPERT_STYLES[1:], 3)]
        if i % 3:
            rivals = shuffled_perturbations(PERTURBATIONS, best, truth, rng)
        for name, rival in rivals:
            if not rival or rival == best:
                continue
            verdict = majority_preference(panel, best, rival, example)
            chosen, rejected = (best, rival) if verdict == "a" else (rival, best)
            rules_disagree = (not all_passed(check(VERTICAL, chosen, example))
                              and all_passed(check(VERTICAL, rejected, example)))
            if verdict != "tie" and not rules_disagree:
                pairs.append({**example, "chosen": chosen, "rejected": rejected, "rival": name})
                break
        if len(pairs) == PREFERENCE_PAIRS:
            return pairs
    raise DataError(f"auto: only {len(pairs)} of {PREFERENCE_PAIRS} preference pairs from {SIZES['pref']} questions "
                    "(the panel tied or preferred a rule-breaking rival too often); raise SIZES['pref']")


@lru_cache(maxsize=1)
def known_bad() -> list[dict]:
    """Dev examples (test ones without a dev split) whose answer breaks a rule: two per hard perturbation
    where it applies.

    ``violates`` names the perturbation and ``rule`` the rule it must break (checked when built).
    """
    from verticals.auto.rules import RULES

    rules = {rule.name: rule for rule in RULES}
    rng, bad = random.Random(DATA_SEED + 3), []
    for name in sorted(HARD_PERTURBATIONS):
        found = 0
        for example in load_dev_set() or load_eval_set():
            answer = HARD_PERTURBATIONS[name](example["answer"], example["truth"], rng)
            if answer is None or rules[BREAKS[name]].fn(answer, example).passed:
                continue
            bad.append({**example, "id": f"auto-bad-{len(bad):04d}", "answer": answer, "violates": name,
                        "rule": BREAKS[name]})
            found += 1
            if found == 2:
                break
    return bad
