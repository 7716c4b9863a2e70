"""The advisor app: chat with a trained vertical advisor, see what it was given and how its answer checks out.

Run (``vkit app`` does this for you)::

    vkit app gaokao                                   # the latest runs/gaokao/*/ run's last policy stage
    vkit app gaokao --model runs/gaokao/<ts>          # a run directory, or --model a checkpoint directory
    vkit app gaokao --endpoint http://127.0.0.1:8000/v1 [--endpoint-model NAME]   # vLLM / SGLang / any OpenAI API
    streamlit run apps/advisor.py -- --vertical gaokao [--db sqlite:///annotations.db]

Every answer streams in, grounded on the facts the vertical's retriever returns for the dialog (shown
in an expander; :mod:`apps.chain` builds the prompt training used). Under it: the answer's structure
as a table and its report sections (:mod:`apps.panels`), one badge per rule of the vertical with its
verdict and reason (``core_training.rewards.check``, with ``truth`` from the vertical's own
``build_truth`` where its retriever module has one), and feedback (thumbs, rubric scores, a
suggested correction) written to the feedback store (:class:`apps.store.Store`) with the question,
the dialog the model answered (a multi-turn vertical's whole conversation), the facts, the answer,
the model id and the verdicts. A correction becomes an annotation task in ``vkit annotate``.

Options also come from the environment (``VKIT_ADVISOR_VERTICAL``, ``_MODEL``, ``_ENDPOINT``,
``_ENDPOINT_MODEL``, ``_DB``, ``_RUNS``, ``_MAX_NEW_TOKENS``). Tests and embedding code may put a
LangChain chat model in ``st.session_state["advisor_chat_model"]`` to answer instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import streamlit as st

if __package__ in (None, ""):  # `streamlit run apps/advisor.py` puts apps/, not the repo, on sys.path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from apps.chain import NoModelError, endpoint_chat_model, grounded_chain, resolve_model  # noqa: E402
from apps.panels import Panel, build_panel  # noqa: E402
from core_training.contract import RuleResult, Vertical  # noqa: E402
from core_training.data import user_text  # noqa: E402
from core_training.rewards import check, is_error  # noqa: E402

TEST_HOOK = "advisor_chat_model"
BADGE = {"pass": ("green", "✓ pass"), "fail": ("red", "✗ fail"), "n/a": ("gray", "– n/a"),
         "error": ("orange", "! error")}  # status -> badge colour and label
UNSCORED = "–"
SCALE = (UNSCORED, 0.0, 0.25, 0.5, 0.75, 1.0)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="vkit advisor app")
    parser.add_argument("--vertical", default=env("VKIT_ADVISOR_VERTICAL", "gaokao"))
    parser.add_argument("--model", default=env("VKIT_ADVISOR_MODEL"), help="run directory or checkpoint directory")
    parser.add_argument("--endpoint", default=env("VKIT_ADVISOR_ENDPOINT"), help="OpenAI-compatible base URL")
    parser.add_argument("--endpoint-model", default=env("VKIT_ADVISOR_ENDPOINT_MODEL"))
    parser.add_argument("--db", default=env("VKIT_ADVISOR_DB") or env("VKIT_ANNOTATE_DB") or "sqlite:///annotations.db")
    parser.add_argument("--runs", default=env("VKIT_ADVISOR_RUNS", "runs"), help="where `vkit run` writes runs")
    parser.add_argument("--max-new-tokens", type=int, default=int(env("VKIT_ADVISOR_MAX_NEW_TOKENS", "256")))
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return args


# --------------------------------------------------------------------------- verdicts (pure, tested directly)


def live_truth(vertical: Vertical, messages: list[dict]) -> tuple[dict | None, str]:
    """``(truth, note)`` for a live dialog; truth is None (and note says why) when it can't be built."""
    build = vertical.build_truth
    if build is None:
        return None, f"{vertical.name} exposes no build_truth: rules that need the facts are n/a"
    try:
        return build(user_text(messages)), ""
    except Exception as exc:  # noqa: BLE001 - e.g. the question names no province: rules go n/a
        return None, f"facts to check against could not be built ({exc}): rules that need them are n/a"


def verdicts(vertical: Vertical, answer: str, messages: list[dict], truth: dict | None) -> dict[str, dict]:
    """Rule name -> ``{status, score, passed, reason}``; status is pass, fail, n/a or error.

    Without ``truth`` a rule that needs it raises, and shows as n/a rather than as an error.
    """
    example: dict[str, Any] = {"id": "live", "messages": list(messages)}
    if truth is not None:
        example["truth"] = truth
    out = {}
    for name, result in check(vertical, answer, example).items():
        status = _status(result)
        reason = result.reason
        if status == "error" and truth is None:
            status, reason = "n/a", f"needs facts this question does not give ({result.reason})"
        out[name] = {"status": status, "score": result.score, "passed": result.passed, "reason": reason}
    return out


