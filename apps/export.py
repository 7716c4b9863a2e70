"""Export annotations as training data: preference pairs for ``rm``/``rlhf``/``dpo``, corrections for SFT.

Each export is a JSONL file plus a Hugging Face dataset card (Markdown with a YAML header) beside
it, ``<name>.jsonl`` -> ``<name>.md``, both written atomically. Feed the preferences to a run with::

    vkit run gaokao --stages rm,rlhf --preferences prefs.jsonl

A task's label is the strict plurality of its annotations over ``a``, ``b`` and ``tie``: a pair is
kept only when one answer got more votes than the other answer *and* than ``tie``. A plurality of
``tie`` and a split vote (e.g. ``a, b, tie``) are both dropped and counted in the card. By default
only tasks whose every assigned annotator has submitted are considered.

The card says where the labels in the file came from, read from the store's accounts (never from a
caller's flag): people (accounts of kind ``human``), ``vkit loop``'s simulated expert panel (kind
``simulated``, the ``sim-...`` accounts), or a mix, with the numbers of each.

>>> majority(["a", "a", "b"]), majority(["a", "tie", "tie"]), majority(["a", "b", "tie"])
('a', 'tie', None)
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from apps.agreement import agreement_report
from apps.store import LabelledTask, Store
from core_training.io import atomic_write_text


@dataclass(frozen=True)
class ExportResult:
    """Where an export went and what it counted (``counts`` is also in the card)."""

    path: Path
    card_path: Path
    rows: int
    counts: dict[str, int]
    label_source: str = "none"  # human, simulated, mixed or none: whose labels the file holds (see the card)


def majority(preferences: Sequence[str]) -> str | None:
    """The label with strictly more votes than every other label, or None on a split vote."""
    ranked = Counter(preferences).most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None
    return ranked[0][0]


def preference_rows(labelled: Iterable[LabelledTask], vertical: str, complete_only: bool = True) -> tuple[list, dict]:
    """Rows ``{"id", "messages", "chosen", "rejected", "annotators", "agreement"}`` and the counts."""
    rows, counts = [], Counter({"tasks": 0, "exported": 0, "ties_dropped": 0, "split_votes_dropped": 0,
                                "incomplete_skipped": 0, "unannotated_skipped": 0})
    for lt in labelled:
        counts["tasks"] += 1
        if not lt.annotations:
            counts["unannotated_skipped"] += 1
            continue
        if complete_only and not lt.complete:
            counts["incomplete_skipped"] += 1
            continue
        votes = [a.preference for a in lt.annotations]
        winner = majority(votes)
        if winner is None or winner == "tie":
            counts["split_votes_dropped" if winner is None else "ties_dropped"] += 1
            continue
        task = lt.task
        chosen, rejected = (task.answer_a, task.answer_b) if winner == "a" else (task.answer_b, task.answer_a)
        rows.append({"id": f"{vertical}-task-{task.id}", "messages": task.messages, "chosen": chosen,
                     "rejected": rejected, "annotators": sorted(a.annotator for a in lt.annotations),
                     "agreement": round(votes.count(winner) / len(votes), 4)})
        counts["exported"] += 1
    return rows, dict(counts)


def correction_rows(labelled: Iterable[LabelledTask], vertical: str) -> tuple[list, dict]:
    """Rows ``{"id", "messages", "answer"}``: each distinct correction an annotator wrote for a task."""
    rows, counts, _ = _corrections(labelled, vertical)
    return rows, counts


def _corrections(labelled: Iterable[LabelledTask], vertical: str) -> tuple[list, dict, list[str]]:
    """:func:`correction_rows` plus each row's author."""
    rows, authors = [], []
    counts = Counter({"annotations": 0, "with_correction": 0, "duplicates_dropped": 0, "exported": 0})
    for lt in labelled:
        seen = set()
        for a in sorted(lt.annotations, key=lambda a: a.annotator):
            counts["annotations"] += 1
            if not a.correction:
                continue
            counts["with_correction"] += 1
            if a.correction in seen:
                counts["duplicates_dropped"] += 1
                continue
            seen.add(a.correction)
            rows.append({"id": f"{vertical}-task-{lt.task.id}-{a.annotator}", "messages": lt.task.messages,
                         "answer": a.correction})
            authors.append(a.annotator)
            counts["exported"] += 1
    return rows, dict(counts), authors


def export_preferences(store: Store, vertical: str, path: str | Path, complete_only: bool = True,
                       license: str = "cc-by-4.0", language: Sequence[str] = ("zh",)) -> ExportResult:
    """Write the majority-vote preference pairs of ``vertical`` to ``path`` and its card beside it."""
    labelled = store.labelled_tasks(vertical)
    rows, counts = preference_rows(labelled, vertical, complete_only)
    body = _PREFERENCE_NOTES.format(complete="only tasks every assigned annotator finished" if complete_only
                                    else "every task with at least one annotation", **counts)
    labellers = [name for row in rows for name in row["annotators"]]  # every vote behind an exported pair
    return _write(store, vertical, Path(path), rows, counts, labelled, labellers, "preferences", license, language,
                  body)


