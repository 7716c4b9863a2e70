"""``vkit app`` and ``vkit annotate``: start the Streamlit advisor and annotation apps.

    vkit app VERTICAL [--model RUN_OR_CHECKPOINT | --endpoint URL [--endpoint-model NAME]]
                      [--db URL] [--runs DIR] [--max-new-tokens N] [--server.port 8502 ...]
    vkit annotate [--db URL] [--export-dir DIR] [--session-hours H] [--server.port 8503 ...]
    vkit loop VERTICAL [--db URL] [--run DIR] [--preset micro] [--rounds N] ...   (see apps.loop)

Options Streamlit knows (``--server.port``, ``--server.address``, ``--server.headless``,
``--theme.base`` ...) pass through to ``streamlit run``; put them after ``VERTICAL``. The command is
printed, then replaces this process. Safe by default: the apps listen on 127.0.0.1 only (open them
up with ``--server.address 0.0.0.0``; the annotation app then warns unless Streamlit serves TLS), and
Streamlit's usage statistics are off. The ``--db`` store is opened first, so a bad URL is one line.
Registered under the ``vkit.commands`` entry-point group::

    [project.entry-points."vkit.commands"]
    apps = "apps.cli:register"
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ADVISOR, ANNOTATE = HERE / "advisor.py", HERE / "annotate.py"


class PassThroughParser(argparse.ArgumentParser):
    """A subcommand parser that keeps the options it does not know, in order, as ``args.passthrough``.

    The top-level ``vkit`` parser rejects unknown options; Streamlit's ``--server.*`` are not ours.
    """

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        namespace.passthrough = [*getattr(namespace, "passthrough", []), *extras]
        return namespace, []


def register(subparsers) -> None:
    """Add ``app``, ``annotate`` and ``loop`` to the ``vkit`` command line."""
    app = _add(subparsers, "app", "chat with a trained advisor (Streamlit): grounding, rule badges, feedback")
    app.add_argument("vertical")
    source = app.add_mutually_exclusive_group()
    source.add_argument("--model", help="run directory (its last policy stage) or checkpoint directory "
                                        "(default: the latest runs/VERTICAL/*/ run)")
    source.add_argument("--endpoint", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang)")
    app.add_argument("--endpoint-model", help="model name on the endpoint (default: the first it lists)")
    app.add_argument("--db", help="feedback store URL (default sqlite:///annotations.db)")
    app.add_argument("--runs", help="where runs live (default runs/)")
    app.add_argument("--max-new-tokens", type=int)
    app.set_defaults(fn=_app)
    ann = _add(subparsers, "annotate", "the expert annotation app (Streamlit): log in, label pairs, export")
    ann.add_argument("--db", help="store URL (default $VKIT_ANNOTATE_DB or sqlite:///annotations.db)")
    ann.add_argument("--export-dir")
    ann.add_argument("--session-hours", type=float)
    ann.set_defaults(fn=_annotate)
    from apps.loop import add_loop_command  # light: the loop imports torch and the store only when it runs

    add_loop_command(subparsers)


def _add(subparsers, name: str, help_text: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(name, help=help_text, description=f"{help_text}.\n\n{__doc__}",
                                   formatter_class=argparse.RawDescriptionHelpFormatter, allow_abbrev=False)
    parser.__class__ = PassThroughParser  # subparsers build plain parsers; this one must keep --server.*
    return parser


def _options(args: argparse.Namespace, names: tuple[str, ...]) -> list[str]:
    """``--name value`` for each option that was given."""
    out = []
    for name in names:
        value = getattr(args, name.replace("-", "_"))
        if value is not None:
            out += [f"--{name}", str(value)]
    return out


SAFE_DEFAULTS = {"server.address": "127.0.0.1", "browser.gatherUsageStats": "false"}
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def streamlit_command(script: Path, passthrough: list[str], app_args: list[str]) -> list[str]:
    """``python -m streamlit run [streamlit options] SCRIPT -- [app options]``, with :data:`SAFE_DEFAULTS`
    for the options not given.

    >>> streamlit_command(Path("a.py"), ["--server.port", "1"], ["--db", "x"])[2:]  # doctest: +NORMALIZE_WHITESPACE
    ['streamlit', 'run', '--server.address', '127.0.0.1', '--browser.gatherUsageStats', 'false',
     '--server.port', '1', 'a.py', '--', '--db', 'x']
    """
    bad = [x for x in passthrough if x.startswith("-") and "." not in x.split("=")[0]]
    if bad:
        raise SystemExit(f"vkit: error: unrecognized arguments: {' '.join(bad)} (Streamlit options look like "
                         f"--server.port 8502)")
    defaults = [x for k, v in SAFE_DEFAULTS.items() if passed_option(passthrough, k) is None for x in (f"--{k}", v)]
    return [sys.executable, "-m", "streamlit", "run", *defaults, *passthrough, str(script), "--", *app_args]


def passed_option(passthrough: list[str], name: str) -> str | None:
    """The value given for the Streamlit option ``--name`` (as ``--name V`` or ``--name=V``), else None.

    >>> passed_option(["--server.port", "1", "--server.address=0.0.0.0"], "server.address")
    '0.0.0.0'
    """
    value = None
    for i, item in enumerate(passthrough):
        if item == f"--{name}" and i + 1 < len(passthrough):
            value = passthrough[i + 1]
        elif item.startswith(f"--{name}="):
            value = item.split("=", 1)[1]
    return value


def exposure_warning(passthrough: list[str]) -> str | None:
    """A warning when the annotation app would listen beyond this machine without TLS (passwords and
    session tokens would cross the network in clear text), else None.

    >>> exposure_warning([]) is None, exposure_warning(["--server.address", "0.0.0.0"]) is None
    (True, False)
    """
    address = passed_option(passthrough, "server.address") or SAFE_DEFAULTS["server.address"]
    if address in LOOPBACK or passed_option(passthrough, "server.sslCertFile"):
        return None
    return (f"vkit: warning: the annotation app listens on {address} without TLS: logins and session tokens "
            f"cross the network in clear text; put a TLS proxy in front or pass --server.sslCertFile/--server.sslKeyFile")


def check_store(db: str | None) -> None:
    """Open (then close) the ``--db`` store, so a bad URL fails here in one line, not in the browser."""
    if db:
        from apps.store import Store

        Store.open(db).close()


def app_command(args: argparse.Namespace) -> list[str]:
    from core_training.registry import get_vertical

    vertical = get_vertical(args.vertical)  # an unknown name fails here, with "did you mean"
    options = _options(args, ("model", "endpoint", "endpoint-model", "db", "runs", "max-new-tokens"))
    return streamlit_command(ADVISOR, args.passthrough, ["--vertical", vertical.name, *options])


def annotate_command(args: argparse.Namespace) -> list[str]:
    warning = exposure_warning(args.passthrough)
    if warning:
        print(warning, file=sys.stderr)
    return streamlit_command(ANNOTATE, args.passthrough, _options(args, ("db", "export-dir", "session-hours")))


def _exec(command: list[str]) -> int:
    print(shlex.join(command), file=sys.stderr, flush=True)
    os.execv(command[0], command)
    return 0  # not reached


def _app(args: argparse.Namespace) -> int:
    command = app_command(args)
    check_store(args.db)
    return _exec(command)


def _annotate(args: argparse.Namespace) -> int:
    command = annotate_command(args)
    check_store(args.db or os.environ.get("VKIT_ANNOTATE_DB"))
    return _exec(command)