def _status(result: RuleResult) -> str:
    if is_error(result):
        return "error"
    if result.score is None:
        return "n/a"
    return "pass" if result.passed else "fail"


def model_dialog(vertical: Vertical, turns: list[dict]) -> list[dict]:
    """What the model sees: the whole dialog if the vertical is multi-turn, else the last question alone."""
    dialog = [{"role": t["role"], "content": t["content"]} for t in turns]
    return dialog if vertical.multi_turn else dialog[-1:]


# --------------------------------------------------------------------------- resources


@st.cache_resource(show_spinner=False)
def open_store(url: str):
    from apps.store import Store

    return Store.open(url)


@st.cache_resource(show_spinner="Loading the model…")
def local_model(path: str, max_new_tokens: int):
    from apps.chain import LocalChatModel

    model = LocalChatModel(path=path, max_new_tokens=max_new_tokens)
    model.load()
    return model


@st.cache_resource(show_spinner=False)
def remote_model(url: str, name: str | None, max_tokens: int):
    return endpoint_chat_model(url, name, max_tokens=max_tokens)


def chat_model(args: argparse.Namespace, vertical: Vertical) -> tuple[Any, str]:
    """``(chat model, model id)``: the test hook, the endpoint, or a local checkpoint. Raises NoModelError."""
    if TEST_HOOK in st.session_state:
        model = st.session_state[TEST_HOOK]
        return model, f"session:{type(model).__name__}"
    if args.endpoint:
        model = remote_model(args.endpoint, args.endpoint_model, args.max_new_tokens)
        return model, f"{model.model_name}@{args.endpoint}"
    choice = resolve_model(vertical.name, args.model, args.runs)
    return local_model(str(choice.path), args.max_new_tokens), choice.model_id


# --------------------------------------------------------------------------- drawing


def no_model(vertical: Vertical, error: NoModelError) -> None:
    st.info(f"No trained {vertical.name} advisor yet: {error}.")
    st.markdown("Train one (it lands in `runs/` and this page picks it up on reload):")
    st.code(f"vkit run {vertical.name}", language="bash")
    st.caption("Or point the app at a checkpoint with `--model DIR`, or at a served model with `--endpoint URL`.")


def sidebar(vertical: Vertical, model_id: str, store_url: str) -> None:
    st.sidebar.header(vertical.name)
    st.sidebar.caption(vertical.description)
    st.sidebar.markdown(f"**Model** `{model_id}`")
    st.sidebar.markdown(f"**Feedback store** `{store_url}`")
    st.sidebar.markdown("**Rules**\n" + "\n".join(f"- `{r.name}` {r.description}" for r in vertical.rules))
    if st.sidebar.button("New conversation", key="new_conversation"):
        st.session_state["turns"] = []
        st.rerun()


def badges(results: dict[str, dict]) -> None:
    st.markdown("**Rule checks**")
    for name, r in results.items():
        color, label = BADGE[r["status"]]
        score = "" if r["score"] is None else f" ({r['score']:.2f})"
        st.markdown(f":{color}-badge[{label}] `{name}`{score} — {r['reason']}")


def structure(panel: Panel) -> None:
    st.markdown(f"**{panel.title}**")
    if panel.rows:
        st.table(panel.rows)
    if panel.problem:
        st.caption(f"No table: {panel.problem}")
    for note in panel.notes:
        st.caption(note)
    for title, text in panel.sections:
        st.markdown(f"**{title}**")
        st.write(text)


def feedback(vertical: Vertical, turn: dict, index: int, store) -> None:
    """Thumbs (saved on click) and a form for rubric scores and a correction; each save is one store row."""
    if store is None:
        st.caption("Feedback is off: the store could not be opened.")
        return

    def save(**labels) -> None:
        try:
            fid = store.add_feedback(vertical.name, turn["question"], turn["content"], facts=turn["facts"],
                                     model_id=turn["model_id"], verdicts=turn["verdicts"],
                                     messages=turn.get("messages"), **labels)
        except Exception as exc:  # noqa: BLE001 - e.g. the database went away: say so, keep the chat
            st.error(f"Feedback was not saved: {type(exc).__name__}: {exc}")
            return
        turn.setdefault("saved", []).append(fid)
        st.session_state["notice"] = f"Feedback #{fid} saved. Thank you!"
        st.rerun()

    up, down, _ = st.columns([1, 1, 4])
    if up.button("👍 Helpful", key=f"up-{index}"):
        save(thumbs=1)
    if down.button("👎 Not helpful", key=f"down-{index}"):
        save(thumbs=-1)
    with st.expander("Rate this answer / suggest a correction"):
        with st.form(f"feedback-{index}"):
            scores = {d: st.select_slider(d, SCALE, value=UNSCORED, key=f"rubric-{index}-{d}")
                      for d in vertical.rubric_dimensions}
            correction = st.text_area("Suggested correction: edit the answer into what it should be",
                                      value=turn["content"], key=f"correction-{index}", height=160)
            sent = st.form_submit_button("Send feedback", key=f"send-{index}")
        if sent:
            rubric = {d: float(v) for d, v in scores.items() if v != UNSCORED}
            fixed = correction.strip() if correction.strip() != turn["content"].strip() else ""
            if rubric or fixed:
                save(rubric=rubric, correction=fixed)
            else:
                st.warning("Nothing to send: score a dimension or edit the answer first.")
    if turn.get("saved"):
        st.caption(f"Saved feedback: {', '.join(f'#{i}' for i in turn['saved'])}")


