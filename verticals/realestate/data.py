"""Datasets of the realestate vertical: SFT dialogs, RL prompts, eval set, preference pairs, known-bad.

Everything is deterministic (``DATA_SEED``) and cached per process. An example is one assistant turn
of a simulated dialog (:mod:`verticals.realestate.dialogs`): ``messages`` is the dialog before it,
``answer`` the gold turn, ``truth`` what the retriever returns for the user text so far (built by the
same code the core calls). SFT uses every turn of every dialog; RL, eval and preference data use one
turn per dialog, alternating between a clarifying turn and the final recommendation.

Held-out evaluation, two splits held out by city (with an imported graph: the cities of its pools,
see :func:`split_cities`); every training split comes from 杭州:

* ``dev`` (:func:`load_dev_set`, for choosing settings): families in 苏州, the eval-pool city. It is the
  eval set the shipped settings were chosen on, unchanged (ids ``re-eval-*``).
* ``test`` (:func:`load_eval_set`, never used to choose anything): families in 南京, the test-pool city,
  drawn from a random stream of their own after every other split, so adding it changed no other example.

The retriever only lists listings of the buyer's city, so every 小区, listing, school and station a dev
or test answer can cite is unseen in SFT/RL/preference data, and dev and test share none. Profiles
never repeat across splits. An imported graph without a test-pool city has no dev split: its eval pool
is the test split. One without an eval-pool city (a team's one city) is split by 区 instead
(:func:`district_split`): families of the held-out districts name their district, so their facts list only
its listings, and a training dialog whose facts list a held-out listing is dropped. :func:`splits_used`
says which split was used.

>>> chains = load_chains()
>>> len(chains), sorted(chains[0])
(1000, ['answer', 'id', 'messages', 'truth'])
"""

from __future__ import annotations

import random
from functools import lru_cache

from core_training.authoring import shuffled_perturbations, weighted_choice
from core_training.contract import DataError
from verticals.realestate.dialogs import Family, dialog_examples, sample_family, user_turns
from verticals.realestate.kg import pool_cities, realestate_index
from verticals.realestate.paraphrase import load_paraphrase_set  # noqa: F401 (a loader: dataset_loaders picks it up)
from verticals.realestate.perturb import BREAKS, PERTURBATIONS

DATA_SEED = 20250701
SIZES = {"sft": 1000, "rl": 200, "pref": 300, "eval": 60, "test": 60}  # examples; "eval" is the dev split
SPLIT_POOL = {"sft": "train", "rl": "train", "pref": "train", "eval": "eval"}  # 杭州 / 苏州 in the generated graph
TEST_STREAM = 10  # test families are drawn from random.Random(DATA_SEED + TEST_STREAM), in the test-pool cities
DRAWS_PER_EXAMPLE = 200  # _dialogs gives up after this many family draws per wanted example (a graph too small)
STYLE_WEIGHTS = {"资深": 0.4, "干练": 0.2, "热心": 0.2, "简洁": 0.2}
BEST_STYLE = "资深"
SPARE_PREF_DIALOGS = 20  # in case the panel calls every rival of a dialog a tie


def usable(truth: dict) -> bool:
    """A final turn worth training on: at least one fitting and one tempting candidate."""
    fits = [c["fits"] for c in truth["candidates"]]
    return any(fits) and not all(fits)


def needs_match(family: Family, needs: dict, terms: dict) -> bool:
    """Whether the parser read back exactly what the family meant (guards the templates)."""
    down, rate, years = family.terms or (None, None, None)
    return (needs["city"], needs["district"], needs["budget"], needs["school"], needs["activity"],
            needs["level"], needs["line"], needs["station"], needs["area_min"], needs["no_metro"]) == (
        family.city, family.district, family.budget, family.school, family.activity, family.level,
        family.line, family.station, family.area_min, family.line is None and family.station is None,
    ) and (family.walk or 15) == needs["walk_max"] and (
        (down or 30, rate or 3.1, years or 30) == (terms["down_percent"], terms["rate_percent"], terms["years"]))


