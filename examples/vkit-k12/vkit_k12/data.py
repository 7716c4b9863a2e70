"""Datasets of the k12 vertical: SFT chains, RL prompts, eval set, preference pairs, known-bad answers, CPT text.

Deterministic (``DATA_SEED``) and cached. The eval set is held out by template: its problems come only
from :data:`vkit_k12.problems.HELD_OUT` (calculations and word problems across the syllabus), so
no eval question shape or number set appears in training. A student's grade is the template's grade
or up to two above it; ``truth["allowed_methods"]`` is what the retriever lists for that grade.

>>> chains = load_chains()
>>> len(chains), sorted(chains[0])
(600, ['answer', 'id', 'messages', 'truth'])
>>> {ex["truth"]["template"] for ex in load_eval_set()} <= set(HELD_OUT)
True
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Callable

from core_training.authoring import user_example

from vkit_k12.answer import answer_parts, render, split_sections
from vkit_k12.problems import HELD_OUT, TEMPLATES, Problem
from vkit_k12.syllabus import GRADE_NAMES, METHODS, NORMS, allowed_methods

DATA_SEED = 20251125
SIZES = {"sft": 600, "rl": 150, "pref": 200, "eval": 60}
KNOWN_BAD_PER_KIND = 2
TRAIN_TEMPLATES = tuple(name for name in TEMPLATES if name not in HELD_OUT)


def question_text(problem: Problem, grade: int) -> str:
    return f"{GRADE_NAMES[grade]}：{problem.question}"


def make_example(split: str, number: int, problem: Problem, grade: int) -> dict:
    truth = {"grade": grade, "kind": problem.kind, "template": problem.template, "value": problem.value,
             "unit": problem.unit, "allowed_methods": allowed_methods(grade), "steps": problem.work.count("=")}
    return user_example(f"k12-{split}-{number:04d}", question_text(problem, grade), truth,
                        answer=render(problem.work, problem.answer))


def sample(rng: random.Random, templates: tuple[str, ...], count: int, seen: set[str]) -> list[tuple[Problem, int]]:
    """``count`` distinct (problem, grade) pairs; ``seen`` (question texts) is updated."""
    out = []
    while len(out) < count:
        problem = TEMPLATES[rng.choice(templates)](rng)
        grade = min(6, problem.grade + rng.choice((0, 0, 1, 2)))
        text = question_text(problem, grade)
        if text not in seen:
            seen.add(text)
            out.append((problem, grade))
    return out


@lru_cache(maxsize=1)
def _problems() -> dict[str, list[tuple[Problem, int]]]:
    rng, seen = random.Random(DATA_SEED), set()
    return {split: sample(rng, HELD_OUT if split == "eval" else TRAIN_TEMPLATES, SIZES[split], seen)
            for split in ("sft", "rl", "pref", "eval")}


def _split(name: str) -> list[dict]:
    return [make_example(name, i, p, grade) for i, (p, grade) in enumerate(_problems()[name])]


@lru_cache(maxsize=1)
def load_chains() -> list[dict]:
    return _split("sft")


@lru_cache(maxsize=1)
def load_rl_prompts() -> list[dict]:
    return _split("rl")


@lru_cache(maxsize=1)
def load_eval_set() -> list[dict]:
    return _split("eval")


# --------------------------------------------------------------------------- perturbations


def _rebuild(answer: str, work: str | None = None, result: str | None = None) -> str:
    parts = split_sections(answer)
    return render(parts["算式"] if work is None else work, parts["答案"] if result is None else result)


def star_sign(answer: str, truth: dict) -> str | None:
    return answer.replace("×", "*") if "×" in answer else None


def slash_division(answer: str, truth: dict) -> str | None:
    return answer.replace("÷", "/") if "÷" in answer else None


def wrong_answer(answer: str, truth: dict) -> str | None:
    number, unit = answer_parts(split_sections(answer)["答案"])
    if not number.isdigit():
        return None
    return _rebuild(answer, result=f"{int(number) + 1}{unit}")


def wrong_step(answer: str, truth: dict) -> str | None:
    """The last number of the worked steps is off by ten (the answer is left right)."""
    work = split_sections(answer)["算式"]
    match = list(re.finditer(r"=(\d+)(?=（|$)", work))
    if not match:
        return None
    last = match[-1]
    return _rebuild(answer, work=f"{work[:last.start()]}={int(last.group(1)) + 10}{work[last.end():]}")


def equation_too_early(answer: str, truth: dict) -> str | None:
    """Solve a grade-1..4 problem with an unknown x: right numbers, method beyond the syllabus."""
    if truth["grade"] >= 5 or truth["kind"] not in ("word", "calc") or "……" in answer:
        return None
    first = re.split(r"[，,]", split_sections(answer)["算式"])[-1]
    expression, *_, result = first.split("=")
    unit = f"（{truth['unit']}）" if truth["unit"] else ""
    result = re.sub(r"（.*?）", "", result)
    return _rebuild(answer, work=f"设所求为x，x={expression}，x={result}{unit}")


def unsimplified_fraction(answer: str, truth: dict) -> str | None:
    match = re.search(r"\\frac\{(\d+)\}\{(\d+)\}", split_sections(answer)["答案"])
    if not match:
        return None
    doubled = f"\\frac{{{2 * int(match.group(1))}}}{{{2 * int(match.group(2))}}}"
    return answer.replace(match.group(0), doubled)


def missing_answer(answer: str, truth: dict) -> str:
    return answer.split("\n【答案】")[0]


def missing_unit(answer: str, truth: dict) -> str | None:
    if not truth["unit"]:
        return None
    number, _ = answer_parts(split_sections(answer)["答案"])
    return _rebuild(answer, result=number)


def no_unit_notes(answer: str, truth: dict) -> str | None:
    """Soft: the 算式 loses its （单位） notes."""
    if not truth["unit"]:
        return None
    return _rebuild(answer, work=split_sections(answer)["算式"].replace(f"（{truth['unit']}）", ""))


def skipped_steps(answer: str, truth: dict) -> str | None:
    """Soft: every chain keeps only its first and last member."""
    work = split_sections(answer)["算式"]
    if work.count("=") <= len(re.split(r"[，,]", work)):
        return None
    chains = [f"{s.split('=')[0]}={s.split('=')[-1]}" for s in re.split(r"[，,]", work)]
    return _rebuild(answer, work="，".join(chains))


Perturbation = Callable[[str, dict], "str | None"]
HARD: dict[str, Perturbation] = {f.__name__: f for f in (star_sign, slash_division, wrong_answer, wrong_step,
                                                         equation_too_early, unsimplified_fraction, missing_answer,
                                                         missing_unit)}
SOFT: dict[str, Perturbation] = {f.__name__: f for f in (no_unit_notes, skipped_steps)}


@lru_cache(maxsize=1)
def load_preferences() -> list[dict]:
    """Gold answer (chosen) against a soft (every other pair) or hard perturbation of it (rejected)."""
    rng, pairs = random.Random(DATA_SEED + 2), []
    for i, (problem, grade) in enumerate(_problems()["pref"]):
        example = make_example("pref", i, problem, grade)
        kinds = [SOFT, HARD] if i % 2 == 0 else [HARD]
        rejected = None
        for table in kinds:
            for name in rng.sample(sorted(table), len(table)):
                rejected = table[name](example["answer"], example["truth"])
                if rejected and rejected != example["answer"]:
                    break
                rejected = None
            if rejected:
                break
        pairs.append({"id": example["id"], "messages": example["messages"], "chosen": example["answer"],
                      "rejected": rejected, "truth": example["truth"]})
    return pairs


@lru_cache(maxsize=1)
def known_bad() -> list[dict]:
    """Eval examples with a hard perturbation (``violates`` names it), ``KNOWN_BAD_PER_KIND`` of each."""
    bad, examples = [], load_eval_set()
    for name, perturb in sorted(HARD.items()):
        made = [{**ex, "answer": a, "violates": name} for ex in examples if (a := perturb(ex["answer"], ex["truth"]))]
        bad += made[:KNOWN_BAD_PER_KIND]
    return [{**ex, "id": f"k12-bad-{i:04d}"} for i, ex in enumerate(bad)]


# --------------------------------------------------------------------------- CPT corpus


@lru_cache(maxsize=1)
def load_cpt_corpus() -> dict[str, list[str]]:
    """Syllabus and norm texts plus worked examples; eval = worked examples of the held-out templates."""
    rng = random.Random(DATA_SEED + 4)
    know_how = [f"{name}：{description}，{GRADE_NAMES[first]}开始学习。" for name, (first, description) in METHODS.items()]
    know_how += [f"书写规范：{NORMS}", "小学算式中乘号写成×，除号写成÷，星号*和斜线/是电脑里的写法，作业中不能用。",
                 "分数写成\\frac{分子}{分母}，计算结果要约分成最简分数，分母是1时写成整数。",
                 "有余数的除法写成 被除数÷除数=商……余数，余数一定比除数小。",
                 "五年级学习简易方程以前，应用题用算术方法列式解答，不设未知数x。",
                 "应用题在算式后面用括号注明单位，答案也要写单位。"]
    def worked(templates, count):
        texts = []
        for _ in range(count):
            p = TEMPLATES[rng.choice(templates)](rng)
            texts.append(f"{p.question} 列式：{p.work}，答：{p.answer}。")
        return texts
    return {"train": know_how + worked(TRAIN_TEMPLATES, 400), "eval": worked(HELD_OUT, 40)}
