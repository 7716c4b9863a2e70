"""The advisor's LangChain pieces: a retriever over a vertical, chat models, and the grounded chain.

The chain builds exactly the prompt the model was trained and evaluated on
(:func:`core_training.data.prompt_messages` in ``grounded`` mode): the vertical's system prompt,
``【已知事实】`` and the facts its retriever returns for the user's side of the dialog, then the
dialog. The facts come through :class:`VerticalRetriever` (a LangChain ``BaseRetriever``), so the app
can show what the model was given. Streaming the chain yields the facts first, then the answer::

    chain = grounded_chain(vertical, LocalChatModel(path="runs/gaokao/<ts>/rlhf"))
    for part in chain.stream({"messages": [{"role": "user", "content": "广东2025物理类598分"}]}):
        ...  # {"messages": ...}, then {"facts": "..."}, then {"answer": "<piece>"} repeatedly

The model is a local checkpoint (:class:`LocalChatModel`, streamed with transformers'
``TextIteratorStreamer``) or any OpenAI-compatible server such as vLLM or SGLang
(:func:`endpoint_chat_model`). :func:`resolve_model` finds the checkpoint a run directory stands for.

>>> [s for s in POLICY_PREFERENCE]
['rlhf', 'dpo', 'rlvr', 'sft', 'cpt']
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from langchain_core.callbacks import CallbackManagerForLLMRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage, HumanMessage, SystemMessage
from langchain_core.output_parsers import StrOutputParser
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda, RunnablePassthrough
from pydantic import ConfigDict, PrivateAttr

from core_training import checkpoints
from core_training.checkpoints import POLICY_PREFERENCE
from core_training.contract import Vertical
from core_training.data import prompt_messages, user_text

_ROLES = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
_TYPES = {"system": "system", "human": "user", "ai": "assistant"}


# --------------------------------------------------------------------------- which model


class NoModelError(FileNotFoundError):
    """No trained checkpoint where one was looked for; the message says where and what to run."""


@dataclass(frozen=True)
class ModelChoice:
    """A checkpoint to answer with; ``model_id`` is what feedback rows record."""

    path: Path
    model_id: str
    stage: str | None = None


def run_policy(run_dir: Path) -> ModelChoice | None:
    """The last policy stage a run finished (rlhf, else dpo, rlvr, sft, cpt), per its ``report.json``."""
    found = checkpoints.run_policy(run_dir)
    return ModelChoice(found[0], str(found[0]), found[1]) if found else None


def resolve_model(vertical: str, model: str | None = None, runs_root: str | Path = "runs") -> ModelChoice:
    """The checkpoint for ``--model`` (a checkpoint or a run directory), else the latest run's policy.

    Raises:
        NoModelError: ``model`` is neither, or no run of ``vertical`` under ``runs_root`` has a policy.
    """
    if model:
        path = Path(model)
        if checkpoints.is_checkpoint(path):
            return ModelChoice(path, str(path), path.name)
        choice = run_policy(path)
        if choice is None:
            raise NoModelError(f"{model} is neither a checkpoint (no config.json with a model_type) nor a run "
                               f"directory with a finished policy stage ({', '.join(POLICY_PREFERENCE)}) in its report.json")
        return choice
    runs = [p.parent for p in Path(runs_root, vertical).glob("*/report.json")]
    for run_dir in sorted(runs, key=lambda p: (p.joinpath("report.json").stat().st_mtime, p.name), reverse=True):
        if choice := run_policy(run_dir):
            return choice
    raise NoModelError(f"no trained {vertical} run under {Path(runs_root, vertical)}/")


# --------------------------------------------------------------------------- retriever


class VerticalRetriever(BaseRetriever):
    """The vertical's own retriever as a LangChain retriever: one document, the facts text."""

    vertical: Any  # a core_training.contract.Vertical (a frozen dataclass pydantic need not validate)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [Document(page_content=self.vertical.retrieve(query), metadata={"vertical": self.vertical.name})]


def to_langchain(messages: Sequence[dict]) -> list[BaseMessage]:
    """``[{"role", "content"}]`` chat turns as LangChain messages."""
    return [_ROLES[m["role"]](content=m["content"]) for m in messages]


def to_dicts(messages: Sequence[BaseMessage]) -> list[dict]:
    """LangChain messages as ``[{"role", "content"}]`` turns (what chat templates read)."""
    return [{"role": _TYPES.get(m.type, m.type), "content": m.text} for m in messages]


