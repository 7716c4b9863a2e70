"""Helpers for writing a vertical: answer sections, one JSON block, rule verdicts, dataset rows, config fields.

The verticals in this repository use these, and an outside vertical may too (``from core_training.authoring
import ...``): the module imports nothing but the core (the contract; the config for :func:`config_file`).
Random draws take the caller's ``rng``. The examples run with
``pytest --doctest-modules core_training/authoring.py``.

>>> fmt = Sections(("算式", "答案"))
>>> answer = '【算式】6×4=24\\n【答案】{"值": 24}'
>>> fmt.titles_in(answer), json_after(answer, "答案")
(['算式', '答案'], {'值': 24})
>>> verdict(["[2] costs 23万, over budget"], checked=4)
RuleResult(score=0.75, passed=False, reason='[2] costs 23万, over budget')
"""

from __future__ import annotations

import json
import random
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterable, Mapping, Sequence, TypeVar

from core_training.contract import RuleResult

T = TypeVar("T")
OK = RuleResult.ok()  # one shared ok verdict (RuleResult is frozen): building one costs as much as a cheap rule
_JSON = json.JSONDecoder()
# Vertical loader fields dataset_loaders takes from a dataset module: these it must define...
DATASET_LOADERS = ("load_chains", "load_rl_prompts", "load_preferences", "load_eval_set")
OPTIONAL_DATASET_LOADERS = ("known_bad", "load_cpt_corpus", "load_dev_set", "load_paraphrase_set")  # ...and these where it does


# --------------------------------------------------------------------------- answer text


@dataclass(frozen=True)
class Sections:
    """An answer format made of 【title】 sections (other 【…】 text is not a title).

    >>> fmt = Sections(("参数", "结论"))
    >>> fmt.split("【参数】{}\\n【结论】好。【参数】again")
    {'参数': '{}', '结论': '好。'}
    >>> fmt.titles_in("【结论】a【其他】b【参数】c")
    ['结论', '参数']
    """

    titles: tuple[str, ...]
    pattern: re.Pattern = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern = re.compile("【(" + "|".join(map(re.escape, self.titles)) + ")】")
        object.__setattr__(self, "pattern", pattern)

    def split(self, text: str) -> dict[str, str]:
        """Section title -> its text up to the next title, stripped; the first occurrence of each title wins."""
        sections: dict[str, str] = {}
        matches = list(self.pattern.finditer(text))
        for match, following in zip(matches, matches[1:] + [None]):
            end = following.start() if following else len(text)
            sections.setdefault(match.group(1), text[match.end():end].strip())
        return sections

    def titles_in(self, text: str) -> list[str]:
        """The titles in the order they appear, repeats included."""
        return [m.group(1) for m in self.pattern.finditer(text)]


def json_after(text: str, title: str, error: type[Exception] = ValueError) -> Any:
    """The JSON value right after 【title】 (text after it is ignored); raises ``error`` saying what is wrong.

    >>> json_after('【推荐】 {"房源": []} 祝您顺利', "推荐")
    {'房源': []}
    >>> json_after("【推荐】{房源: []}", "推荐")
    Traceback (most recent call last):
    ...
    ValueError: JSON after 【推荐】 does not parse (Expecting property name enclosed in double quotes)
    >>> json_after("您好", "推荐")
    Traceback (most recent call last):
    ...
    ValueError: no 【推荐】 section
    """
    tag = f"【{title}】"
    start = text.find(tag)
    if start < 0:
        raise error(f"no {tag} section")
    try:
        value, _ = _JSON.raw_decode(text[start + len(tag):].lstrip())
    except json.JSONDecodeError as exc:
        raise error(f"JSON after {tag} does not parse ({exc.msg})") from None
    return value


def compact_json(obj: Any) -> str:
    """JSON without spaces, Chinese kept as is: the form gold answers write.

    >>> compact_json({"位次": 100, "风险": ["滑档"]})
    '{"位次":100,"风险":["滑档"]}'
    """
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def is_int(value: object) -> bool:
    """An int that is not a bool (JSON ``true`` is not a rank).

    >>> is_int(3), is_int(True), is_int(3.0)
    (True, False, False)
    """
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> bool:
    """An int or float that is not a bool.

    >>> is_number(7.9), is_number("7.9"), is_number(False)
    (True, False, False)
    """
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --------------------------------------------------------------------------- rules


def parse_or_none(parse: Callable[[str], T], text: str, error: type[Exception] = ValueError) -> T | None:
    """``parse(text)``, or None when it raises ``error``: the rules that need the parse fail with a short reason.

    >>> parse_or_none(int, "12"), parse_or_none(int, "twelve")
    (12, None)
    """
    try:
        return parse(text)
    except error:
        return None


