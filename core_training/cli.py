"""The ``vkit`` command: a thin dispatcher over the core.

    vkit run gaokao [--base PATH] [--preset micro] [--output DIR] [--config X.yaml] [key.sub=value ...]
    vkit eval CHECKPOINT --vertical gaokao [--mode grounded|closed_book]
    vkit base pretrain [--output DIR] [--native] [key=value ...]
    vkit base from-config CONFIG.json --shrink --out DIR [--tokenizer PATH]
    vkit verticals [--strict]
    vkit cards gaokao [--out data_cards]
    vkit check RUN [--min-final-grounded 0.8 ...]
    vkit report RUN
    vkit export RUN [--stage rlhf] --out DIR [--merge]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from core_training.check import register as register_check_commands
from core_training.export import register as register_export


def _run(args) -> int:
    from core_training.config import resolve_run_config
    from core_training.pipeline import run_pipeline
    from core_training.registry import get_vertical
    from core_training.report import stage_table

    vertical = get_vertical(args.vertical)
    overrides = list(args.overrides) + [f"vertical={vertical.name}"]
    for flag, key in ((args.base, "model.base"), (args.output, "output"), (args.seed, "seed"), (args.stages, "stages"),
                      (args.launcher, "launch.launcher"), (args.num_processes, "launch.num_processes"),
                      (args.deepspeed, "launch.deepspeed"), (args.accelerate_config, "launch.accelerate_config")):
        if flag is not None:
            overrides.append(f"{key}={flag}")
    cfg = resolve_run_config(dict(vertical.config_overrides), args.config, overrides, args.preset)
    cfg = use_graph(cfg, vertical.name)
    preferences = check_run_inputs(cfg, args)  # everything is checked before anything is written
    vertical.load_graph()  # an imported graph ($VKIT_<V>_GRAPH) that cannot be read fails before writing too
    if args.seeds:
        return _run_seeds(cfg, vertical, args.seeds, preferences)
    report = run_pipeline(cfg, vertical, preferences=preferences)
    print(f"\n{stage_table(report)}\n")
    print(f"report: {report['run_dir']}/report.md")
    return 0


def _run_seeds(cfg, vertical, seeds_text: str, preferences) -> int:
    from core_training.pipeline import default_output
    from core_training.seeds import run_seeds, seeds_table

    try:
        seeds = [int(s) for s in seeds_text.split(",") if s.strip()]
    except ValueError:
        raise SystemExit(f"vkit: error: --seeds {seeds_text!r}: expected a comma list of integers, e.g. 0,1,2")
    if not seeds or len(set(seeds)) != len(seeds):
        raise SystemExit(f"vkit: error: --seeds {seeds_text!r}: expected distinct integers, e.g. 0,1,2")
    output = Path(cfg.output) if cfg.output else default_output(vertical.name)
    summary = run_seeds(cfg, vertical, seeds, output, preferences)
    print(f"\n{seeds_table(summary)}\n\nseeds: {output}/seeds.md")
    return 0


def use_graph(cfg, vertical: str):
    """The graph a run uses, in its config (so config.json and the report say what data it used): ``data.graph``
    wins and is handed to the vertical through ``VKIT_<V>_GRAPH``; that variable alone is recorded as ``data.graph``."""
    from dataclasses import replace

    from core_training.config import graph_env_var

    env = graph_env_var(vertical)
    if cfg.data.graph:
        os.environ[env] = cfg.data.graph
        return cfg
    return replace(cfg, data=replace(cfg.data, graph=os.environ.get(env) or None))


def check_run_inputs(cfg, args) -> list | None:
    """Check ``--output``, the base and ``--preferences`` (returning its pairs) before the run writes."""
    from core_training.inputs import check_checkpoint, check_output, read_preferences
    from core_training.launcher import check_launch
    from core_training.modeling import allow_pickle, check_safetensors, resolve_base
    from core_training.precision import check_precision

    allow_pickle(args.allow_pickle)
    check_launch(cfg)
    if cfg.output:
        check_output(cfg.output)
    base = resolve_base(cfg.model.base)
    check_checkpoint(base)
    check_safetensors(base)
    check_precision(cfg.model.precision, cfg.model.dtype)
    return read_preferences(args.preferences) if args.preferences else None


def _eval(args) -> int:
    from core_training.evaluate import evaluate_policy
    from core_training.modeling import load_causal_lm, load_tokenizer
    from core_training.registry import get_vertical

    from core_training.inputs import InputError, check_checkpoint
    from core_training.modeling import allow_pickle

    if args.max_items < 1:
        raise InputError(f"--max-items {args.max_items}: must be >= 1")
    allow_pickle(args.allow_pickle)
    vertical = get_vertical(args.vertical)
    check_checkpoint(args.checkpoint, "checkpoint")
    examples = list(vertical.load_eval_set())[: args.max_items]
    model, tok = load_causal_lm(args.checkpoint), load_tokenizer(args.checkpoint)
    modes = [args.mode] if args.mode else ["closed_book", "grounded"]
    metrics, _ = evaluate_policy(model, tok, vertical, examples, modes, args.max_new_tokens)
    print(json.dumps(metrics, ensure_ascii=False, indent=2))
    return 0


def _base(args) -> int:
    from core_training.environment import kernels_are_portable

    args.output = args.output or str(Path("runs") / "base" / time.strftime("%Y%m%d-%H%M%S"))
    print(f"vkit: building the base into {args.output}", file=sys.stderr)
    if not args.native and not kernels_are_portable():
        return _rebuild_portable(args)
    from core_training.base.pretrain import BaseConfig, pretrain
    from core_training.config import load_config

    if kernels_are_portable():
        import torch

        if torch.backends.cpu.get_cpu_capability() != "AVX2":  # e.g. a torch that ignores the variable
            raise SystemExit(f"vkit: error: ATEN_CPU_CAPABILITY=avx2 is set but PyTorch dispatches to "
                             f"{torch.backends.cpu.get_cpu_capability()}; the build would not be portable")
    cfg = load_config(BaseConfig, overrides=args.overrides)
    meta = pretrain(cfg, Path(args.output))
    print(json.dumps({k: meta[k] for k in ("parameters", "build_seconds", "skills", "final_train_loss", "environment")},
                     indent=2, ensure_ascii=False))
    return 0


def _from_config(args) -> int:
    from core_training.base.from_config import from_config

    meta = from_config(args.config, args.out, shrink_it=args.shrink, tokenizer_path=args.tokenizer, seed=args.seed,
                       log=lambda line: print(line, file=sys.stderr))
    print(json.dumps({k: meta[k] for k in ("model_type", "parameters", "shape")}, ensure_ascii=False))
    print(f"base: {args.out}", file=sys.stderr)
    return 0


def _rebuild_portable(args) -> int:
    """``vkit base pretrain`` again in a fresh interpreter with the portable kernels pinned (torch and MKL
    read them when they load), so the bytes do not depend on this CPU's instruction set."""
    from core_training.environment import PORTABLE_PINS, has_avx2, portable_env

    if not has_avx2():
        raise SystemExit("vkit: error: this CPU lacks AVX2, so a portable rebuild is impossible here; "
                         "`vkit base pretrain --native` builds a base that only this CPU reproduces")
    print(f"vkit: building with portable CPU kernels ({PORTABLE_PINS}); --native is faster", file=sys.stderr)
    command = ["base", "pretrain", *(["--output", args.output] if args.output else []), *args.overrides]
    return subprocess.call([sys.executable, "-m", "core_training.cli", *command], env=portable_env())


