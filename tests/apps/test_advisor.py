"""The advisor app through Streamlit's AppTest, plus its chain, model resolution, panels and CLI.

A tiny Qwen3-MoE (``tiny_base``) answers in gibberish that must still render; a scripted chat model
(the ``advisor_chat_model`` session hook) injects known answers so the structure table has rows.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import types
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import streamlit as st
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from streamlit.testing.v1 import AppTest

from apps.chain import (LocalChatModel, NoModelError, endpoint_chat_model, grounded_chain, grounded_messages,
                        resolve_model)
from apps.panels import build_panel
from apps.store import Store
from core_training.contract import Rule, RuleResult, Vertical
from core_training.data import prompt_messages
from core_training.registry import IN_REPO, get_vertical, list_verticals

APP = Path(__file__).resolve().parents[2] / "apps" / "advisor.py"
QUESTION = "我是广东考生，2025年物理类，考了598分，选科物理、化学、生物，想学计算机"
HOOK = "advisor_chat_model"


def gold_answer(question: str = QUESTION) -> str:
    from verticals.gaokao.experts import write_gold_answer
    from verticals.gaokao.retriever import build_truth

    return write_gold_answer(build_truth(question), "全面")


@pytest.fixture
def env(tmp_path, monkeypatch):
    """An empty runs/ root and a SQLite feedback store for the app; the store is returned."""
    url = f"sqlite:///{tmp_path / 'feedback.db'}"
    monkeypatch.setenv("VKIT_ADVISOR_VERTICAL", "gaokao")
    monkeypatch.setenv("VKIT_ADVISOR_DB", url)
    monkeypatch.setenv("VKIT_ADVISOR_RUNS", str(tmp_path / "runs"))
    monkeypatch.setenv("VKIT_ADVISOR_MAX_NEW_TOKENS", "12")
    for name in ("VKIT_ADVISOR_MODEL", "VKIT_ADVISOR_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    store = Store.open(url)
    yield store
    store.close()
    st.cache_resource.clear()


def copy_run(run: Path, runs: Path, name: str) -> Path:
    """A copy of a real `vkit run` directory under ``runs/gaokao/<name>``."""
    return Path(shutil.copytree(run, runs / "gaokao" / name))


def app(model=None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    if model is not None:
        at.session_state[HOOK] = model
    at.run()
    assert not at.exception, at.exception
    return at


def ask(at: AppTest, question: str = QUESTION) -> AppTest:
    at.chat_input(key="question").set_value(question).run()
    assert not at.exception, at.exception
    return at


def badge_lines(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if "-badge[" in m.value]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


# --------------------------------------------------------------------------- the app


def test_no_trained_run_says_so_and_shows_the_command(env):
    at = app()
    assert "No trained gaokao advisor yet" in texts(at.info)
    assert [c.value for c in at.code] == ["vkit run gaokao"]
    assert not at.chat_input


def test_unreachable_endpoint_is_reported_not_raised(env, monkeypatch):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("VKIT_ADVISOR_ENDPOINT", f"http://127.0.0.1:{port}/v1")
    at = app()
    assert "Could not open the model" in texts(at.error)


def test_app_answers_from_the_latest_real_run(env, micro_run, tmp_path):
    run = copy_run(micro_run, tmp_path / "runs", "20260101-000000")
    at = ask(app())
    assert "Could not open the model" not in texts(at.error)
    assistant = [m for m in at.chat_message if m.name == "assistant"]
    assert len(assistant) == 1
    assert f"`{run / 'sft'}`" in texts(at.sidebar.markdown)  # the last policy stage of the latest run
    facts = texts(at.expander[0].text)
    assert facts.startswith("考生：广东2025物理类598分 位次23759")
    lines = badge_lines(at)
    assert len(lines) == len(get_vertical("gaokao").rules)
    assert any("`structure_parses`" in line for line in lines)


def test_app_model_option_takes_a_run_directory(env, micro_run, monkeypatch):
    """`vkit app gaokao --model RUN_DIR` (the form the advisor's docstring shows) opens the run's policy,
    although the run directory has a config.json of its own (the run's config, not a model's)."""
    assert (micro_run / "config.json").is_file()
    monkeypatch.setenv("VKIT_ADVISOR_MODEL", str(micro_run))
    at = app()
    assert not at.error, texts(at.error)
    assert f"`{micro_run / 'sft'}`" in texts(at.sidebar.markdown)
    at = ask(at)
    assert [m for m in at.chat_message if m.name == "assistant"]


def test_known_answer_fills_the_table_and_passes_every_rule(env):
    at = ask(app(FakeListChatModel(responses=[gold_answer()])))
    [table] = at.table
    rows = table.value
    assert list(rows.columns)[:5] == ["档", "id", "大学", "专业组", "引用位次"]
    assert list(rows["档"]) == ["冲", "稳", "稳", "保"]
    assert set(rows["核对"]) == {"✓"}
    assert rows["大学"].iloc[0] == "崂山师范大学"  # resolved from the retrieved facts by id
    lines = badge_lines(at)
    assert lines and all("green-badge" in line for line in lines), lines
    shown = texts(at.markdown)
    for section in ("考生情况分析", "填报策略", "志愿表解读", "风险提示"):
        assert f"**{section}**" in shown


def test_feedback_clicks_write_rows_to_the_store(env):
    answer = gold_answer()
    at = ask(app(FakeListChatModel(responses=[answer])))
    at.button(key="up-1").click().run()
    assert "Feedback #1 saved" in texts(at.success)
    [row] = env.feedback("gaokao")
    assert (row.thumbs, row.question, row.answer) == (1, QUESTION, answer)
    assert row.messages == [{"role": "user", "content": QUESTION}]
    assert row.facts.startswith("考生：广东2025物理类598分") and row.model_id == "session:FakeListChatModel"
    assert set(row.verdicts) == {r.name for r in get_vertical("gaokao").rules}
    assert row.verdicts["structure_parses"]["status"] == "pass"

    at.select_slider(key="rubric-1-accuracy").set_value(0.75)
    at.text_area(key="correction-1").input(answer.replace("拉开梯度", "冲稳保拉开梯度"))
    at.button(key="send-1").click().run()
    assert not at.exception, at.exception
    second = env.feedback("gaokao")[1]
    assert second.thumbs is None and second.rubric == {"accuracy": 0.75}
    assert "冲稳保拉开梯度" in second.correction


def test_rules_that_need_truth_are_na_when_the_question_gives_none(env):
    at = ask(app(FakeListChatModel(responses=["【考生情况分析】不知道"])), "我想报考好大学")
    lines = badge_lines(at)
    assert any("`structure_parses`" in line and "red-badge" in line for line in lines)  # needs no truth
    assert any("gray-badge" in line and "needs facts" in line for line in lines)
    assert not any("orange-badge" in line for line in lines)


@pytest.mark.parametrize("name", [info.name for info in list_verticals()])
def test_every_vertical_replays_a_gold_dialog(env, monkeypatch, name):
    """The app drives each registered vertical: gold answers render and pass every rule that applies."""
    vertical = get_vertical(name)
    example = max(vertical.load_eval_set(), key=lambda ex: len(ex["messages"]))  # the longest dialog
    answers = [m["content"] for m in example["messages"] if m["role"] == "assistant"] + [example["answer"]]
    monkeypatch.setenv("VKIT_ADVISOR_VERTICAL", name)
    at = app(FakeListChatModel(responses=answers))
    for message in example["messages"]:
        if message["role"] == "user":
            ask(at, message["content"])
    assert len([m for m in at.chat_message if m.name == "assistant"]) == len(answers)
    last = badge_lines(at)[-len(vertical.rules):]
    assert all(line.startswith((":green-badge", ":gray-badge")) for line in last), last
    if "{" in example["answer"]:
        assert at.table and len(at.table[-1].value) > 0


class ScriptedChat(FakeListChatModel):
    """Canned answers that also records every prompt it was given."""

    seen: list = []

    def _call(self, messages, *args, **kwargs):
        self.seen.append([(m.type, m.text) for m in messages])
        return super()._call(messages, *args, **kwargs)

    def _stream(self, messages, *args, **kwargs):
        self.seen.append([(m.type, m.text) for m in messages])
        yield from super()._stream(messages, *args, **kwargs)


def toy_multi_turn(monkeypatch) -> Vertical:
    def asks_first(response, example):
        asked = len(example["messages"]) > 1 or response.endswith("？")
        return RuleResult.ok() if asked else RuleResult.fail("no question")

    def budget(user_text):
        return f"预算{''.join(filter(str.isdigit, user_text)) or '?'}"

    vertical = Vertical(name="broker", description="asks before it recommends", system_prompt="你是经纪人。",
                        rules=(Rule("asks_first", asks_first),), retrieve=budget, rubric=lambda r, e: {},
                        rubric_dimensions=("helpful",), load_graph=dict, load_cpt_corpus=dict, load_chains=list,
                        load_rl_prompts=list, load_preferences=list, load_eval_set=list, multi_turn=True)
    module = types.ModuleType("vkit_test_broker")
    module.VERTICAL = vertical
    monkeypatch.setitem(sys.modules, module.__name__, module)
    monkeypatch.setitem(IN_REPO, "broker", f"{module.__name__}:VERTICAL")
    monkeypatch.setenv("VKIT_ADVISOR_VERTICAL", "broker")
    return vertical


def test_multi_turn_vertical_keeps_the_dialog(env, monkeypatch):
    toy_multi_turn(monkeypatch)
    model = ScriptedChat(responses=["预算多少？", '【推荐】{"房源":[{"id":1,"总价":480}]}'], seen=[])
    at = ask(ask(app(model), "想买房"), "预算500万")
    first, second = model.seen
    assert [t for t, _ in second] == ["system", "human", "ai", "human"]
    assert second[0][1].endswith("【已知事实】\n预算500")  # the retriever saw every user turn
    assert [b for b in badge_lines(at) if "asks_first" in b][0].startswith(":green-badge")
    assert list(at.table[0].value.columns) == ["id", "总价"]  # the generic JSON-block table

    # feedback on the second answer keeps the whole dialog it replied to
    at.button(key="up-3").click().run()
    assert not at.exception, at.exception
    [row] = env.feedback("broker")
    assert row.messages == [{"role": "user", "content": "想买房"}, {"role": "assistant", "content": "预算多少？"},
                            {"role": "user", "content": "预算500万"}]
    assert row.question == "想买房\n预算500万" and row.answer.startswith("【推荐】")


# --------------------------------------------------------------------------- chain and models


def test_chain_prompt_is_the_training_prompt():
    vertical = get_vertical("gaokao")
    example = {"messages": [{"role": "user", "content": QUESTION}]}
    facts = vertical.retrieve(QUESTION)
    assert grounded_messages(vertical, example["messages"], facts) == prompt_messages(vertical, example, "grounded")


def test_local_model_streams_what_it_generates(chatty_base):
    vertical = get_vertical("gaokao")
    model = LocalChatModel(path=str(chatty_base), max_new_tokens=10)
    chain = grounded_chain(vertical, model)
    pieces = [p["answer"] for p in chain.stream({"messages": [{"role": "user", "content": QUESTION}]}) if "answer" in p]
    assert len(pieces) > 1 and "".join(pieces).strip()
    assert "".join(pieces).strip() == chain.invoke({"messages": [{"role": "user", "content": QUESTION}]})["answer"]


def test_resolve_model_picks_the_last_policy_stage(tmp_path, tiny_base, micro_run):
    runs = tmp_path / "runs"
    with pytest.raises(NoModelError, match="no trained gaokao run"):
        resolve_model("gaokao", None, runs)
    old = copy_run(micro_run, runs, "20260101-000000")
    new = copy_run(micro_run, runs, "20260102-000000")
    (new / "report.json").touch()  # the newer run
    assert resolve_model("gaokao", None, runs).path == new / "sft"
    shutil.rmtree(new / "sft")  # listed in the report but gone: the previous policy stage answers
    assert resolve_model("gaokao", str(new), runs).path == new / "cpt"
    assert resolve_model("gaokao", str(old), runs).stage == "sft"
    assert resolve_model("gaokao", str(old), runs).path == old / "sft"
    assert resolve_model("gaokao", str(tiny_base), runs).path == tiny_base
    with pytest.raises(NoModelError, match="neither a checkpoint"):
        resolve_model("gaokao", str(tmp_path), runs)


class FakeOpenAI(BaseHTTPRequestHandler):
    """Just enough of an OpenAI-compatible server (what vLLM and SGLang serve) to stream one answer."""

    answer, requests = "【推荐】", []

    def log_message(self, *args):
        pass

    def _send(self, body: bytes, kind: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self._send(json.dumps({"object": "list", "data": [{"id": "served-advisor", "object": "model"}]}).encode(),
                   "application/json")

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append(request)
        events = [{"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": request["model"],
                   "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}]}
                  for piece in (self.answer[:2], self.answer[2:])]
        body = "".join(f"data: {json.dumps(e, ensure_ascii=False)}\n\n" for e in events) + "data: [DONE]\n\n"
        self._send(body.encode(), "text/event-stream")


def test_endpoint_model_streams_from_an_openai_compatible_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeOpenAI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        FakeOpenAI.answer, FakeOpenAI.requests = gold_answer(), []
        model = endpoint_chat_model(f"http://127.0.0.1:{server.server_port}/v1")
        chain = grounded_chain(get_vertical("gaokao"), model)
        pieces = [p["answer"] for p in chain.stream({"messages": [{"role": "user", "content": QUESTION}]})
                  if "answer" in p]
    finally:
        server.shutdown()
    assert "".join(pieces) == gold_answer() and len(pieces) >= 2
    [request] = FakeOpenAI.requests
    assert request["model"] == "served-advisor" and request["stream"] is True and request["temperature"] == 0.0
    assert request["messages"][0]["content"].endswith(get_vertical("gaokao").retrieve(QUESTION))


# --------------------------------------------------------------------------- panels and CLI


@pytest.mark.parametrize("vertical, answer, facts, title, rows", [
    ("realestate", '好的。\n【推荐】{"房源":[{"id":2,"总价":480,"首付":144,"月供":14348,"学区":"S5"}]}\n2号在S5学区。',
     "进度:已明确\n[2]符合 总价480万", "推荐 · 房源",
     [{"id": 2, "总价": 480, "首付": 144, "月供": 14348, "学区": "S5", "事实": "[2]符合 总价480万"}]),
    ("auto", '【参数】{"车型":[1],"参数":[{"项":"最大功率","值":{"1":150},"单位":"kW"}]}\n【结论】[1]最大功率为150kW。',
     "[1] 2025款 星驰 1.5T", "参数", [{"项": "最大功率", "值[1]": 150, "单位": "kW"}]),
    ("realestate", "请问预算是多少？", "", "结构", []),
    ("gaokao", "【志愿表】{位次: 1}", "", "志愿表", []),
])
def test_panels_table_the_answer_structure(vertical, answer, facts, title, rows):
    panel = build_panel(vertical, answer, facts, None)
    assert (panel.title, panel.rows) == (title, rows)
    assert (panel.problem is None) == bool(rows)


def test_cli_builds_the_streamlit_commands(monkeypatch):
    import core_training.cli as core_cli
    from apps import cli

    monkeypatch.setattr(core_cli, "_command_plugins", lambda: [cli.register])
    parser = core_cli.build_parser()
    args, extra = parser.parse_known_args(["app", "gaokao", "--model", "runs/x", "--server.port", "8502",
                                           "--server.headless=true"])
    assert extra == []
    safe = ["--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]  # the defaults (safe by default)
    assert cli.app_command(args)[2:] == ["streamlit", "run", *safe, "--server.port", "8502", "--server.headless=true",
                                         str(cli.ADVISOR), "--", "--vertical", "gaokao", "--model", "runs/x"]
    args, _ = parser.parse_known_args(["annotate", "--server.port", "8503", "--db", "sqlite:///a.db"])
    assert cli.annotate_command(args)[4:] == [*safe, "--server.port", "8503", str(cli.ANNOTATE), "--", "--db",
                                              "sqlite:///a.db"]
    with pytest.raises(SystemExit):
        parser.parse_known_args(["app", "gaokao", "--model", "a", "--endpoint", "http://b/v1"])
    with pytest.raises(SystemExit, match="unrecognized arguments: --port"):
        cli.app_command(parser.parse_known_args(["app", "gaokao", "--port", "1"])[0])


@pytest.mark.parametrize("module", ["apps.panels", "apps.chain", "apps.cli"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("given, address, warned", [
    ([], "127.0.0.1", False),  # loopback unless told otherwise
    (["--server.address", "0.0.0.0"], "0.0.0.0", True),
    (["--server.address=192.168.1.5"], "192.168.1.5", True),
    (["--server.address", "0.0.0.0", "--server.sslCertFile", "c.pem", "--server.sslKeyFile", "k.pem"], "0.0.0.0", False),
])
def test_apps_bind_loopback_by_default_and_warn_when_annotation_is_exposed(given, address, warned, monkeypatch, capsys):
    import core_training.cli as core_cli
    from apps import cli

    monkeypatch.setattr(core_cli, "_command_plugins", lambda: [cli.register])
    parser = core_cli.build_parser()
    for argv, build in ((["app", "gaokao", *given], cli.app_command), (["annotate", *given], cli.annotate_command)):
        command = build(parser.parse_known_args(argv)[0])
        options = command[command.index("run") + 1: command.index("--")]
        assert cli.passed_option(options, "server.address") == address
        assert cli.passed_option(options, "browser.gatherUsageStats") == "false"  # usage statistics off
    assert ("without TLS" in capsys.readouterr().err) == warned  # only the annotation app warns (logins)


def test_app_commands_refuse_a_bad_store_in_one_line(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(bytes(range(256)) * 8)
    proc = subprocess.run([sys.executable, "-m", "core_training.cli", "annotate", "--db", f"sqlite:///{garbage}"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"vkit: error: --db sqlite:///{garbage}: cannot open")
