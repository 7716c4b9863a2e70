"""An LLM judge behind any OpenAI-compatible chat endpoint (``eval.judge=endpoint``).

The rubric judge (:func:`core_training.judge.make_judge`) is the training rubric with other weights, so
it shares the panel's blind spots. This judge is a language model the policy never trained against. It
sees the question, the knowledge-graph facts and two answers, and says which is better: ``A``, ``B``
or ``TIE``. Each pair is asked twice with the answers' positions swapped; a verdict counts only when
both orders agree, so a judge that always prefers the first position yields ties, not wins.

The prompt is the vertical's ``judge_prompt`` when it has one, else one written from its description
and rubric dimensions. Only the standard library talks to the endpoint (``POST {base}/chat/completions``).

>>> parse_verdict("B"), parse_verdict("答案：A。"), parse_verdict("Tie"), parse_verdict("不确定")
('B', 'A', 'TIE', 'TIE')
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from core_training.contract import Example, Vertical
from core_training.data import user_text

_VERDICT = re.compile(r"(?<![A-Za-z])(TIE|A|B)(?![A-Za-z])")


class JudgeEndpointError(RuntimeError):
    """The judge endpoint could not be reached or answered something unusable; the message names it."""


def parse_verdict(reply: str) -> str:
    """``A``, ``B`` or ``TIE``: the first verdict word in the reply (anything else is a tie)."""
    match = _VERDICT.search(reply.upper())
    return match.group(1) if match else "TIE"


def default_prompt(vertical: Vertical) -> str:
    """A pairwise judging instruction for ``vertical``, from its description and rubric dimensions."""
    criteria = "、".join(vertical.rubric_dimensions) or "准确、有用"
    return (f"你是严格的领域专家评审。领域：{vertical.description}\n"
            f"请比较两个回答，依据：与已知事实一致、不编造、遵守领域规则，以及{criteria}。"
            "只输出一个词：A（回答A更好）、B（回答B更好）或 TIE（不相上下）。")


@dataclass
class EndpointJudge:
    """A judge with the simulated annotator's interface (``prefer(a, b, example)``), asking an LLM."""

    vertical: Vertical
    base_url: str
    model: str | None = None
    api_key: str | None = None
    timeout: float = 120.0
    calls: int = field(default=0, init=False)

    def prefer(self, a: str, b: str, example: Example) -> str:
        """``"a"``, ``"b"`` or ``"tie"``: the verdict both answer orders agree on, else a tie."""
        if a == b:
            return "tie"
        first = {"A": "a", "B": "b"}.get(self.ask(a, b, example), "tie")
        second = {"A": "b", "B": "a"}.get(self.ask(b, a, example), "tie")
        return first if first == second else "tie"

    def ask(self, first: str, second: str, example: Example) -> str:
        question = user_text(example["messages"])
        facts = self.vertical.retrieve(question)
        prompt = getattr(self.vertical, "judge_prompt", None) or default_prompt(self.vertical)
        content = (f"【问题】\n{question}\n\n【已知事实】\n{facts}\n\n【回答A】\n{first}\n\n【回答B】\n{second}\n\n"
                   "哪个回答更好？只输出 A、B 或 TIE。")
        reply = self._post("chat/completions", {
            "model": self.model or self.served_model(), "temperature": 0, "max_tokens": 8,
            "messages": [{"role": "system", "content": prompt}, {"role": "user", "content": content}]})
        try:
            return parse_verdict(reply["choices"][0]["message"]["content"] or "")
        except (KeyError, IndexError, TypeError) as exc:
            raise JudgeEndpointError(f"judge endpoint {self.base_url}: unexpected reply {str(reply)[:200]}") from exc

    def served_model(self) -> str:
        """The first model the endpoint lists (``GET {base}/models``), remembered."""
        if self.model is None:
            data = self._request("models", None).get("data") or []
            if not data:
                raise JudgeEndpointError(f"judge endpoint {self.base_url}/models lists no model; set eval.judge_model")
            self.model = str(data[0]["id"])
        return self.model

    def _post(self, path: str, body: dict) -> dict:
        self.calls += 1
        return self._request(path, body)

    def _request(self, path: str, body: dict | None) -> Any:
        url = f"{self.base_url.rstrip('/')}/{path}"
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else None
        request = urllib.request.Request(url, data=data, headers=headers, method="POST" if body else "GET")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - a configured URL
                return json.loads(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise JudgeEndpointError(f"judge endpoint {url}: {exc}") from exc


def endpoint_judge(vertical: Vertical, eval_cfg) -> EndpointJudge:
    """The endpoint judge ``eval_cfg`` (an :class:`~core_training.config.EvalConfig`) describes."""
    if not eval_cfg.judge_endpoint:
        from core_training.config import ConfigError

        raise ConfigError("eval.judge_endpoint: eval.judge=endpoint needs the endpoint's URL "
                          "(e.g. eval.judge_endpoint=http://127.0.0.1:8000/v1)")
    return EndpointJudge(vertical, eval_cfg.judge_endpoint, eval_cfg.judge_model,
                         os.environ.get(eval_cfg.judge_api_key_env) or None)
