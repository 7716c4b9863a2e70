"""Datasets of the gaokao vertical: SFT chains, RL prompts, eval set, preference pairs, known-bad answers.

Everything is deterministic (``DATA_SEED``) and cached per process. Each example's ``truth`` is built
by calling the retriever on the example's own user text, so the grounded prompt the core builds
with ``retrieve`` lists exactly the candidates the rules check.

Held-out evaluation, two splits held out by province *and* university (:func:`held_out_provinces`):

* ``dev`` (:func:`load_dev_set`, for choosing settings): students of the eval-pool province (湖北),
  where only eval-pool universities recruit. It is the eval set the shipped settings were chosen on,
  unchanged (ids ``gk-eval-*``).
* ``test`` (:func:`load_eval_set`, never used to choose anything): students of the test-pool province
  (安徽), where only test-pool universities recruit, drawn from a random stream of their own after
  every other split, so adding it changed no other example.

Train-pool universities recruit only in 广东/山东/浙江, so dev and test profiles *and* every university
their answers can cite are unseen in SFT/RL/preference data, and dev and test share none. An imported
graph without a test-pool province has no dev split: its eval pool is the test split (``splits_used``
says so).

>>> chains = load_chains()
>>> len(chains), sorted(chains[0])
(1000, ['answer', 'id', 'messages', 'truth'])
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from functools import lru_cache
from itertools import repeat
from typing import Callable, Iterable

from core_training.authoring import gold_examples, shuffled_perturbations, user_example, weighted_choice
from core_training.contract import DataError
from knowledge_graphs.gaokao import rank_to_score
from verticals.gaokao.experts import EXPERT_STYLES, write_gold_answer
from verticals.gaokao.kg import HISTORY_YEARS, gaokao_index
from verticals.gaokao.paraphrase import load_paraphrase_set  # noqa: F401 (a loader: dataset_loaders picks it up)
from verticals.gaokao.perturb import HARD_PERTURBATIONS, PERTURBATIONS
from verticals.gaokao.profile import SUBJECTS, ProfileError, StudentProfile
from verticals.gaokao.retriever import build_truth
from verticals.gaokao.rubric import panel_score
from verticals.gaokao.rules import RULES

DATA_SEED = 20250623
SIZES = {"sft": 1000, "rl": 200, "pref": 300, "eval": 60, "test": 60}  # "eval" is the dev split (ids gk-eval-*)
TEST_STREAM = 10  # test questions are drawn from random.Random(DATA_SEED + TEST_STREAM)
STYLE_WEIGHTS = {"全面": 0.4, "务实": 0.2, "贴心": 0.2, "简洁": 0.2}
RANK_FRACTION_RANGE = (0.003, 0.6)
MIN_FITTING_CANDIDATES = 3
DRAWS_PER_QUESTION = 200  # sample_questions gives up after this many draws per wanted question (a graph too small)
KNOWN_BAD_PER_KIND = 2
PANEL_MARGIN = 0.05  # a rejected answer scores at least this much below the chosen one
WISH_WORDS = {
    "计算机": ("计算机", "软件工程", "人工智能"), "电子信息": ("电子信息", "通信"), "机械": ("机械", "自动化"),
    "土木建筑": ("土木", "建筑"), "医学": ("医学", "临床医学"), "经济金融": ("金融", "经济学", "会计"),
    "法学": ("法学", "法律"), "汉语言文学": ("汉语言文学", "新闻"), "外语": ("外语", "英语"),
    "师范教育": ("师范", "教育学"),
}
HISTORY_FIELDS = ("经济金融", "法学", "汉语言文学", "外语", "师范教育")
FIELD_PHRASES = ("想学{w}", "对{w}比较感兴趣", "以后想从事{w}相关工作", "希望读{w}专业")
CITY_PHRASES = ("想去{w}", "希望在{w}上大学", "最好留在{w}", "倾向{w}的学校")
NO_WISH_PHRASES = ("", "城市和专业都没有特别要求", "没什么偏好")
SUBJECT_PHRASES = ("选科{full}", "选了{abbr}", "选考{joined}")
SCORE_PHRASES = ("考了{s}分", "{s}分", "总分{s}", "估分{s}分", "成绩{s}")
RANK_PHRASES = ("位次{r}", "排名{r}", "全省排第{r}名", "省排名{r}")  # a student who states a 位次, not a score
ASKS = ("帮我填志愿。", "该怎么报？", "请给个志愿方案。", "求推荐冲稳保。", "怎么填比较稳妥？")
TEMPLATES = (  # clauses joined by "，"; empty clauses are dropped
    ("我是{province}考生", "{year}{track}", "{score}", "{subjects}", "{wish}"),
    ("{province}{year}高考", "{track}{score}", "{subjects}", "{wish}"),
    ("老师好", "孩子{year}在{province}参加高考", "{track}{score}", "{subjects}", "{wish}"),
    ("{province}的", "{subjects}", "{score}", "{year}{track}", "{wish}"),
    ("您好！{province}考生", "{wish}", "{track}", "{score}（{year}）", "{subjects}"),
)


def sample_profile(rng: random.Random, province: str) -> StudentProfile:
    """A random student of ``province``: year, 科类, 选科, a score by rank fraction, and a wish.

    Without the year's 一分一段 table for the 科类 (an imported graph whose admissions carry 最低位次),
    the student states a 位次 instead of a score: a rank fraction of the weakest admitted rank.

    Raises:
        ProfileError: neither the table nor admission ranks for the drawn year and 科类.
    """
    index = gaokao_index()
    spec = index.provinces[province]
    year, track = rng.choice(index.exam_years), rng.choice(spec["tracks"])
    subjects = sample_subjects(rng, spec["mode"], track)
    table = index.tables.get((province, year, track))
    low, high = RANK_FRACTION_RANGE
    fraction = math.exp(rng.uniform(math.log(low), math.log(high)))
    if table is None:
        weakest = admitted_ranks(province, track, year)
        if not weakest:
            raise ProfileError(f"no 一分一段 table and no admission ranks for {province} {year} {track}")
        rank = max(1, round(fraction / high * weakest))
        return StudentProfile(province, year, track, None, subjects, *_wish(rng, index, spec, track), rank)
    score = rank_to_score(table, round(fraction * table["ranks"][-1]))
    return StudentProfile(province, year, track, score, subjects, *_wish(rng, index, spec, track))


def admitted_ranks(province: str, track: str, year: int) -> int:
    """The weakest (largest) 最低位次 admitted in ``province``/``track`` in the ``HISTORY_YEARS`` before
    ``year``, or 0 when the graph has none."""
    index = gaokao_index()
    years = range(year - HISTORY_YEARS, year)
    return max((index.records[(g, province, track, y)]["min_rank"] for g in index.offers.get((province, track), ())
                for y in years if (g, province, track, y) in index.records), default=0)


def _wish(rng: random.Random, index, spec: dict, track: str) -> tuple[str | None, str | None]:
    """(wished field, wished city): a field half the time, a city of the pool's universities a third."""
    field, city, roll = None, None, rng.random()
    if roll < 0.5:
        field = rng.choice(HISTORY_FIELDS if track == "历史类" else sorted(WISH_WORDS))
    elif roll < 0.85:
        cities = sorted({u["city"] for u in index.universities.values() if u["pool"] == spec["pool"]})
        city = rng.choice(cities) if cities else None
    return field, city