def export_corrections(store: Store, vertical: str, path: str | Path, license: str = "cc-by-4.0",
                       language: Sequence[str] = ("zh",)) -> ExportResult:
    """Write the annotators' corrected answers of ``vertical`` (an SFT set) to ``path`` and its card."""
    labelled = store.labelled_tasks(vertical)
    rows, counts, authors = _corrections(labelled, vertical)
    return _write(store, vertical, Path(path), rows, counts, labelled, authors, "corrections", license, language,
                  _CORRECTION_NOTES)


# --------------------------------------------------------------------------- who labelled


@dataclass(frozen=True)
class LabelSource:
    """Whose labels an export holds, from the store's accounts: ``source`` is human, simulated, mixed or none."""

    source: str
    labels: dict[str, int]  # account kind -> labels in the file (one per vote or correction)
    annotators: dict[str, str]  # annotator -> account kind

    @property
    def simulated(self) -> list[str]:
        return sorted(name for name, kind in self.annotators.items() if kind == "simulated")


def label_source(store: Store, labellers: Sequence[str]) -> LabelSource:
    """Classify the labels behind an export (one annotator name per label) by the annotators' account kind.

    An account the store no longer knows counts as ``unknown``, which makes the source ``mixed``
    (never ``human``): the card only calls labels human when every one of them is.
    """
    kinds = {u.username: u.kind for u in store.users()}
    of = {name: kinds.get(name, "unknown") for name in labellers}
    labels = Counter(of[name] for name in labellers)
    only = next(iter(labels)) if len(labels) == 1 else None
    source = "none" if not labels else only if only in ("human", "simulated") else "mixed"
    return LabelSource(source, dict(labels), dict(sorted(of.items())))


# --------------------------------------------------------------------------- data cards

_SCHEMAS = {
    "preferences": [
        ("id", "string", "`<vertical>-task-<task id>`, unique in the file"),
        ("messages", "list of {role, content}", "the dialog before the answer (user/assistant turns)"),
        ("chosen", "string", "the answer the majority preferred"),
        ("rejected", "string", "the other answer"),
        ("annotators", "list of string", "who labelled the pair"),
        ("agreement", "float", "share of the annotators who voted for the majority label"),
    ],
    "corrections": [
        ("id", "string", "`<vertical>-task-<task id>-<annotator>`"),
        ("messages", "list of {role, content}", "the dialog before the answer (user/assistant turns)"),
        ("answer", "string", "the annotator's corrected answer"),
    ],
}

_PREFERENCE_NOTES = """## How labels were decided and ties dropped

Considered: {complete}.

A pair's label is the strict plurality of its annotations over `a`, `b` and `tie`.
{ties_dropped} task(s) whose plurality was `tie` and {split_votes_dropped} task(s) with a
split vote (no label ahead of every other) were dropped; {incomplete_skipped} incomplete and
{unannotated_skipped} unannotated task(s) were skipped.
"""

_CORRECTION_NOTES = """## How rows were chosen

One row per distinct correction text an annotator wrote for a task; identical corrections of the
same task by several annotators are kept once. Corrections are not cross-checked: review before
training on them.
"""


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"