def _verticals(args) -> int:
    """List every registered vertical; one that fails to load is shown with its error, not fatal.

    Exit status 0 even when some fail (it is a listing, like ``pip list``: a broken third-party
    plugin must not hide the working verticals or break scripts that read the list); ``--strict``
    exits 1 when any registration fails to load, for CI checks of an installation.
    """
    from core_training.registry import load_verticals

    results = load_verticals()
    for result in results:
        info, v = result.info, result.vertical
        if v is not None:
            print(f"{info.name:12s} {info.source:28s} {v.description}")
            print(f"{'':12s} rules: {', '.join(r.name for r in v.rules)}")
        else:
            print(f"{info.name:12s} {info.source:28s} BROKEN: cannot load {info.target}")
            print(f"{'':12s} error: {result.error_line}")
    broken = [r.info.name for r in results if r.vertical is None]
    if broken:
        hint = "" if args.strict else " (listing anyway; --strict exits 1)"
        print(f"vkit: warning: {len(broken)} of {len(results)} verticals failed to load: {', '.join(broken)}{hint}",
              file=sys.stderr)
        return 1 if args.strict else 0
    return 0


def _cards(args) -> int:
    from core_training.datacards import write_cards
    from core_training.registry import get_vertical

    for path in write_cards(get_vertical(args.vertical), Path(args.out)):
        print(path)
    return 0