def district_split() -> dict[str, tuple[str, ...]] | None:
    """Districts per split when the graph has no eval-pool city (none named) but one city with usable
    listings in at least two districts: the smallest district (fewest usable listings) is the test split, the next one
    the dev split when three or more are left, the others train. None when the graph splits by city.

    Raises:
        DataError: no eval-pool city and no city with usable listings in two districts.

    >>> district_split() is None  # the generated graph holds whole cities out
    True
    """
    index = realestate_index()
    if pool_cities("eval"):  # a named eval city without usable listings is an error (split_cities), not a fallback
        return None
    counts = {}
    for listing in index.listings.values():
        x = index.xiaoqu[listing["xiaoqu"]]
        counts[(x["city"], x["district"])] = counts.get((x["city"], x["district"]), 0) + 1
    cities = sorted({c for c, _ in counts}, key=lambda c: -sum(n for (city, _), n in counts.items() if city == c))
    districts = sorted((n, d) for (c, d), n in counts.items() if cities and c == cities[0])
    if len(districts) < 2:
        raise DataError(
            "realestate: no eval-pool city (options.eval_cities in the 小区 mapping) and no city with usable "
            f"listings in two 区 to hold one out; usable listings per (city, 区): {counts or 'none'}")
    names = [d for _, d in districts]
    held = {"test": names[:1], "eval": names[1:2] if len(names) >= 3 else []}
    return {"city": (cities[0],), "train": tuple(names[len(held["test"]) + len(held["eval"]):]),
            "eval": tuple(held["eval"]), "test": tuple(held["test"])}


def split_cities() -> dict[str, tuple[str, ...]]:
    """The cities each split's families buy in: the train-pool cities, or the eval-pool ones for eval.

    Raises:
        DataError: a pool without a city that has usable listings, naming the listings left out and why.
    """
    index, out, by_district = realestate_index(), {}, district_split()
    if by_district:
        return {split: by_district["city"] for split in SPLIT_POOL}
    for split, pool in SPLIT_POOL.items():
        cities = tuple(c for c in pool_cities(pool) if index.listings_in(c))
        if not cities:
            left_out = "; ".join(f"{code} {why}" for code, why in sorted(index.left_out.items())[:8]) or "none"
            raise DataError(
                f"realestate: no {pool}-pool city with a usable listing, so the {split} split has no family to draw. "
                "Splits are held out by city (options.eval_cities in the 小区 mapping; the other cities train). "
                f"Cities: { {c: d.get('pool') for c, d in index.cities.items()} }; usable listings per city: "
                f"{ {c: len(index.listings_in(c)) for c in index.cities} }. A listing is usable when its 小区 has a "
                f"小学, an 初中 and a metro station with a line in reach; left out: {left_out}")
        out[split] = cities
    return out


@lru_cache(maxsize=1)
def _dialogs() -> dict[str, list[list[str]]]:
    """Every split's dialogs (user turns), drawn from one seeded stream so profiles never repeat.

    Raises:
        DataError: the graph cannot give a split its examples (no usable listing in a pool's cities,
            ``DRAWS_PER_EXAMPLE`` draws per example without enough distinct usable families, or
            templates the parser reads back wrong for this graph's names); the message says what is missing.
    """
    rng, seen, out, cities, by_district = random.Random(DATA_SEED), set(), {}, split_cities(), district_split()
    for split in ("sft", "rl", "pref", "eval"):
        if by_district and split == "eval" and not by_district["eval"]:
            continue  # too few districts for a dev split
        out[split] = _split_dialogs(rng, split, cities[split], seen, by_district)
    test_cities = by_district["city"] if by_district else tuple(
        c for c in pool_cities("test") if realestate_index().listings_in(c))
    if test_cities:
        out["test"] = _split_dialogs(random.Random(DATA_SEED + TEST_STREAM), "test", test_cities, seen, by_district)
    return out