def grounded_messages(vertical: Vertical, messages: Sequence[dict], facts: str) -> list[dict]:
    """The grounded prompt for a dialog, with ``facts`` as the retrieved part.

    The vertical's retriever is swapped for the facts already fetched, so the prompt is built by the
    same function training used and cannot drift from it.
    """
    given = dataclasses.replace(vertical, retrieve=lambda _query: facts)
    return prompt_messages(given, {"messages": list(messages)}, "grounded")


def grounded_chain(vertical: Vertical, chat_model: BaseChatModel) -> Runnable:
    """``{"messages": dialog}`` -> ``{"messages", "facts", "answer"}``; streams the facts, then the answer."""
    retriever = VerticalRetriever(vertical=vertical)
    facts = (RunnableLambda(lambda x: user_text(x["messages"]), name="user_text") | retriever
             | RunnableLambda(lambda docs: "\n".join(d.page_content for d in docs), name="join_facts"))
    prompt = RunnableLambda(lambda x: to_langchain(grounded_messages(vertical, x["messages"], x["facts"])),
                            name="grounded_prompt")
    return RunnablePassthrough.assign(facts=facts).assign(answer=prompt | chat_model | StrOutputParser())


# --------------------------------------------------------------------------- chat models


class LocalChatModel(BaseChatModel):
    """A local checkpoint directory as a LangChain chat model: greedy decoding, streamed token by token."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    path: str
    max_new_tokens: int = 256
    _loaded: tuple | None = PrivateAttr(default=None)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "vkit-local"

    @property
    def _identifying_params(self) -> dict:
        return {"path": self.path, "max_new_tokens": self.max_new_tokens}

    def load(self) -> tuple:
        """``(model, tokenizer)``, loaded on first use."""
        with self._lock:
            if self._loaded is None:
                from core_training.modeling import load_causal_lm, load_tokenizer

                self._loaded = (load_causal_lm(self.path).eval(), load_tokenizer(self.path))
        return self._loaded

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        from core_training.generation import generate

        model, tokenizer = self.load()
        [text] = generate(model, tokenizer, [to_dicts(messages)], max_new_tokens=self.max_new_tokens, batch_size=1)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        import torch
        from transformers import TextIteratorStreamer

        model, tokenizer = self.load()
        prompt = tokenizer.apply_chat_template(to_dicts(messages), tokenize=False, add_generation_prompt=True)
        enc = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=300)
        failure: list[BaseException] = []

        def work() -> None:
            try:
                with torch.no_grad():
                    model.generate(**enc, max_new_tokens=self.max_new_tokens, do_sample=False, streamer=streamer,
                                   pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id)
            except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread below
                failure.append(exc)
                streamer.end()

        thread = threading.Thread(target=work, name="vkit-generate", daemon=True)
        thread.start()
        for piece in streamer:
            if piece:
                if run_manager:
                    run_manager.on_llm_new_token(piece)
                yield ChatGenerationChunk(message=AIMessageChunk(content=piece))
        thread.join()
        if failure:
            raise failure[0]


def served_models(base_url: str, api_key: str = "EMPTY", timeout: float = 10.0) -> list[str]:
    """The model ids an OpenAI-compatible server lists at ``/models`` (vLLM and SGLang serve one)."""
    import httpx

    response = httpx.get(base_url.rstrip("/") + "/models", headers={"Authorization": f"Bearer {api_key}"},
                         timeout=timeout)
    response.raise_for_status()
    return [m["id"] for m in response.json().get("data", [])]


def endpoint_chat_model(base_url: str, model: str | None = None, api_key: str | None = None,
                        max_tokens: int = 256) -> BaseChatModel:
    """An OpenAI-compatible server (``http://host:8000/v1``) as a streaming, greedy chat model.

    ``model`` defaults to the first model the server lists; ``api_key`` to ``$OPENAI_API_KEY`` or a
    placeholder (local servers ignore it).
    """
    import os

    try:
        from langchain_openai import ChatOpenAI
    except ImportError as exc:  # pragma: no cover - an install problem, reported plainly
        raise RuntimeError("--endpoint needs langchain-openai: pip install 'vkit[apps]'") from exc
    api_key = api_key or os.environ.get("OPENAI_API_KEY", "EMPTY")
    if model is None:
        listed = served_models(base_url, api_key)
        if not listed:
            raise RuntimeError(f"{base_url}/models lists no model; pass --endpoint-model")
        model = listed[0]
    return ChatOpenAI(base_url=base_url, api_key=api_key, model=model, temperature=0.0, max_tokens=max_tokens,
                      streaming=True, max_retries=1)
