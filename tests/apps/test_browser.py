"""The apps in a real browser: headless Chromium (Debian's) driven by Playwright for Python.

``vkit app`` serves the advisor on a free loopback port with the tiny MoE as its model; the browser
asks a question, sees the streamed answer and a badge per rule, gives a thumbs-up and a correction.
That correction becomes an annotation task; ``vkit annotate`` serves the annotation app, where an
annotator logs in and submits a preference, which must land in the database. Screenshots go to
``test-artifacts/``. Skips only when Chromium (or the playwright package) is missing:
``apt-get install chromium`` (no browser download is needed: Playwright drives /usr/bin/chromium).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apps.store import Store
from core_training.registry import get_vertical

CHROMIUM = os.environ.get("VKIT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "我是广东考生，2025年物理类，考了598分，选科物理、化学、生物，想学计算机"
# `vkit` with the apps' subcommands, whether or not the vkit.commands entry point is installed yet.
VKIT = ("import sys; from apps import cli; import core_training.cli as core; "
        "core._command_plugins = lambda: [cli.register]; sys.exit(core.main())")

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
    pytest.mark.timeout(180),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install playwright)")


@pytest.fixture(scope="module")
def chatty_base(tiny_base, tmp_path_factory):
    """``tiny_base`` re-drawn with wider weights: greedy decoding on it says visible gibberish, not just newlines."""
    import torch

    from core_training.modeling import load_causal_lm, load_tokenizer

    model, path = load_causal_lm(tiny_base), tmp_path_factory.mktemp("chatty-base")
    torch.manual_seed(1)
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() > 1:
                param.normal_(0.0, 0.3)
    model.save_pretrained(path)
    load_tokenizer(tiny_base).save_pretrained(path)
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def served(vkit_args: list[str], log: Path, timeout: float = 60.0):
    """``vkit ARGS`` serving Streamlit on a free loopback port; yields its URL once /_stcore/health is ok."""
    port = free_port()
    command = [sys.executable, "-c", VKIT, *vkit_args, "--server.headless", "true", "--server.address", "127.0.0.1",
               "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"the server exited ({proc.returncode}):\n{log.read_text()}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().decode() == "ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"no /_stcore/health ok within {timeout}s:\n{log.read_text()}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def settled(page) -> None:
    """Wait until the app's script run is over (Streamlit marks the root element)."""
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for()


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


@contextmanager
def shot_on_failure(page, name: str):
    """Keep a screenshot of the page as it was when a step failed."""
    try:
        yield
    except Exception:
        shot(page, f"FAILED-{name}")
        raise