PICKLE_HELP = "also load weights from pickle files (*.bin), which can run code: only for files you trust"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vkit", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="post-train a base into a vertical advisor (cpt, sft, rlvr, rm, rlhf)")
    run.add_argument("vertical")
    run.add_argument("--base", help="local checkpoint directory (default: the shipped tiny MoE base)")
    run.add_argument("--output", help="run directory (default runs/<vertical>/<timestamp>); rerun to resume")
    run.add_argument("--preset", help="micro = a seconds-scale smoke run")
    seeds = run.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=int)
    seeds.add_argument("--seeds", help="comma list, e.g. 0,1,2: one run per seed in OUTPUT/seed-<n>, and "
                       "OUTPUT/seeds.md with each stage's mean ± sd")
    run.add_argument("--stages", help="comma list, e.g. cpt,sft,rlvr,dpo")
    run.add_argument("--config", action="append", default=[], help="YAML overrides file (repeatable)")
    run.add_argument("--preferences", help="JSONL preference pairs (e.g. an annotation export) for rm/rlhf/dpo")
    run.add_argument("--allow-pickle", action="store_true", help=PICKLE_HELP)
    run.add_argument("--launcher", choices=["none", "accelerate"],
                     help="accelerate: train each stage under `accelerate launch` (docs/scale-out.md)")
    run.add_argument("--num-processes", type=int, help="training processes per stage, all machines together")
    run.add_argument("--deepspeed", choices=["zero2", "zero3", "zero3-offload"],
                     help="DeepSpeed ZeRO with vkit's shipped config (default: DDP)")
    run.add_argument("--accelerate-config", help="an `accelerate config` file (machines, network)")
    run.add_argument("overrides", nargs="*", help="key.sub=value overrides")
    run.set_defaults(fn=_run)
    ev = sub.add_parser("eval", help="evaluate a checkpoint on a vertical's held-out set")
    ev.add_argument("checkpoint")
    ev.add_argument("--vertical", required=True)
    ev.add_argument("--mode", choices=["closed_book", "grounded"])
    ev.add_argument("--max-items", type=int, default=64)
    ev.add_argument("--max-new-tokens", type=int, default=256)
    ev.add_argument("--allow-pickle", action="store_true", help=PICKLE_HELP)
    ev.set_defaults(fn=_eval)
    base = sub.add_parser("base", help="the embedded base model")
    base_sub = base.add_subparsers(dest="base_command", required=True)
    pre = base_sub.add_parser("pretrain", help="rebuild the tiny MoE base from its seed (~36 min on 2 cores)")
    pre.add_argument("--output", help="where the base goes (default runs/base/<timestamp>; never the installed "
                     "package unless named)")
    pre.add_argument("--native", action="store_true",
                     help="this CPU's fastest kernels (~20%% faster); the bytes are then this CPU's own")
    pre.add_argument("overrides", nargs="*", help="BaseConfig overrides, e.g. max_steps=100")
    pre.set_defaults(fn=_base)
    fc = base_sub.add_parser("from-config", help="a randomly initialised base from a published MoE config.json "
                             "(examples: core_training/assets/published_configs/)")
    fc.add_argument("config", help="a model's config.json, e.g. Qwen3-30B-A3B's")
    fc.add_argument("--shrink", action="store_true", help="scale width and depth down to a CPU-sized model, keeping "
                    "the experts, top-k, shared experts, dense-first layers, GQA ratio and MLA ratios")
    fc.add_argument("--out", required=True, help="the new base's directory")
    fc.add_argument("--tokenizer", help="a tokenizer directory (default: the shipped base's)")
    fc.add_argument("--seed", type=int, default=0, help="seed of the random initialisation")
    fc.set_defaults(fn=_from_config)
    cards = sub.add_parser("cards", help="(re)generate the data cards of a vertical's datasets")
    cards.add_argument("vertical")
    cards.add_argument("--out", default="data_cards")
    cards.set_defaults(fn=_cards)
    ls = sub.add_parser("verticals", help="list installed verticals (broken ones with their error)")
    ls.add_argument("--strict", action="store_true", help="exit 1 if any registered vertical fails to load")
    ls.set_defaults(fn=_verticals)
    register_check_commands(sub)  # check, report: core_training/check.py
    register_export(sub)  # export: core_training/export.py
    for register in _command_plugins():
        try:
            register(sub)
        except Exception as err:  # a broken plugin must not take the other commands down with it
            _skip_plugin(f"{register.__module__}.{register.__qualname__}", err)
    return parser


