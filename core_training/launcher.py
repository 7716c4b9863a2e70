"""Training stages in several processes: each stage under ``accelerate launch``, DDP or DeepSpeed ZeRO.

``vkit run V --launcher accelerate --num-processes N [--deepspeed zero2|zero3|zero3-offload]`` keeps the
``vkit run`` process as the orchestrator (stage keys, resume, evaluation once, the report) and trains each
stage as ``accelerate launch ... -m core_training.launch_worker SPEC``: N processes that run the stage's
recipe unchanged (:mod:`core_training.launch_worker`). They talk over NCCL on GPUs and gloo on a CPU-only
machine, where DeepSpeed runs with ``DS_ACCELERATOR=cpu``. DeepSpeed's settings are the JSON files shipped in
``core_training/configs/deepspeed/`` ("auto" values come from the stage's trainer arguments).

Everything a launch writes is in the stage's work directory ``RUN/.work/<stage>-<key>/launch/``: the spec the
ranks read, each rank's log (``rank-<r>.log``, with its ``rank-<r>.json`` summary), and, once every rank has
finished, the consolidated Hugging Face checkpoint (``model/``) and ``result.json``. A stage resumes like a
single-process one: the trainer's checkpoints are in the same work directory, and a launch that finished
before the run was killed is not trained again. The per-rank logs are copied into ``RUN/<stage>/``.

>>> launch_command(resolve_run_config(cli_overrides=["launch.launcher=accelerate", "launch.num_processes=2"]).launch,
...                Path("spec.json"), port=29511)[3:]
['--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no', '--dynamo_backend', 'no', \
'--main_process_port', '29511', '--multi_gpu', '--module', 'core_training.launch_worker', 'spec.json']
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from core_training.config import LaunchConfig, RunConfig, resolve_run_config, to_dict  # noqa: F401 (doctest)
from core_training.inputs import InputError
from core_training.io import atomic_write_json

DEEPSPEED_DIR = Path(__file__).resolve().parent / "configs" / "deepspeed"
LAUNCH_DIR = "launch"  # in the stage's work directory
RESULT = "result.json"  # written by rank 0 after the consolidated checkpoint: the launch is finished


class LaunchError(RuntimeError):
    """``accelerate launch`` failed; the message names the rank log to read."""


def deepspeed_config_path(name: str) -> Path:
    """The shipped DeepSpeed config for ``zero2``, ``zero3`` or ``zero3-offload``."""
    return DEEPSPEED_DIR / f"{name}.json"


def check_launch(cfg: RunConfig) -> None:
    """Refuse a launch that cannot work, before the run writes anything.

    Raises:
        InputError: a missing accelerate config file, DeepSpeed not installed, or LoRA under ZeRO-3 (peft's
            ``target_parameters`` on fused experts crashes on ZeRO-3's partitioned shapes).
    """
    launch = cfg.launch
    if launch.launcher == "none":
        return
    if launch.accelerate_config and not Path(launch.accelerate_config).is_file():
        raise InputError(f"--accelerate-config {launch.accelerate_config}: no such file")
    if launch.deepspeed:
        import importlib.util

        if importlib.util.find_spec("deepspeed") is None:
            raise InputError(f"--deepspeed {launch.deepspeed}: DeepSpeed is not installed; "
                             f"pip install 'vkit[distributed]' (or leave out --deepspeed for DDP)")
    if launch.deepspeed and launch.deepspeed.startswith("zero3") and cfg.lora.enabled:
        raise InputError(f"--deepspeed {launch.deepspeed} with lora.enabled: LoRA on fused experts fails under "
                         f"ZeRO-3's partitioned parameters; use --deepspeed zero2, or full tuning")


def train_stage(ctx):
    """The stage's trained ``(model, tokenizer)``: trained in this process, or by ``accelerate launch``."""
    if ctx.cfg.launch.launcher == "none":
        from core_training.recipes import recipe

        return recipe(ctx.stage).train(ctx)
    return train_launched(ctx)


def train_launched(ctx):
    """Train ``ctx.stage`` under ``accelerate launch`` and open the consolidated checkpoint it left.

    Fills ``ctx.extra`` like an in-process recipe (rank 0's clock, pair counts ...) plus the per-rank logs as
    ``artifacts`` (written into ``RUN/<stage>/``).
    """
    launch_dir = ctx.work_dir / LAUNCH_DIR
    if not (launch_dir / RESULT).is_file():  # a launch that finished before a kill is not trained again
        spec = write_spec(ctx, launch_dir)
        run_launch(ctx.cfg.launch, spec, launch_dir)
    result = json.loads((launch_dir / RESULT).read_text(encoding="utf-8"))
    ctx.extra.update(result["extra"])
    ctx.extra["artifacts"] = {**ctx.extra.get("artifacts", {}), **rank_logs(launch_dir)}
    return open_trained(ctx, launch_dir / "model")


def write_spec(ctx, launch_dir: Path) -> Path:
    """``spec.json``: what every rank needs to rebuild the stage's context."""
    launch_dir.mkdir(parents=True, exist_ok=True)
    spec = {"config": to_dict(ctx.cfg), "stage": ctx.stage, "input_path": str(ctx.input_path),
            "work_dir": str(ctx.work_dir), "run_dir": str(ctx.run_dir),
            "reward_model_path": str(ctx.reward_model_path) if ctx.reward_model_path else None,
            "preferences": ctx.preferences,
            "deepspeed": str(deepspeed_config_path(ctx.cfg.launch.deepspeed)) if ctx.cfg.launch.deepspeed else None}
    atomic_write_json(launch_dir / "spec.json", spec)
    return launch_dir / "spec.json"


def free_port() -> int:
    """A TCP port free on this machine now, so that launches side by side do not collide on 29500."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def launch_command(launch: LaunchConfig, spec: Path, port: int | None = None) -> list[str]:
    """The ``accelerate launch`` command line of one stage.

    Without an accelerate config file it is one machine, on a free port. ``--multi_gpu`` also starts N
    processes on a machine without GPUs (gloo); accelerate's ``--cpu`` would start only one.
    """
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(launch.num_processes)]
    if launch.accelerate_config:
        cmd += ["--config_file", launch.accelerate_config]
    else:
        cmd += ["--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
                "--main_process_port", str(port or free_port())]
    if launch.deepspeed:
        cmd += ["--use_deepspeed", "--deepspeed_config_file", str(deepspeed_config_path(launch.deepspeed))]
    elif not launch.accelerate_config and launch.num_processes > 1:
        cmd += ["--multi_gpu"]
    return cmd + ["--module", "core_training.launch_worker", str(spec)]


def launch_env(launch: LaunchConfig) -> dict[str, str]:
    """The ranks' environment: this one, plus DeepSpeed's CPU accelerator where torch sees no GPU."""
    import torch

    env = dict(os.environ)
    if launch.deepspeed and not torch.cuda.is_available():
        env.setdefault("DS_ACCELERATOR", "cpu")
    return env


def run_launch(launch: LaunchConfig, spec: Path, launch_dir: Path) -> None:
    """Run the stage's ``accelerate launch``; rank 0's output shows on the console, every rank's in its log.

    Raises:
        LaunchError: the launch exited non-zero (naming the rank log that says why).
    """
    cmd = launch_command(launch, spec)
    (launch_dir / "command.txt").write_text(" ".join(cmd) + "\n", encoding="utf-8")
    code = subprocess.call(cmd, env=launch_env(launch))
    if code != 0 or not (launch_dir / RESULT).is_file():
        raise LaunchError(f"accelerate launch exited with status {code}: {failed_rank_hint(launch_dir)}")


def failed_rank_hint(launch_dir: Path) -> str:
    """The last line of the first rank log holding a traceback (else where the logs are)."""
    for log in sorted(launch_dir.glob("rank-*.log")):
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
        if any(line.startswith("Traceback") for line in lines):
            last = next((line for line in reversed(lines) if line.strip()), "")
            return f"{log}: {last.strip()}"
    return f"see the rank logs in {launch_dir}"


def rank_logs(launch_dir: Path) -> dict[str, str]:
    """Every rank's log and summary, by file name, for the stage directory."""
    paths = sorted([*launch_dir.glob("rank-*.log"), *launch_dir.glob("rank-*.json"), launch_dir / "command.txt"])
    return {p.name: p.read_text(encoding="utf-8", errors="replace") for p in paths if p.is_file()}


def open_trained(ctx, path: Path):
    """The consolidated checkpoint a launch left: the reward model for ``rm``, else the policy."""
    from core_training.modeling import load_causal_lm, load_tokenizer, weights_kwargs

    if ctx.stage == "rm":
        from transformers import AutoModelForSequenceClassification

        model = AutoModelForSequenceClassification.from_pretrained(str(path), num_labels=1, local_files_only=True,
                                                                   **weights_kwargs())
    else:
        model = load_causal_lm(path, ctx.cfg.model.dtype, ctx.cfg.model.experts_implementation)
    return model, load_tokenizer(path)