def test_advisor_then_annotation_in_a_real_browser(browser, chatty_base, tmp_path):
    db = f"sqlite:///{tmp_path / 'store.db'}"
    rules = [r.name for r in get_vertical("gaokao").rules]
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.set_default_timeout(45_000)

    # The advisor: ask, see the streamed answer and the badges, give feedback.
    with served(["app", "gaokao", "--model", str(chatty_base), "--db", db, "--max-new-tokens", "16"],
                tmp_path / "advisor.log") as url, shot_on_failure(page, "advisor.png"):
        page.goto(url)
        page.get_by_text("gaokao advisor").first.wait_for()
        box = page.get_by_test_id("stChatInputTextArea")
        box.fill(QUESTION)
        box.press("Enter")
        page.get_by_text("Rule checks").wait_for()
        settled(page)
        messages = page.get_by_test_id("stChatMessage")
        assert messages.count() == 2
        assert QUESTION in messages.nth(0).inner_text()
        assert "(empty answer)" not in messages.nth(1).inner_text()
        for name in rules:
            page.get_by_text(name, exact=True).first.wait_for()
        page.get_by_text("Facts given to the model").click()
        page.get_by_text("候选（2022-2024最低位次均值）").wait_for()
        page.wait_for_timeout(400)  # let the expander finish opening before the picture
        shot(page, "advisor-answer.png")

        page.get_by_role("button", name="👍 Helpful").click()
        page.get_by_text("Feedback #1 saved").wait_for()
        settled(page)
        page.get_by_text("Rate this answer / suggest a correction").click()
        correction = "【考生情况分析】广东2025物理类598分，位次23759。"
        page.get_by_label("Suggested correction: edit the answer into what it should be").fill(correction)
        page.get_by_role("button", name="Send feedback").click()
        page.get_by_text("Feedback #2 saved").wait_for()
        settled(page)
        shot(page, "advisor-feedback.png")

    store = Store.open(db)
    try:
        thumbs, corrected = store.feedback("gaokao")
        assert (thumbs.thumbs, thumbs.question) == (1, QUESTION)
        assert set(thumbs.verdicts) == set(rules) and thumbs.model_id == str(chatty_base)
        assert corrected.correction == correction
        # The correction becomes a pairwise task for an annotator.
        store.create_user("ann1", "ann1-password")
        tasks = store.create_tasks_from_feedback("gaokao")
        assert len(tasks) == 1
        store.assign(tasks, ["ann1"], k=1)
    finally:
        store.close()

    # The annotation app: log in, prefer one answer, submit.
    with served(["annotate", "--db", db], tmp_path / "annotate.log") as url, shot_on_failure(page, "annotate.png"):
        page.goto(url)
        page.get_by_role("textbox", name="Username").fill("ann1")
        page.get_by_role("textbox", name="Password").fill("ann1-password")
        page.get_by_role("button", name="Log in").click()
        page.get_by_text("Which answer is better?").wait_for()
        settled(page)
        shot(page, "annotate-task.png")
        page.get_by_text("A is better").click()
        page.get_by_role("button", name="Submit").click()
        page.get_by_text("Saved assignment").wait_for()
        settled(page)
        shot(page, "annotate-saved.png")

    store = Store.open(db)
    try:
        [labelled] = store.labelled_tasks("gaokao")
        [annotation] = labelled.annotations
        assert (annotation.annotator, annotation.preference) == ("ann1", "a")
    finally:
        store.close()
    page.close()


class OneAnswerServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint (as vLLM serves) that streams one known answer in three pieces."""

    answer = ""

    def log_message(self, *args):
        pass

    def _send(self, body: str, kind: str) -> None:
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(json.dumps({"object": "list", "data": [{"id": "served", "object": "model"}]}), "application/json")

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        third = len(self.answer) // 3 + 1
        events = [{"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "served", "choices": [
            {"index": 0, "delta": {"content": self.answer[i:i + third]}, "finish_reason": None}]}
            for i in range(0, len(self.answer), third)]
        self._send("".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n", "text/event-stream")


def test_served_model_fills_the_table_in_a_real_browser(browser, tmp_path):
    """`vkit app --endpoint`: a known 志愿表 answer shows as the 冲/稳/保 table with every rule passed."""
    from verticals.gaokao.experts import write_gold_answer
    from verticals.gaokao.retriever import build_truth

    OneAnswerServer.answer = write_gold_answer(build_truth(QUESTION), "全面")
    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), OneAnswerServer)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    page = browser.new_page(viewport={"width": 1400, "height": 1600})
    page.set_default_timeout(45_000)
    try:
        with served(["app", "gaokao", "--endpoint", f"http://127.0.0.1:{endpoint.server_port}/v1",
                     "--db", f"sqlite:///{tmp_path / 'store.db'}"], tmp_path / "advisor.log") as url, \
                shot_on_failure(page, "advisor-endpoint.png"):
            page.goto(url)
            box = page.get_by_test_id("stChatInputTextArea")
            box.fill(QUESTION)
            box.press("Enter")
            page.get_by_text("Rule checks").wait_for()
            settled(page)
            rows = page.locator("table tbody tr")
            rows.nth(3).wait_for()  # st.table draws a placeholder first
            assert rows.count() == 4
            assert "崂山师范大学" in rows.nth(0).inner_text() and "✓" in rows.nth(0).inner_text()
            assert page.get_by_text("✓ pass").count() == len(get_vertical("gaokao").rules)
            page.get_by_text("served@http://127.0.0.1").wait_for()
            shot(page, "advisor-endpoint.png")
    finally:
        endpoint.shutdown()
        page.close()