def sample_subjects(rng: random.Random, mode: str, track: str) -> tuple[str, ...]:
    """选科: 物理/历史 plus two of 化生地政 in 3+1+2; any three (技术 too) in 3+3."""
    if mode == "3+3":
        picked = rng.sample(SUBJECTS, 3)
    else:
        first = "物理" if track == "物理类" else "历史"
        picked = [first] + rng.sample(["化学", "生物", "地理", "政治"], 2)
    return tuple(s for s in SUBJECTS if s in picked)


def question_text(profile: StudentProfile, rng: random.Random) -> str:
    """The user's question in one of several wordings; ``parse_profile`` reads it back unchanged."""
    joined = "".join(profile.subjects)
    say_this_year = profile.year == gaokao_index().exam_years[-1] and rng.random() < 0.1  # parser's default year
    values = {
        "province": profile.province,
        "year": "今年" if say_this_year else f"{profile.year}年",
        "track": "" if profile.track == "综合" else profile.track,
        "score": (rng.choice(SCORE_PHRASES).format(s=profile.score) if profile.score is not None
                  else rng.choice(RANK_PHRASES).format(r=profile.rank)),
        "subjects": rng.choice(SUBJECT_PHRASES).format(full="、".join(profile.subjects), abbr=profile.subject_abbr,
                                                        joined=joined),
        "wish": _wish_phrase(profile, rng),
    }
    clauses = [clause.format(**values) for clause in rng.choice(TEMPLATES)]
    return "，".join(c for c in clauses if c) + "，" + rng.choice(ASKS)