_CACHING = {"on": True}  # parse_caching(False) turns every ParseCache off: the naive path, for benches and tests
_PARSE_CACHES: list["ParseCache"] = []  # every cache made, for clear_parse_caches


class ParseCache:
    """``parse(text)`` remembered per text, so the rules of one answer parse it once between them.

    The rules of a vertical each need the same parse of a response (its JSON, its sections). A rule
    calls the cache instead of the parser; the first call parses, the others get the same object, or
    the same error message. Keys are response texts (Python caches a string's hash, so a lookup is
    cheap); ``maxsize`` bounds memory, and is large because a TRL reward function runs one rule over
    a whole batch before the next rule starts. Cached values are shared: a rule must not change them.

    >>> calls = []
    >>> def parse(text):
    ...     calls.append(text)
    ...     return json.loads(text)
    >>> cached = ParseCache(parse, ValueError)
    >>> cached.value('{"a": 1}') is cached.value('{"a": 1}'), len(calls)
    (True, 1)
    >>> cached.outcome("{oops")[1]
    'Expecting property name enclosed in double quotes: line 1 column 2 (char 1)'
    >>> with parse_caching(False):
    ...     _ = cached.value('{"a": 1}')
    >>> len(calls)
    3
    """

    def __init__(self, parse: Callable[[str], T], error: type[Exception] = ValueError, maxsize: int = 8192) -> None:
        self.parse, self.error = parse, error
        self._cached = lru_cache(maxsize=maxsize)(self._parse_once)
        _PARSE_CACHES.append(self)

    def _parse_once(self, text: str) -> tuple[T | None, str | None]:
        try:
            return self.parse(text), None
        except self.error as exc:
            return None, str(exc)

    def outcome(self, text: str) -> tuple[T | None, str | None]:
        """``(value, None)`` when ``text`` parses, else ``(None, the error's message)``."""
        # only strings are cached: anything else fails in the parser as it would without the cache
        return self._cached(text) if _CACHING["on"] and type(text) is str else self._parse_once(text)

    def value(self, text: str) -> T | None:
        """The parse of ``text``, or None when it raises the parser's error (like :func:`parse_or_none`)."""
        return self.outcome(text)[0]


def clear_parse_caches() -> None:
    """Forget every cached parse (a benchmark's next pass then parses fresh answers, as a new RL step does)."""
    for cache in _PARSE_CACHES:
        cache._cached.cache_clear()


@contextmanager
def parse_caching(enabled: bool):
    """Within the block every :class:`ParseCache` is on (``True``) or parses afresh on each call (``False``)."""
    before, _CACHING["on"] = _CACHING["on"], enabled
    try:
        yield
    finally:
        _CACHING["on"] = before


def verdict(problems: Sequence[str], checked: int | None = None) -> RuleResult:
    """ok when there is no problem; else a failure listing them all (``"; "``-joined).

    The failure's score is the share of the ``checked`` items without a problem, or 0 when nothing is
    counted (``checked`` None or 0). One problem per checked item at most.

    >>> verdict([], checked=2)
    RuleResult(score=1.0, passed=True, reason='ok')
    >>> verdict(["id 7 unknown", "id 9 unknown"], checked=4).score
    0.5
    >>> verdict(["requires 政治"])
    RuleResult(score=0.0, passed=False, reason='requires 政治')
    """
    if not problems:
        return OK
    score = max(0.0, 1 - len(problems) / checked) if checked else 0.0
    return RuleResult.fail("; ".join(problems), score=score)


# --------------------------------------------------------------------------- datasets


def user_example(example_id: str, text: str, truth: Mapping[str, Any], **fields: Any) -> dict:
    """An example whose dialog is one user turn; ``fields`` (``answer``, ``chosen``, ...) come before ``truth``.

    >>> example = user_example("k12-rl-0001", "三年级：6×4=？", {"value": "24"}, answer="【答案】24")
    >>> list(example), example["messages"]
    (['id', 'messages', 'answer', 'truth'], [{'role': 'user', 'content': '三年级：6×4=？'}])
    """
    return {"id": example_id, "messages": [{"role": "user", "content": text}], **fields, "truth": truth}


