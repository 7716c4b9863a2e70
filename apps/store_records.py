"""The store's records (what its API returns) and the checks on what callers hand it."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Mapping


@dataclass(frozen=True)
class User:
    """An account; ``kind`` is ``human`` or ``simulated`` (``vkit loop``'s panel, names ``sim-...``)."""

    id: int
    username: str
    role: str
    kind: str


@dataclass(frozen=True)
class Session:
    user: User
    expires_at: datetime


@dataclass(frozen=True)
class Feedback:
    """One advisor answer a user rated: ``verdicts`` are the rule results, ``rubric`` flat scores.

    ``messages`` is the dialog the advisor answered (user/assistant turns, ending with the user's);
    ``question`` its user side as text. ``updated_by``/``updated_at``: who last amended the labels
    (:meth:`apps.store.Store.update_feedback`), None if nobody did. ``created_by``: the logged-in user
    who gave it, None for anonymous feedback (only its author or an admin may amend it).
    """

    id: int
    vertical: str
    question: str
    messages: list
    facts: str
    answer: str
    model_id: str
    verdicts: dict
    thumbs: int | None
    rubric: dict
    correction: str
    created_at: datetime
    updated_at: datetime | None
    updated_by: str | None
    created_by: str | None = None


@dataclass(frozen=True)
class Task:
    """Two answers to one dialog (``messages``); ``context`` is what the annotator is shown beside them."""

    id: int
    vertical: str
    messages: list
    answer_a: str
    answer_b: str
    context: str
    source: str
    guidelines: str
    feedback_id: int | None
    created_at: datetime


@dataclass(frozen=True)
class Annotation:
    """One annotator's verdict on a task: ``rubric`` is ``{"a": {dimension: score}, "b": {...}}``."""

    id: int
    assignment_id: int
    task_id: int
    annotator: str
    preference: str
    rubric: dict
    correction: str
    revision: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Assignment:
    id: int
    annotator: str
    task: Task
    annotation: Annotation | None

    @property
    def done(self) -> bool:
        return self.annotation is not None


@dataclass(frozen=True)
class LabelledTask:
    """A task with everyone assigned to it and the annotations submitted so far."""

    task: Task
    assigned: tuple[str, ...]
    annotations: tuple[Annotation, ...]

    @property
    def complete(self) -> bool:
        return bool(self.assigned) and len(self.annotations) == len(self.assigned)


@dataclass(frozen=True)
class Progress:
    annotator: str
    assigned: int
    done: int

    @property
    def remaining(self) -> int:
        return self.assigned - self.done


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything the store writes is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=timezone.utc)


def json_safe(value: Any) -> Any:
    """Rule verdicts may be ``RuleResult`` objects; the store keeps plain JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    return value


def check_scores(scores: Mapping[str, Any] | None) -> dict[str, float]:
    """Rubric scores ``{dimension: score in [0, 1]}``."""
    out = {}
    for dim, value in (scores or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ValueError(f"rubric score for {dim!r} must be a number, got {value!r}")
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"rubric score for {dim!r} must be in [0, 1], got {value}")
        out[str(dim)] = float(value)
    return out


def check_pair_rubric(rubric: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, float]]:
    """An annotation scores each answer of the pair: ``{"a": {dimension: score}, "b": {...}}``."""
    if unknown := set(rubric or {}) - {"a", "b"}:
        raise ValueError(f"rubric keys must be the answers 'a' and 'b', got {sorted(unknown)}")
    return {side: check_scores(scores) for side, scores in (rubric or {}).items()}


def check_messages(messages: Any) -> list[dict]:
    """The dialog before an answer: user/assistant turns, ending with the user's (vkit's ``messages``)."""
    ok = isinstance(messages, list) and messages and all(
        isinstance(m, Mapping) and m.get("role") in ("user", "assistant") and isinstance(m.get("content"), str)
        for m in messages
    )
    if not ok or messages[-1]["role"] != "user":
        raise ValueError("messages must be a non-empty list of user/assistant turns ending with a user turn")
    return [{"role": m["role"], "content": m["content"]} for m in messages]