def _wish_phrase(profile: StudentProfile, rng: random.Random) -> str:
    if profile.wish_field:
        return rng.choice(FIELD_PHRASES).format(w=rng.choice(WISH_WORDS[profile.wish_field]))
    if profile.wish_city:
        return rng.choice(CITY_PHRASES).format(w=profile.wish_city)
    return rng.choice(NO_WISH_PHRASES)


def usable(truth: dict) -> bool:
    """Enough fitting candidates, at least one of them a 保."""
    fitting = [c for c in truth["candidates"] if c["subject_ok"]]
    return len(fitting) >= MIN_FITTING_CANDIDATES and any(c["tier"] == "保" for c in fitting)


def sample_questions(rng: random.Random, provinces: tuple[str, ...], count: int, seen: set,
                     split: str = "?", keep: Callable[[dict], bool] | None = None) -> list[tuple[str, dict]]:
    """``count`` (question, truth) pairs of distinct, usable student profiles (whose truth ``keep`` accepts,
    when given); ``seen`` is updated.

    Raises:
        DataError: ``DRAWS_PER_QUESTION * count`` draws did not give ``count`` usable questions (a graph
            too small for the sizes); the message says what a usable question needs and what the graph has.
    """
    out, draws = [], 0
    while len(out) < count:
        draws += 1
        if draws > DRAWS_PER_QUESTION * count:
            raise DataError(_too_few_questions(provinces, split, len(out), count, draws - 1))
        try:
            profile = sample_profile(rng, rng.choice(provinces))
        except ProfileError:
            continue
        if profile in seen:
            continue
        text = question_text(profile, rng)
        try:
            truth = build_truth(text)
        except ProfileError:  # e.g. a score outside an imported table
            continue
        if usable(truth) and (keep is None or keep(truth)):
            seen.add(profile)
            out.append((text, truth))
    return out


def _too_few_questions(provinces: tuple[str, ...], split: str, got: int, count: int, draws: int) -> str:
    index = gaokao_index()
    offers = {f"{p} {t}": len(index.offers.get((p, t), ())) for p in provinces for t in index.provinces[p]["tracks"]}
    tables = sorted(f"{p} {y} {t}" for p, y, t in index.tables if p in provinces and y in index.exam_years)
    return (f"gaokao: only {got} of {count} usable {split} questions after {draws} draws from {'、'.join(provinces)} "
            f"(exam years {list(index.exam_years)}). A usable question needs the exam year's 一分一段 table (or, "
            f"for a student who states a 位次, admissions with 最低位次) and at least {MIN_FITTING_CANDIDATES} 专业组 "
            f"whose 选科 fits within the 冲/稳/保 rank windows, one of them a 保. "
            f"The graph has 专业组 recruiting per province and 科类: {offers}; exam-year tables: {tables}. "
            f"Import more 投档线 rows (more groups, the three years before the exam) or lower the dataset sizes."
            + (" Held out by university (no eval-pool province): a training question may list no held-out "
               "university; name one with options.eval_provinces to hold a province out instead."
               if university_split() else ""))