def _write(store: Store, vertical: str, path: Path, rows: list, counts: dict, labelled: Sequence[LabelledTask],
           labellers: Sequence[str], kind: str, license: str, language: Sequence[str], notes: str) -> ExportResult:
    card_path = path.with_suffix(".md")
    source = label_source(store, labellers)
    atomic_write_text(path, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    atomic_write_text(card_path, _card(store, vertical, path.name, rows, counts, labelled, source, kind, license,
                                       language, notes))
    return ExportResult(path, card_path, len(rows), counts, source.source)


# source -> (what the title calls the labels, the card's annotations_creators, its tags)
_SOURCE_CARD = {
    "human": ("expert", ["expert-generated"], ["human-feedback"]),
    "simulated": ("simulated-panel", ["machine-generated"], ["synthetic", "simulated-feedback"]),
    "mixed": ("expert and simulated-panel", ["expert-generated", "machine-generated"],
              ["human-feedback", "simulated-feedback"]),
    "none": ("unlabelled", ["no-annotation"], []),
}


def _source_text(source: LabelSource) -> list[str]:
    """The card's "Label source" section: plain words on who labelled, first of all when nobody human did."""
    n = sum(source.labels.values())
    human = sorted(name for name, kind in source.annotators.items() if kind == "human")
    panel = ("`vkit loop`'s simulated expert panel (`core_training.judge.make_panel`: the vertical's rubric "
             "scorer with per-annotator weights, strictness and seeded noise), writing through the annotation "
             "store like the annotation app does for a person")
    if source.source == "simulated":
        return [
            "**Source: simulated expert panel. These are not human labels.**", "",
            f"All {n} label(s) in this file were produced by {panel}. The annotator ids "
            f"({', '.join(source.simulated)}) are simulated accounts: no person labelled this data. Do not "
            "describe a model trained on it as trained on human or expert feedback.",
        ]
    if source.source == "human":
        return [f"**Source: human annotators.** All {n} label(s) in this file were submitted by people "
                f"({', '.join(human)}) through the vkit annotation app (accounts of kind `human`)."]
    if source.source == "mixed":
        parts = [f"{source.labels.get('human', 0)} from human annotators ({', '.join(human) or 'none'})",
                 f"{source.labels.get('simulated', 0)} from {panel}, under simulated annotator ids "
                 f"({', '.join(source.simulated) or 'none'})"]
        unknown = sorted(name for name, kind in source.annotators.items() if kind not in ("human", "simulated"))
        if unknown:
            parts.append(f"{source.labels.get('unknown', 0)} from accounts the store no longer knows "
                         f"({', '.join(unknown)}): their source is unknown")
        return [f"**Source: mixed.** Of the {n} label(s) in this file: " + "; ".join(parts) + "."]
    return ["No labels: the file is empty."]


def _card(store: Store, vertical: str, file_name: str, rows: list, counts: dict, labelled: Sequence[LabelledTask],
          source: LabelSource, kind: str, license: str, language: Sequence[str], notes: str) -> str:
    who, creators, source_tags = _SOURCE_CARD[source.source]
    title = f"vkit {vertical} {who} {kind}"
    header = {
        "pretty_name": title,
        "license": license,
        "language": list(language),
        "task_categories": ["text-generation"],
        "annotations_creators": creators,
        "tags": ["vkit", vertical, *source_tags, "preference" if kind == "preferences" else "sft"],
        "size_categories": [_size_category(len(rows))],
        "configs": [{"config_name": "default", "data_files": file_name}],
    }
    kinds = {u.username: u.kind for u in store.users()}
    annotators = [name + (" (simulated)" if kinds.get(name) == "simulated" else "")
                  for name in sorted({a.annotator for lt in labelled for a in lt.annotations})]
    overlap = Counter(len(lt.assigned) for lt in labelled if lt.assigned)
    sources = Counter(lt.task.source.split(":")[0].split(" ")[0] for lt in labelled)
    agreement = agreement_report(labelled)
    use = (f"vkit run {vertical} --stages rm,rlhf --preferences {file_name}" if kind == "preferences"
           else f"rows in the SFT format ({{id, messages, answer}}) for `vkit run {vertical} --stages sft`")
    lines = [
        "---", yaml.safe_dump(header, allow_unicode=True, sort_keys=False).rstrip(), "---", "",
        f"# {title}", "",
        f"{len(rows)} rows in `{file_name}`, exported from the vkit annotation store.", "",
        "## Label source", "", *_source_text(source), "",
        "## Provenance", "",
        f"- store: `{store.url}` (schema v{store.schema_version()})",
        f"- exported: {datetime.now(timezone.utc).isoformat(timespec='seconds')}",
        f"- vertical: `{vertical}`; task sources: {_counter_text(sources)}",
        f"- annotators ({len(annotators)}): {', '.join(annotators) or 'none'}",
        f"- annotators per task (k): {_counter_text(overlap)}", "",
        "## Schema", "", "| field | type | meaning |", "| --- | --- | --- |",
        *[f"| `{name}` | {typ} | {meaning} |" for name, typ, meaning in _SCHEMAS[kind]], "",
        "## Counts", "", "| count | value |", "| --- | --- |", *[f"| {k} | {v} |" for k, v in counts.items()], "",
        notes.rstrip(), "",
        "## Agreement", "",
        f"Over {agreement['items']} task(s) with two or more annotations: pairwise Cohen's kappa on preferences "
        f"(mean of {agreement['kappa_pairs']} annotator pairs) = {_fmt(agreement['kappa'])}; Krippendorff's alpha "
        f"(interval) on rubric scores: {_counter_text({d: _fmt(v) for d, v in agreement['alpha'].items()})}.", "",
        "## Use", "", f"`{use}`", "",
        "## Licence", "",
        f"`{license}`. The answers were written by vkit models or by the annotators; the "
        + ("labels (generated by the simulated panel) are" if source.source == "simulated"
           else "annotators' labels and corrections are") + " released under the same licence.", "",
    ]
    return "\n".join(lines)


def _fmt(value: float) -> str:
    return "n/a" if value != value else f"{value:.3f}"


def _counter_text(counter: Any) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(counter.items(), key=lambda kv: str(kv[0]))) or "none"