def _split_dialogs(rng: random.Random, split: str, cities: tuple[str, ...], seen: set,
                   by_district: dict | None = None) -> list[list[str]]:
    """The user turns of ``split``'s dialogs, families of ``cities`` (of the split's districts when the graph
    is split by district) whose profile is not in ``seen`` (updated)."""
    dialogs, examples, draws = [], 0, 0
    target = SIZES[split] + SPARE_PREF_DIALOGS * (split == "pref")
    districts = by_district[split if split in ("eval", "test") else "train"] if by_district else None
    while examples < target:
        draws += 1
        if draws > DRAWS_PER_EXAMPLE * target:
            raise DataError(_too_few_families(split, cities, examples, target, draws - 1))
        city = cities[0] if len(cities) == 1 else rng.choice(cities)
        family = sample_family(rng, city, districts, say_district=districts is not None and split in ("eval", "test"))
        if family.key() in seen:
            continue
        turns = user_turns(family, rng)
        final = dialog_examples("check", turns, BEST_STYLE, 0)[-1]["truth"]
        if not usable(final) or (districts is not None and not _within(final, districts)):
            continue
        if not needs_match(family, final["needs"], final["terms"]):
            raise DataError(f"realestate: the dialog templates are misread for this graph (a 小区, district or "
                            f"station name that clashes with another word?): {turns} -> {final['needs']}")
        seen.add(family.key())
        dialogs.append(turns)
        examples += len(turns) if split == "sft" else 1
    return dialogs


def _within(truth: dict, districts: tuple[str, ...]) -> bool:
    """Whether every listing the facts list is in one of ``districts``."""
    index = realestate_index()
    return all(index.xiaoqu[c["xiaoqu"]]["district"] in districts for c in truth["candidates"])


def splits_used() -> str:
    """One line saying what the dev and test splits hold out in this graph.

    >>> splits_used()
    'dev: families in 苏州 (eval-pool city); test: families in 南京 (test-pool city)'
    """
    by_district = district_split()
    if by_district:
        city, dev = by_district["city"][0], "、".join(by_district["eval"])
        return (f"by 区 (the graph has no eval-pool city): dev: {f'families in {city}{dev}' if dev else 'none'}; "
                f"test: families in {city}{'、'.join(by_district['test'])}; train: {'、'.join(by_district['train'])}")
    dev = "、".join(split_cities()["eval"])
    if "test" not in _dialogs():
        return f"dev: none (the graph has no test-pool city with a usable listing); test: families in {dev} (eval-pool city)"
    return f"dev: families in {dev} (eval-pool city); test: families in {'、'.join(pool_cities('test'))} (test-pool city)"


def _too_few_families(split: str, cities: tuple[str, ...], got: int, target: int, draws: int) -> str:
    index = realestate_index()
    return (f"realestate: only {got} of {target} {split} examples after {draws} family draws in {'、'.join(cities)}. "
            "A usable dialog needs a new family profile (budget, school need, metro need, area, terms) whose final "
            "turn lists at least one fitting listing and one tempting near miss (over budget, wrong area, no 重点 "
            "school, no activity or far from the metro). The graph has "
            f"{ {c: len(index.listings_in(c)) for c in cities} } usable listings; import more listings and 小区 "
            "(varied prices, schools and stations) or lower verticals.realestate.data.SIZES")


def _one_turn(split: str, number: int, turns: list[str], style: str) -> dict:
    """One example per dialog: a clarifying turn for every other multi-turn dialog, else the last turn."""
    examples = dialog_examples(f"re-{split}-{number:04d}", turns, style, number)
    return examples[0] if len(examples) > 1 and number % 2 == 0 else examples[-1]


@lru_cache(maxsize=1)
def load_chains() -> list[dict]:
    """1000 SFT examples: every assistant turn of every dialog, gold by brokers of ``STYLE_WEIGHTS``."""
    rng, examples = random.Random(DATA_SEED + 1), []
    for i, turns in enumerate(_dialogs()["sft"]):
        examples += dialog_examples(f"re-sft-{i:04d}", turns, weighted_choice(rng, STYLE_WEIGHTS), i)
    return examples[: SIZES["sft"]]