@lru_cache(maxsize=1)
def _questions() -> dict[str, list[tuple[str, dict]]]:
    """All splits' questions, drawn once from one seeded stream so profiles never repeat across splits."""
    rng, seen, index = random.Random(DATA_SEED), set(), gaokao_index()
    if not index.exam_years:
        raise DataError("gaokao: the graph has no exam year: a student of year Y needs Y's 一分一段 table and "
                        "admission (投档线) records of the three years before it; tables: "
                        f"{sorted({y for _, y, _ in index.tables})}, admissions: {sorted({k[3] for k in index.records})}")
    if not index.pools.get("train"):
        raise DataError("gaokao: the graph has no train-pool province; the dev and test sets are held out by province "
                        "(options.eval_provinces / test_provinces in a mapping: import at least one other province for "
                        f"training); provinces: { {p: d['pool'] for p, d in index.provinces.items()} }")
    if not index.pools.get("eval"):
        return _questions_by_university(rng, seen)
    train, held_out = index.pools["train"], index.pools["eval"]
    questions = {split: sample_questions(rng, held_out if split == "eval" else train, SIZES[split], seen, split)
                 for split in ("sft", "rl", "pref", "eval")}
    if index.pools.get("test"):
        test_rng = random.Random(DATA_SEED + TEST_STREAM)
        questions["test"] = sample_questions(test_rng, index.pools["test"], SIZES["test"], seen, "test")
    return questions


def university_split() -> dict[str, frozenset[str]] | None:
    """Held-out universities (names) of the dev and test splits when the graph has no eval-pool province
    (one province, say): by their mean admitted 位次, every 7th from the 4th is test and every 7th from
    the 7th dev, so both spread over the whole range of ranks; None when the graph holds provinces out.

    >>> university_split() is None  # the generated graph holds 湖北 and 安徽 out
    True
    """
    index = gaokao_index()
    if index.pools.get("eval"):
        return None
    ranks = defaultdict(list)
    for (group, _, _, _), record in index.records.items():
        ranks[index.groups[group]["university"]].append(record["min_rank"])
    level = sorted((sum(r) / len(r), uid) for uid, r in ranks.items() if index.universities[uid]["pool"] == "train")
    names = [index.universities[uid]["name"] for _, uid in level]
    return {"test": frozenset(names[3::7]), "eval": frozenset(names[6::7])}


def _questions_by_university(rng: random.Random, seen: set) -> dict[str, list[tuple[str, dict]]]:
    """Every split's questions in the train-pool provinces, held out by university (:func:`university_split`):
    a training question lists no held-out university; a dev or test one recommends at least one of its
    split's universities and lists none of the other's."""
    index = gaokao_index()
    held = university_split()
    provinces = tuple(p for p in index.pools["train"] if any(index.offers.get((p, t)) for t in index.provinces[p]["tracks"]))

    def keep(split: str) -> Callable[[dict], bool]:
        def ok(truth: dict) -> bool:
            listed = {c["university"] for c in truth["candidates"]}
            if split not in held:
                return not listed & (held["eval"] | held["test"])
            fitting = {c["university"] for c in truth["candidates"] if c["subject_ok"]}
            return bool(fitting & held[split]) and not listed & held["test" if split == "eval" else "eval"]
        return ok

    questions = {split: sample_questions(rng, provinces, SIZES[split], seen, split, keep(split))
                 for split in ("sft", "rl", "pref", "eval")}
    test_rng = random.Random(DATA_SEED + TEST_STREAM)
    questions["test"] = sample_questions(test_rng, provinces, SIZES["test"], seen, "test", keep("test"))
    return questions


def splits_used() -> str:
    """One line saying what the dev and test splits hold out in this graph.

    >>> splits_used()
    'dev: students of 湖北 (eval-pool universities); test: students of 安徽 (test-pool universities)'
    """
    pools, held = gaokao_index().pools, university_split()
    if held:
        return (f"by university (the graph has no eval-pool province): dev: {len(held['eval'])} universities, test: "
                f"{len(held['test'])} universities, students of {'、'.join(pools['train'])}")
    if not pools.get("test"):
        return (f"dev: none (the graph has no test-pool province); test: students of {'、'.join(pools.get('eval', ()))} "
                "(eval-pool universities)")
    return (f"dev: students of {'、'.join(pools['eval'])} (eval-pool universities); "
            f"test: students of {'、'.join(pools['test'])} (test-pool universities)")


