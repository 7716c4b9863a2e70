"""Every bad input the CLI can be handed: one line naming the file (and line or field), exit 2, no
traceback unless ``--debug``, and every file that was there before left as it was.

The small cases live in ``tests/bad_inputs/files/``; the large ones (broken checkpoints, a truncated
graph, re-encoded tables) and the existing run they must not touch are made here from real outputs:
the shipped base, a real `vkit kg import`, a real base-only `vkit run`. Each case runs the real
``vkit`` in a subprocess against that workspace, hashed before and after.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(1800)

FILES = Path(__file__).parent / "files"
KG_FIXTURES = Path(__file__).parents[1] / "knowledge_graphs" / "fixtures"
REPO = Path(__file__).parents[2]
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "VKIT_DEBUG": ""}
RUN = ["run", "gaokao", "--preset", "micro", "--output", "{W}/run"]  # an existing run, which must stay as it was
UNIVERSITIES = ["--mapping", str(REPO / "knowledge_graphs/mappings/gaokao_universities.yaml"), "--out", "{W}/kg"]

# (case, argv, extra environment, what the one error line must say: file, then line or field)
CASES = [
    ("config gbk", [*RUN, "--config", "{W}/config_gbk.yaml"], {}, r"config_gbk\.yaml: not UTF-8"),
    ("config utf-16", [*RUN, "--config", "{W}/config_utf16.yaml"], {}, r"config_utf16\.yaml: not UTF-8"),
    ("config binary", [*RUN, "--config", "{W}/config_binary.yaml"], {}, r"config_binary\.yaml: not UTF-8"),
    ("config yaml error", [*RUN, "--config", "{W}/config_bad_yaml.yaml"], {}, r"config_bad_yaml\.yaml:4:\d+: invalid YAML"),
    ("config nan rate", [*RUN, "--config", "{W}/config_bad_value.yaml"], {}, r"config_bad_value\.yaml: sft\.learning_rate"),
    ("prefs truncated", [*RUN, "--preferences", "{W}/prefs_truncated.jsonl"], {}, r"prefs_truncated\.jsonl:3: invalid JSON"),
    ("prefs bom", [*RUN, "--preferences", "{W}/prefs_bom.jsonl"], {}, r"prefs_bom\.jsonl:1: starts with a byte-order mark"),
    ("prefs number row", [*RUN, "--preferences", "{W}/prefs_number.jsonl"], {}, r"prefs_number\.jsonl:2: expected a JSON object"),
    ("prefs messages str", [*RUN, "--preferences", "{W}/prefs_messages_string.jsonl"], {},
     r"prefs_messages_string\.jsonl:1: field messages"),
    ("prefs nan chosen", [*RUN, "--preferences", "{W}/prefs_nan_chosen.jsonl"], {}, r"prefs_nan_chosen\.jsonl:2: field chosen"),
    ("prefs empty", [*RUN, "--preferences", "{W}/prefs_empty.jsonl"], {}, r"prefs_empty\.jsonl: no preference pairs"),
    ("prefs same answer", [*RUN, "--preferences", "{W}/prefs_same_answer.jsonl"], {},
     r"prefs_same_answer\.jsonl:1: chosen and rejected are the same"),
    ("threads 0", [*RUN, "threads=0"], {}, r"'threads=0': threads: must be >= 1"),
    ("dtype float99", [*RUN, "model.dtype=float99"], {}, r"'model\.dtype=float99': model\.dtype: unknown"),
    ("eval modes bogus", [*RUN, "eval.modes=bogus"], {}, r"'eval\.modes=bogus': eval\.modes"),
    ("sft steps 0", [*RUN, "sft.max_steps=0"], {}, r"'sft\.max_steps=0': sft\.max_steps: must be >= 1"),
    ("sft steps -1", [*RUN, "sft.max_steps=-1"], {}, r"'sft\.max_steps=-1': sft\.max_steps: must be >= 1"),
    ("sft rate -1", [*RUN, "sft.learning_rate=-1"], {}, r"'sft\.learning_rate=-1': sft\.learning_rate: must be"),
    ("sft rate nan", [*RUN, "sft.learning_rate=nan"], {}, r"'sft\.learning_rate=nan': sft\.learning_rate"),
    ("lora r 0", [*RUN, "lora.r=0"], {}, r"'lora\.r=0': lora\.r: must be >= 1"),
    ("eval items 0", [*RUN, "eval.max_items=0"], {}, r"'eval\.max_items=0': eval\.max_items: must be >= 1"),
    ("base config corrupt", [*RUN, "--base", "{W}/base_config_corrupt"], {},
     r"base_config_corrupt/config\.json:\d+: --base config is not valid JSON"),
    ("base config empty", [*RUN, "--base", "{W}/base_config_empty"], {}, r"base_config_empty/config\.json: --base config is empty"),
    ("base truncated weights", [*RUN, "--base", "{W}/base_truncated"], {},
     r"base_truncated/model\.safetensors: --base weights are truncated"),
    ("base unknown model_type", [*RUN, "--base", "{W}/base_unknown_type"], {},
     r"base_unknown_type/config\.json: field model_type: 'vkit_nonexistent_moe'"),
    ("base pickle only", [*RUN, "--base", "{W}/base_bin_only"], {}, r"base_bin_only'.*pytorch_model\.bin.*--allow-pickle"),
    ("output is a file", [*RUN[:-1], "{W}/a_file"], {}, r"--output \S*a_file: is a file"),
    ("output under a file", [*RUN[:-1], "{W}/a_file/run"], {}, r"--output \S*a_file/run: lies under \S*a_file, which is a file"),
    ("run graph truncated", RUN, {"VKIT_GAOKAO_GRAPH": "{W}/graph_truncated.json"}, r"graph_truncated\.json:1: the graph is not valid JSON"),
    ("kg stats truncated", ["kg", "stats", "{W}/graph_truncated.json"], {}, r"graph_truncated\.json:1: the graph is not valid JSON"),
    ("kg stats binary", ["kg", "stats", "{W}/graph_binary.json"], {}, r"graph_binary\.json: the graph is not UTF-8"),
    ("kg validate truncated", ["kg", "validate", "{W}/graph_truncated.json"], {}, r"graph_truncated\.json:1: the graph is not valid"),
    ("kg validate binary", ["kg", "validate", "{W}/graph_binary.json"], {}, r"graph_binary\.json: the graph is not UTF-8"),
    ("kg import utf-16 csv", ["kg", "import", "gaokao", "--source", "{W}/universities_utf16.csv", *UNIVERSITIES], {},
     r"universities_utf16\.csv: the table holds NUL bytes"),
    ("kg import binary csv", ["kg", "import", "gaokao", "--source", "{W}/graph_binary.json", *UNIVERSITIES], {},
     r"graph_binary\.json: the table is neither UTF-8 nor GB18030"),
    ("kg import header-only csv", ["kg", "import", "gaokao", "--source", "{W}/universities_header_only.csv", *UNIVERSITIES],
     {}, r"universities_header_only\.csv: the table has a header but no data rows"),
    ("kg import columns list", ["kg", "import", "gaokao", "--source", str(KG_FIXTURES / "gaokao_universities.csv"),
                                "--mapping", "{W}/mapping_columns_list.yaml", "--out", "{W}/kg"], {},
     r"mapping_columns_list\.yaml: field columns: must map"),
    ("eval bad checkpoint", ["eval", "{W}/base_truncated", "--vertical", "gaokao"], {},
     r"base_truncated/model\.safetensors: checkpoint weights are truncated"),
    ("eval max-items -1", ["eval", str(REPO / "core_training/assets/tiny-moe-base"), "--vertical", "gaokao", "--max-items", "-1"],
     {}, r"--max-items -1: must be >= 1"),
    ("db garbage sqlite", ["annotate", "--db", "sqlite:///{W}/garbage.db"], {}, r"--db sqlite:///\S*garbage\.db: cannot open the store"),
    ("db mysql", ["app", "gaokao", "--db", "mysql://vkit:secret@127.0.0.1/vkit"], {},
     r"--db mysql://vkit:\*\*\*@127\.0\.0\.1/vkit: cannot use this database URL"),
    ("db postgres unreachable", ["annotate", "--db", "postgresql://vkit:secret@127.0.0.1:9/vkit"], {},
     r"--db postgresql\+psycopg://vkit:\*\*\*@127\.0\.0\.1:9/vkit: cannot open the store"),
]


def _vkit(argv: list[str], env: dict[str, str], workspace: Path) -> subprocess.CompletedProcess:
    argv = [a.replace("{W}", str(workspace)) for a in argv]
    env = {**ENV, **{k: v.replace("{W}", str(workspace)) for k, v in env.items()}}
    return subprocess.run([sys.executable, "-m", "core_training.cli", *argv], capture_output=True, text=True,
                          env=env, timeout=300, cwd=workspace)


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _broken_bases(shipped: Path, workspace: Path) -> None:
    """Copies of the shipped base, each broken one way."""
    config = json.loads((shipped / "config.json").read_text(encoding="utf-8"))
    broken = {
        "base_config_corrupt": lambda d: (d / "config.json").write_text(json.dumps(config)[:200]),
        "base_config_empty": lambda d: (d / "config.json").write_text(""),
        "base_unknown_type": lambda d: (d / "config.json").write_text(json.dumps({**config, "model_type": "vkit_nonexistent_moe"})),
        "base_truncated": lambda d: (d / "model.safetensors").write_bytes((shipped / "model.safetensors").read_bytes()[:100_000]),
        "base_bin_only": _as_pickle,
    }
    for name, breaker in broken.items():
        shutil.copytree(shipped, workspace / name)
        breaker(workspace / name)


def _as_pickle(checkpoint: Path) -> None:
    import torch
    from safetensors.torch import load_file

    torch.save(load_file(checkpoint / "model.safetensors"), checkpoint / "pytorch_model.bin")
    (checkpoint / "model.safetensors").unlink()


def _graph_and_tables(workspace: Path) -> None:
    """A graph written by a real `vkit kg import`, then cut short; the import's table re-encoded."""
    table = KG_FIXTURES / "gaokao_universities.csv"
    proc = _vkit(["kg", "import", "gaokao", "--source", str(table), *UNIVERSITIES[:-1], "{W}/kg_ok"], {}, workspace)
    assert proc.returncode == 0, proc.stderr[-2000:]
    graph = (workspace / "kg_ok" / "graph.json").read_bytes()
    (workspace / "graph_truncated.json").write_bytes(graph[: len(graph) // 2])
    shutil.rmtree(workspace / "kg_ok")
    text = table.read_text(encoding="utf-8")
    (workspace / "universities_utf16.csv").write_bytes(text.encode("utf-16"))
    (workspace / "universities_header_only.csv").write_text(text.splitlines()[0] + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    """The case files, the broken inputs, and an existing real run (base only) they must leave alone."""
    from core_training.base.pretrain import SHIPPED_BASE

    workspace = tmp_path_factory.mktemp("bad_inputs")
    for path in FILES.iterdir():
        shutil.copy(path, workspace / path.name)
    (workspace / "a_file").write_text("not a directory\n")
    proc = _vkit([*RUN, "--stages", ""], {}, workspace)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert (workspace / "run" / "config.json").is_file()
    _broken_bases(SHIPPED_BASE, workspace)
    _graph_and_tables(workspace)
    return workspace


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("vkit") and "error" in line]


@pytest.mark.parametrize("case, argv, env, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2_and_touches_nothing(case, argv, env, expected, workspace):
    before = _tree(workspace)
    proc = _vkit(argv, env, workspace)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    [line] = _error_lines(proc.stderr)
    assert re.search(expected, line), line
    assert _tree(workspace) == before  # nothing written, nothing changed, the existing run included


def test_debug_shows_the_traceback(workspace):
    proc = _vkit([*RUN, "--debug", "--preferences", "{W}/prefs_empty.jsonl"], {}, workspace)
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "InputError" in proc.stderr