def _command_plugins() -> list:
    """Subcommands contributed by other packages (``kg``, ``app``, ``annotate``, ``loop``...).

    They register under the ``vkit.commands`` entry-point group as ``register(subparsers)``
    functions, so the core never imports the packages that build on it. One that fails to import or
    to register is skipped with a warning naming it; the other commands still work.
    """
    from importlib.metadata import entry_points

    loaded = []
    for ep in sorted(entry_points(group="vkit.commands"), key=lambda ep: ep.name):
        try:
            loaded.append(ep.load())
        except Exception as err:
            _skip_plugin(f"{ep.name} = {ep.value}", err)
    return loaded


def _skip_plugin(what: str, err: Exception) -> None:
    print(f"vkit: warning: skipping the vkit.commands plugin {what}: {type(err).__name__}: {err}", file=sys.stderr)


def user_errors() -> tuple[type[Exception], ...]:
    """The exceptions that mean bad input, or a stage stopped on purpose (a health signal, a failing rule):
    one ``vkit: error:`` line naming the file, field or signal, exit 2."""
    from core_training.base.from_config import FromConfigError
    from core_training.config import ConfigError
    from core_training.contract import DataError
    from core_training.inputs import InputError
    from core_training.io import JsonlError
    from core_training.lora_targets import LoraTargetError
    from core_training.modeling import BaseNotFoundError, PickleWeightsError, QuantizedCheckpointError
    from core_training.precision import PrecisionError
    from core_training.errors import HealthError
    from core_training.registry import RegistryError, UnknownVerticalError
    from core_training.rewards import RuleFailureError
    from core_training.rundir import RunLockedError

    return (LoraTargetError, QuantizedCheckpointError, PrecisionError,
            ConfigError, DataError, BaseNotFoundError, UnknownVerticalError, RegistryError, InputError, JsonlError,
            PickleWeightsError, RunLockedError, FromConfigError, HealthError, RuleFailureError)


def main(argv: list[str] | None = None) -> int:
    """``vkit``: bad input is one line and exit 2, any other failure one line and exit 1; ``--debug``
    (anywhere on the line) or ``VKIT_DEBUG=1`` shows the traceback instead."""
    argv = sys.argv[1:] if argv is None else list(argv)
    debug = "--debug" in argv or os.environ.get("VKIT_DEBUG") == "1"
    argv = [a for a in argv if a != "--debug"]
    try:
        return _main(argv)
    except KeyboardInterrupt:
        if debug:
            raise
        print("vkit: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except Exception as err:
        if debug:
            raise
        first = str(err).strip().splitlines()[0] if str(err).strip() else ""
        if isinstance(err, user_errors()):
            print(f"vkit: error: {first}", file=sys.stderr)
            return 2
        print(f"vkit: error: {type(err).__name__}: {first} (rerun with --debug for the traceback)", file=sys.stderr)
        return 1


TRAINING_COMMANDS = ("run", "base")  # the commands that train; the apps and listings keep the default allocator


def _main(argv: list[str]) -> int:
    from core_training.allocator import tune_malloc

    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    bad = [x for x in extra if "=" not in x or x.startswith("-") or not hasattr(args, "overrides")]
    if bad:
        parser.error(f"unrecognized arguments: {' '.join(bad)}")
    if extra:
        args.overrides = [*args.overrides, *extra]  # key=value overrides may follow the options
    if args.command in TRAINING_COMMANDS:
        tune_malloc()  # speed only: CPU training reuses its large buffers instead of faulting fresh pages
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