def _gold(split: str, styles: Iterable[str]) -> list[dict]:
    return gold_examples("gk", split, _questions()[split], write_gold_answer, styles)


@lru_cache(maxsize=1)
def load_chains() -> list[dict]:
    """~1000 SFT examples; gold answers from the four simulated experts (weights ``STYLE_WEIGHTS``)."""
    rng = random.Random(DATA_SEED + 1)
    return _gold("sft", [weighted_choice(rng, STYLE_WEIGHTS) for _ in _questions()["sft"]])


@lru_cache(maxsize=1)
def load_rl_prompts() -> list[dict]:
    """~200 RL prompts (train pool); the answer is the most complete expert's."""
    return _gold("rl", repeat("全面"))


@lru_cache(maxsize=1)
def load_dev_set() -> list[dict]:
    """60 dev examples (for choosing settings): eval-pool province and universities only; none when the
    graph has no test pool (its eval pool is then the test split)."""
    return _gold("eval", repeat("全面")) if "test" in _questions() else []


@lru_cache(maxsize=1)
def load_eval_set() -> list[dict]:
    """60 test examples (never used to choose anything): test-pool province and universities only, or the
    eval pool's when the graph has no test pool."""
    return _gold("test" if "test" in _questions() else "eval", repeat("全面"))


@lru_cache(maxsize=1)
def load_preferences() -> list[dict]:
    """~300 pairs ranked by the simulated panel (rules + rubric).

    Every third pair pits the most complete expert against the best weaker one (soft difference); the
    others, and any where the experts tie, against a random perturbation the panel rates clearly worse.
    """
    rng, pairs = random.Random(DATA_SEED + 2), []
    for i, (text, truth) in enumerate(_questions()["pref"]):
        best = write_gold_answer(truth, "全面", variant=i)
        rivals = [write_gold_answer(truth, style, variant=i) for style in EXPERT_STYLES if style != "全面"]
        perturbed = [answer for _, answer in shuffled_perturbations(PERTURBATIONS, best, truth, rng)]
        rejected = (_clearly_worse(best, rivals if i % 3 == 0 else [], truth, max)
                    or _clearly_worse(best, perturbed, truth, rng.choice))
        pairs.append(user_example(f"gk-pref-{i:04d}", text, truth, chosen=best, rejected=rejected))
    return pairs


def _clearly_worse(best: str, others: list[str | None], truth: dict, pick: Callable) -> str | None:
    """One of ``others`` the panel rates at least ``PANEL_MARGIN`` below ``best``.

    ``pick`` chooses among the (score, answer) pairs that qualify, e.g. ``max`` for the closest one.
    """
    example = {"truth": truth}
    best_score = panel_score(best, example, RULES)
    scored = [(panel_score(o, example, RULES), o) for o in others if o and o != best]
    worse = [(score, o) for score, o in scored if score < best_score - PANEL_MARGIN]
    return pick(worse)[1] if worse else None


@lru_cache(maxsize=1)
def known_bad() -> list[dict]:
    """Dev examples (test ones without a dev split) whose answer breaks a rule: ``KNOWN_BAD_PER_KIND`` per
    hard perturbation.

    ``violates`` names the perturbation applied.
    """
    rng, examples, bad = random.Random(DATA_SEED + 3), load_dev_set() or load_eval_set(), []
    for offset, name in enumerate(sorted(HARD_PERTURBATIONS)):
        made = []
        for example in examples[offset:] + examples[:offset]:
            answer = HARD_PERTURBATIONS[name](example["answer"], example["truth"], rng)
            if answer is not None:
                made.append({**example, "answer": answer, "violates": name})
            if len(made) == KNOWN_BAD_PER_KIND:
                break
        bad += made
    return [{**example, "id": f"gk-bad-{number:04d}"} for number, example in enumerate(bad)]