def assistant_turn(vertical: Vertical, turn: dict, index: int, store) -> None:
    with st.chat_message("assistant"):
        st.markdown(turn["content"].replace("\n", "  \n") or "_(empty answer)_")  # keep the line breaks
        with st.expander("Facts given to the model"):
            st.text(turn["facts"])
        left, right = st.columns([3, 2])
        with left:
            structure(build_panel(vertical.name, turn["content"], turn["facts"], turn.get("truth")))
        with right:
            badges(turn["verdicts"])
            if turn.get("truth_note"):
                st.caption(turn["truth_note"])
        feedback(vertical, turn, index, store)


def stream_answer(chain, dialog: list[dict], facts_slot) -> tuple[Iterator[str], dict]:
    """The answer's pieces for ``st.write_stream``; the facts land in ``facts_slot`` as they arrive."""
    got: dict = {}

    def pieces() -> Iterator[str]:
        for part in chain.stream({"messages": dialog}):
            if "facts" in part:
                got["facts"] = part["facts"]
                with facts_slot.container(), st.expander("Facts given to the model"):
                    st.text(part["facts"])
            if "answer" in part:
                yield part["answer"]

    return pieces(), got


def ask(vertical: Vertical, chain, model_id: str, question: str) -> None:
    """Append the question, stream the answer, check it, and keep the finished turn."""
    turns = st.session_state["turns"]
    turns.append({"role": "user", "content": question})
    st.chat_message("user").markdown(question)
    dialog = model_dialog(vertical, turns)
    with st.chat_message("assistant"):
        facts_slot = st.empty()
        pieces, got = stream_answer(chain, dialog, facts_slot)
        try:
            answer = st.write_stream(pieces)
        except Exception as exc:  # noqa: BLE001 - a dead endpoint or a broken checkpoint: say so, keep the app
            turns.pop()
            st.error(f"The model failed: {type(exc).__name__}: {exc}")
            return
    answer = answer if isinstance(answer, str) else "".join(map(str, answer))
    truth, note = live_truth(vertical, dialog)
    turns.append({"role": "assistant", "content": answer.strip(), "facts": got.get("facts", ""),
                  "question": user_text(dialog), "messages": dialog, "model_id": model_id, "truth": truth,
                  "truth_note": note, "verdicts": verdicts(vertical, answer.strip(), dialog, truth)})
    st.rerun()


def main() -> None:
    args = parse_args()
    from core_training.registry import get_vertical

    try:
        vertical = get_vertical(args.vertical)
    except Exception as exc:  # noqa: BLE001 - unknown or broken vertical: say which
        st.set_page_config(page_title="vkit advisor")
        st.error(f"Cannot load vertical {args.vertical!r}: {exc}")
        return
    st.set_page_config(page_title=f"vkit · {vertical.name} advisor", layout="wide")
    st.title(f"{vertical.name} advisor")
    try:
        model, model_id = chat_model(args, vertical)
    except NoModelError as error:
        no_model(vertical, error)
        return
    except Exception as exc:  # noqa: BLE001 - an unreachable endpoint or a checkpoint that does not load
        st.error(f"Could not open the model ({args.endpoint or args.model or 'latest run'}): "
                 f"{type(exc).__name__}: {exc}")
        return
    try:
        store = open_store(args.db)
    except Exception as exc:  # noqa: BLE001 - chatting works without the store
        st.warning(f"Feedback store {args.db} could not be opened ({exc}); feedback is off.")
        store = None
    sidebar(vertical, model_id, store.url if store else args.db)
    if not vertical.multi_turn:
        st.caption("Each question is answered on its own; write everything the advisor needs in it.")
    turns = st.session_state.setdefault("turns", [])
    if notice := st.session_state.pop("notice", None):
        st.success(notice)
    for index, turn in enumerate(turns):
        if turn["role"] == "user":
            st.chat_message("user").markdown(turn["content"])
        else:
            assistant_turn(vertical, turn, index, store)
    if question := st.chat_input(f"Ask the {vertical.name} advisor", key="question"):
        ask(vertical, grounded_chain(vertical, model), model_id, question)


if __name__ == "__main__":
    main()
