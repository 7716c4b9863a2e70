"""The plugin contract: what a vertical is, and what a rule returns.

A vertical is one frozen object of data and pure functions. The core never imports a vertical; it
receives a :class:`Vertical` from the registry and only calls what is declared here.

Examples (the dicts every loader returns) share one shape::

    {
      "id": "gk-eval-0007",                      # unique within its dataset
      "messages": [{"role": "user", "content": "..."}, ...],   # the dialog *before* the answer
      "answer": "...",                           # the expert's gold answer (the next assistant turn)
      "truth": {...},                            # JSON-serialisable facts the rules check against
    }

Preference pairs add ``"chosen"`` and ``"rejected"`` (assistant texts) and drop ``"answer"``.
CPT corpora are lists of plain strings.

>>> r = RuleResult(1.0, True, "ok")
>>> r.passed, r.score
(True, 1.0)
>>> RuleResult.skip("no tiers asked").score is None
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

Example = Mapping[str, Any]


@dataclass(frozen=True)
class RuleResult:
    """A verdict on one response: ``score`` in [0, 1] or ``None`` (rule does not apply).

    One definition of "passed" serves the reward, the metric and the app's badge: a scored result
    passes exactly when its score is 1.0 (partial credit is a reward, never a pass). A result that
    breaks this is refused when it is built, so a rule returning one counts as a rule error.

    >>> RuleResult(0.75, True, "graded")
    Traceback (most recent call last):
    ...
    ValueError: RuleResult(score=0.75, passed=True): passed must be True exactly when score == 1.0
    """

    score: float | None
    passed: bool
    reason: str

    def __post_init__(self) -> None:
        if self.score is None:
            return
        if not 0.0 <= self.score <= 1.0:  # also refuses NaN
            raise ValueError(f"RuleResult(score={self.score!r}): score must be in [0, 1] or None")
        if self.passed != (self.score == 1.0):
            raise ValueError(f"RuleResult(score={self.score!r}, passed={self.passed!r}): "
                             "passed must be True exactly when score == 1.0")

    @classmethod
    def ok(cls, reason: str = "ok") -> "RuleResult":
        return cls(1.0, True, reason)

    @classmethod
    def fail(cls, reason: str, score: float = 0.0) -> "RuleResult":
        return cls(score, False, reason)

    @classmethod
    def skip(cls, reason: str) -> "RuleResult":
        return cls(None, True, reason)


RuleFn = Callable[[str, Example], RuleResult]


class DataError(ValueError):
    """A vertical cannot build its data from what it was given, e.g. an imported knowledge graph that
    is too small or lacks a field; the message names what is missing. ``vkit`` prints it as an error."""


@dataclass(frozen=True)
class Rule:
    """A named, weighted rule. ``fn(response, example) -> RuleResult`` must be pure."""

    name: str
    fn: RuleFn
    weight: float = 1.0
    description: str = ""
    # A held-out rule is never a reward: it is computed at every evaluation and on RL rollouts only, so
    # reward hacking shows as rewards rising while held-out pass rates fall. It is not in ``all_rules_pass``.
    held_out: bool = False


@dataclass(frozen=True)
class Vertical:
    """Everything the core needs to post-train and evaluate one domain.

    Loaders take no arguments and are called lazily (importing a vertical is cheap). ``retrieve``
    maps the user's side of a dialog (all user turns joined by newlines) to the knowledge-graph facts
    put into the grounded prompt. ``rubric`` scores the softer qualities an expert panel judges
    (each dimension in [0, 1]); the core builds the simulated panel and the held-out judge from it.
    """

    name: str
    description: str
    system_prompt: str
    rules: Sequence[Rule]
    retrieve: Callable[[str], str]
    rubric: Callable[[str, Example], Mapping[str, float]]
    rubric_dimensions: Sequence[str]
    load_graph: Callable[[], Any]
    load_cpt_corpus: Callable[[], Mapping[str, Sequence[str]]]  # {"train": [...], "eval": [...]}
    load_chains: Callable[[], Sequence[Example]]
    load_rl_prompts: Callable[[], Sequence[Example]]
    load_preferences: Callable[[], Sequence[Example]]
    load_eval_set: Callable[[], Sequence[Example]]  # the *test* split: never used to choose anything
    multi_turn: bool = False
    # The *dev* split (for choosing settings), entity-disjoint from training and from the test split.
    load_dev_set: Callable[[], Sequence[Example]] | None = None
    # Questions written unlike the training templates (other word orders, colloquial forms, numbers in
    # words); reported as ``paraphrase/...`` metrics.
    load_paraphrase_set: Callable[[], Sequence[Example]] | None = None
    # ``build_truth(user_text) -> truth`` (the facts the rules check), for live dialogs: the advisor's badges.
    build_truth: Callable[[str], Mapping[str, Any]] | None = None
    # The pairwise instruction an LLM judge (``eval.judge=endpoint``) gets; None: one written from the
    # description and the rubric dimensions (core_training.llm_judge.default_prompt).
    judge_prompt: str | None = None
    config_overrides: Mapping[str, Any] = field(default_factory=dict)
    known_bad: Callable[[], Sequence[Example]] | None = None  # answers that must fail some rule
    datasets_dir: str | None = None  # where data cards for this vertical live (relative to repo)
    # Text for the data cards: keys provenance, splits, intended_use, limitations, license.
    dataset_notes: Mapping[str, str] = field(default_factory=dict)

    @property
    def reward_rules(self) -> tuple[Rule, ...]:
        """The rules that train (every rule not marked ``held_out``)."""
        return tuple(r for r in self.rules if not r.held_out)

    @property
    def held_out_rules(self) -> tuple[Rule, ...]:
        """The rules that only measure (``held_out``): never a reward."""
        return tuple(r for r in self.rules if r.held_out)

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(f"vertical {self.name!r} has no rule {name!r}; it has {[r.name for r in self.rules]}")
