"""The apps in a real browser: headless Chromium (Debian's) driven by Playwright for Python.

``vkit app`` serves the advisor on a free loopback port with the tiny MoE as its model; the browser
asks a question, sees the streamed answer and a badge per rule, gives a thumbs-up and a correction.
That correction becomes an annotation task; ``vkit annotate`` serves the annotation app, where an
annotator logs in and submits a preference, which must land in the database. Then every vertical's
advisor (gaokao, auto, realestate) is asked one question of its eval set and must show the answer and
a badge per rule (served by ``vkit app --endpoint`` from a scripted OpenAI-compatible server).
Screenshots go to ``test-artifacts/`` (``advisor-<vertical>.png`` for each vertical). Skips only when
Chromium (or the playwright package) is missing: ``apt-get install chromium`` (no browser download
is needed: Playwright drives /usr/bin/chromium).
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
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from apps.advisor import BADGE
from apps.store import Store
from core_training.registry import get_vertical

CHROMIUM = os.environ.get("VKIT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
QUESTION = "我是广东考生，2025年物理类，考了598分，选科物理、化学、生物，想学计算机"
VERTICALS = ("gaokao", "auto", "realestate")  # each gets an advisor-<vertical>.png
# `vkit` with the apps' subcommands, whether or not the vkit.commands entry point is installed yet.
VKIT = ("import sys; from apps import cli; import core_training.cli as core; "
        "core._command_plugins = lambda: [cli.register]; sys.exit(core.main())")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"),
    pytest.mark.timeout(180),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed (pip install playwright)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A starting ``vkit`` Streamlit server: :meth:`ready` waits for its health check and returns its URL."""

    url: str
    proc: subprocess.Popen
    log: Path
    deadline: float

    def ready(self) -> str:
        while True:
            if self.proc.poll() is not None:
                raise AssertionError(f"the server exited ({self.proc.returncode}):\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode() == "ok":
                        return self.url
            except OSError:
                pass
            if time.monotonic() > self.deadline:
                raise AssertionError(f"no /_stcore/health ok in time:\n{self.log.read_text()}")
            time.sleep(0.3)


@contextmanager
def served(vkit_args: list[str], log: Path, timeout: float = 60.0, wait: bool = True):
    """``vkit ARGS`` serving Streamlit on a free loopback port; yields its URL once /_stcore/health is ok.

    ``wait=False`` yields the :class:`Server` at once instead (start several, then wait for each).
    """
    port = free_port()
    command = [sys.executable, "-c", VKIT, *vkit_args, "--server.headless", "true", "--server.address", "127.0.0.1",
               "--server.port", str(port), "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    with log.open("w") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    server = Server(f"http://127.0.0.1:{port}", proc, log, time.monotonic() + timeout)
    try:
        yield server.ready() if wait else server
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
        for name in rules:  # in the answer, not the sidebar's rule list
            messages.nth(1).get_by_text(name, exact=True).wait_for()
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
        assert thumbs.messages == [{"role": "user", "content": QUESTION}]  # the dialog the advisor answered
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


class ScriptedServer(BaseHTTPRequestHandler):
    """An OpenAI-compatible endpoint (as vLLM serves): streams, in three pieces, the answer scripted for
    the request's last user turn (``answers``: question -> answer); an unscripted question gets a 400."""

    answers: dict[str, str] = {}

    def log_message(self, *args):
        pass

    def _send(self, body: str, kind: str, status: int = 200) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(json.dumps({"object": "list", "data": [{"id": "served", "object": "model"}]}), "application/json")

    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        question = [m["content"] for m in request["messages"] if m["role"] == "user"][-1]
        answer = self.answers.get(question)
        if answer is None:
            self._send(json.dumps({"error": {"message": f"no answer scripted for {question!r}"}}), "application/json",
                       400)
            return
        third = len(answer) // 3 + 1
        events = [{"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "served", "choices": [
            {"index": 0, "delta": {"content": answer[i:i + third]}, "finish_reason": None}]}
            for i in range(0, len(answer), third)]
        self._send("".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n", "text/event-stream")


def eval_example(vertical) -> dict:
    """A single-turn example of the vertical's eval set, one whose reference answer has a JSON block
    (a structure table in the picture) if there is one."""
    single = [ex for ex in vertical.load_eval_set() if len(ex["messages"]) == 1]
    return next((ex for ex in single if "{" in ex["answer"]), single[0])


def ask_and_check(page, vertical, question: str, answer: str) -> dict[str, int]:
    """Ask ``question`` in a fresh conversation; the answer and one badge per rule of ``vertical`` must show.

    Returns how many badges of each status (pass, fail, n/a, error) the answer got. The badges are
    looked for inside the answer's chat message, not in the sidebar (which lists the rule names too).
    """
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.get_by_text("Rule checks").wait_for()
    settled(page)
    asked, shown = page.get_by_test_id("stChatMessage").all()
    assert question in asked.inner_text()
    first_line = answer.strip().splitlines()[0][:20]
    assert first_line in shown.inner_text(), shown.inner_text()
    for rule in vertical.rules:
        shown.get_by_text(rule.name, exact=True).wait_for()
    badges = {status: shown.get_by_text(label, exact=True).count() for status, (_, label) in BADGE.items()}
    assert sum(badges.values()) == len(vertical.rules), badges
    return badges


def test_served_advisors_of_every_vertical_in_a_real_browser(browser, tmp_path):
    """`vkit app V --endpoint` for gaokao, auto and realestate, each asked one single-turn question of
    its eval set: the reference answer shows with a badge per rule, none failed. Gaokao is first asked
    ``QUESTION``: its known 志愿表 answer fills the 冲/稳/保 table with every rule passed.

    One scripted endpoint answers every advisor; the advisors start together and a page opens on each
    at once, so their start-ups overlap (no model loads: the local model's path is the first test's).
    """
    from verticals.gaokao.experts import write_gold_answer
    from verticals.gaokao.retriever import build_truth

    endpoint = ThreadingHTTPServer(("127.0.0.1", 0), ScriptedServer)
    threading.Thread(target=endpoint.serve_forever, daemon=True).start()
    with ExitStack() as stack:
        stack.callback(endpoint.shutdown)
        servers = {name: stack.enter_context(served(
            ["app", name, "--endpoint", f"http://127.0.0.1:{endpoint.server_port}/v1",
             "--db", f"sqlite:///{tmp_path / 'store.db'}"], tmp_path / f"advisor-{name}.log", wait=False))
            for name in VERTICALS}
        # while the advisors start: the questions and the answers the endpoint streams for them
        examples = {name: eval_example(get_vertical(name)) for name in VERTICALS}
        gold = write_gold_answer(build_truth(QUESTION), "全面")
        ScriptedServer.answers = {QUESTION: gold,
                                  **{ex["messages"][0]["content"]: ex["answer"] for ex in examples.values()}}
        pages = {}
        for name, server in servers.items():
            pages[name] = page = browser.new_page(viewport={"width": 1400, "height": 1600})
            stack.callback(page.close)
            page.set_default_timeout(45_000)
            page.goto(server.ready())

        page = pages["gaokao"]
        with shot_on_failure(page, "advisor-endpoint.png"):
            badges = ask_and_check(page, get_vertical("gaokao"), QUESTION, gold)
            assert badges["pass"] == len(get_vertical("gaokao").rules), badges
            rows = page.locator("table tbody tr")
            rows.nth(3).wait_for()  # st.table draws a placeholder first
            assert rows.count() == 4
            assert "崂山师范大学" in rows.nth(0).inner_text() and "✓" in rows.nth(0).inner_text()
            page.get_by_text("served@http://127.0.0.1").wait_for()
            shot(page, "advisor-endpoint.png")
            page.get_by_role("button", name="New conversation").click()
            playwright_api.expect(page.get_by_test_id("stChatMessage")).to_have_count(0)
            settled(page)

        for name, page in pages.items():
            example = examples[name]
            with shot_on_failure(page, f"advisor-{name}.png"):
                badges = ask_and_check(page, get_vertical(name), example["messages"][0]["content"], example["answer"])
                assert badges["fail"] == badges["error"] == 0, badges  # a reference answer breaks no rule
                shot(page, f"advisor-{name}.png")