def gold_examples(prefix: str, split: str, questions: Iterable[tuple[str, Mapping]], write_answer: Callable[..., str],
                  styles: Iterable[str]) -> list[dict]:
    """One single-turn example per ``(text, truth)`` question, answered by simulated experts.

    Example ``i`` has id ``{prefix}-{split}-{i:04d}``, the answer ``write_answer(truth, style, variant=i)``
    of the ``i``-th style, and that style recorded as ``truth["expert"]``.

    >>> def write(truth, style, variant):
    ...     return f"{style}{variant}: {truth['q']}"
    >>> [ex["answer"] for ex in gold_examples("t", "rl", [("q?", {"q": 1}), ("q2?", {"q": 2})], write, "ab")]
    ['a0: 1', 'b1: 2']
    """
    pairs = zip(questions, styles)
    return [user_example(f"{prefix}-{split}-{i:04d}", text, {**truth, "expert": style},
                         answer=write_answer(truth, style, variant=i))
            for i, ((text, truth), style) in enumerate(pairs)]


def weighted_choice(rng: random.Random, weights: Mapping[T, float]) -> T:
    """One key of ``weights`` drawn with ``rng`` in proportion to its weight (one ``rng.random()`` call).

    >>> import random
    >>> weighted_choice(random.Random(0), {"干练": 0.4, "热心": 0.6})
    '热心'
    """
    return rng.choices(list(weights), list(weights.values()))[0]


def shuffled_perturbations(perturbations: Mapping[str, Callable], answer: str, truth: Mapping,
                           rng: random.Random) -> list[tuple[str, str | None]]:
    """``[(name, perturbed answer or None), ...]``: every perturbation ``fn(answer, truth, rng)``, in an order
    drawn from ``rng`` (the candidate rejected answers of a preference pair).

    >>> import random
    >>> perturbations = {"upper": lambda a, t, rng: a.upper(), "none": lambda a, t, rng: None}
    >>> sorted(shuffled_perturbations(perturbations, "ok", {}, random.Random(1)))
    [('none', None), ('upper', 'OK')]
    """
    names = rng.sample(sorted(perturbations), len(perturbations))
    return [(name, perturbations[name](answer, truth, rng)) for name in names]


# --------------------------------------------------------------------------- Vertical fields


def config_file(path: str | Path) -> dict:
    """A vertical's own settings from its YAML file (``verticals/<v>/config.yaml``), for ``config_overrides``.

    Keys and types are checked against the run config now, so a typo fails when the vertical is imported,
    with the file and the key named.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d:
    ...     _ = Path(d, "config.yaml").write_text("sft:\\n  max_steps: 360  # why\\n")
    ...     config_file(Path(d, "config.yaml"))
    {'sft': {'max_steps': 360}}
    """
    from core_training.config import RunConfig, load_config, read_yaml

    data = read_yaml(path)
    load_config(RunConfig, yaml_paths=[path])  # raises ConfigError naming the file and the key
    return data


def sequence_overrides(max_length: int | None = None, max_completion_length: int | None = None) -> dict:
    """``config_overrides`` giving every stage the same room: ``max_length`` for the stages that read whole
    sequences (sft, rm, dpo), ``max_completion_length`` for the ones that sample (rlvr, rlhf).

    >>> sequence_overrides(640, 224)["dpo"], sequence_overrides(max_completion_length=96)
    ({'max_length': 640}, {'rlvr': {'max_completion_length': 96}, 'rlhf': {'max_completion_length': 96}})
    """
    overrides = {}
    if max_length is not None:
        overrides.update({stage: {"max_length": max_length} for stage in ("sft", "rm", "dpo")})
    if max_completion_length is not None:
        overrides.update({stage: {"max_completion_length": max_completion_length} for stage in ("rlvr", "rlhf")})
    return overrides


def dataset_loaders(module: ModuleType) -> dict[str, Callable]:
    """The ``Vertical`` loader fields a dataset module defines under their field names, for ``Vertical(**...)``.

    ``load_chains``, ``load_rl_prompts``, ``load_preferences`` and ``load_eval_set`` are required;
    ``known_bad``, ``load_cpt_corpus``, ``load_dev_set`` and ``load_paraphrase_set`` are taken when the module
    has them.

    >>> from types import SimpleNamespace
    >>> data = SimpleNamespace(load_chains=list, load_rl_prompts=list, load_preferences=list, load_eval_set=list)
    >>> sorted(dataset_loaders(data))
    ['load_chains', 'load_eval_set', 'load_preferences', 'load_rl_prompts']
    """
    missing = [name for name in DATASET_LOADERS if not callable(getattr(module, name, None))]
    if missing:
        raise TypeError(f"{getattr(module, '__name__', module)!s} defines no {', '.join(missing)}")
    names = DATASET_LOADERS + tuple(n for n in OPTIONAL_DATASET_LOADERS if hasattr(module, n))
    return {name: getattr(module, name) for name in names}