@lru_cache(maxsize=1)
def load_rl_prompts() -> list[dict]:
    """200 RL prompts (杭州), one turn per dialog; the answer is the best broker's."""
    return [_one_turn("rl", i, turns, BEST_STYLE) for i, turns in enumerate(_dialogs()["rl"])]


@lru_cache(maxsize=1)
def load_dev_set() -> list[dict]:
    """60 dev examples (苏州 only, for choosing settings), one turn per dialog; the answer is the best
    broker's. None when the graph has no test-pool city (its eval pool is then the test split)."""
    if "test" not in _dialogs() or "eval" not in _dialogs():
        return []
    return [_one_turn("eval", i, turns, BEST_STYLE) for i, turns in enumerate(_dialogs()["eval"])]


@lru_cache(maxsize=1)
def load_eval_set() -> list[dict]:
    """60 test examples (南京 only, never used to choose anything), one turn per dialog; the eval pool's
    when the graph has no test-pool city."""
    split = "test" if "test" in _dialogs() else "eval"
    return [_one_turn(split, i, turns, BEST_STYLE) for i, turns in enumerate(_dialogs()[split])]


@lru_cache(maxsize=1)
def load_preferences() -> list[dict]:
    """300 pairs ordered by the majority of ``core_training.judge.make_panel`` (rubric + rules).

    Every third pair pits the best broker's turn against the other brokers' (a soft difference, in
    whichever order the panel prefers); the others, and any where the panel calls a tie, against a
    random applicable perturbation (which breaks a rule) that the panel rates below the gold turn.
    """
    from core_training.judge import majority_preference, make_panel
    from core_training.rewards import all_passed, check
    from verticals.realestate import VERTICAL

    rng, panel, pairs = random.Random(DATA_SEED + 2), make_panel(VERTICAL), []
    for i, turns in enumerate(_dialogs()["pref"]):
        example = _one_turn("pref", i, turns, BEST_STYLE)
        rivals = [dialog_examples("rival", turns, style, i)[len(example["messages"]) // 2]["answer"]
                  for style in STYLE_WEIGHTS if style != BEST_STYLE] if i % 3 == 0 else []
        perturbed = shuffled_perturbations(PERTURBATIONS, example["answer"], example["truth"], rng)
        rivals += [rival for _, rival in perturbed]
        pair = {"id": f"re-pref-{i:04d}", "messages": example["messages"], "truth": example["truth"]}
        for rival in (r for r in rivals if r and r != example["answer"]):
            verdict = majority_preference(panel, example["answer"], rival, pair)
            if verdict == "a":
                pairs.append({**pair, "chosen": example["answer"], "rejected": rival})
                break
            if verdict == "b" and all_passed(check(VERTICAL, rival, pair)):  # the panel may prefer a softer style
                pairs.append({**pair, "chosen": rival, "rejected": example["answer"]})
                break
    return pairs[: SIZES["pref"]]


@lru_cache(maxsize=1)
def known_bad(per_perturbation: int = 2) -> list[dict]:
    """Dev examples (test ones without a dev split) whose answer breaks a rule: ``violates`` names the
    perturbation, ``rule`` the rule.

    Each perturbation is applied to the first ``per_perturbation`` examples it applies to.
    """
    rng, bad, eval_set = random.Random(DATA_SEED + 3), [], load_dev_set() or load_eval_set()
    for name in sorted(PERTURBATIONS):
        done = 0
        for example in eval_set:
            answer = PERTURBATIONS[name](example["answer"], example["truth"], rng) if done < per_perturbation else None
            if answer is not None:
                done += 1
                bad.append({**example, "id": f"re-bad-{len(bad):04d}", "answer": answer, "violates": name,
                            "rule": BREAKS[name]})
    return bad
