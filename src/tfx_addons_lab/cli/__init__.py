"""The ``tfx-addons-lab`` command line.

Subcommands live in their own modules and are imported only when used, so ``--help`` and
``--version`` answer instantly. A subcommand module provides::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...   # the exit status

Exit status: 0 success, 1 a verdict the user asked about (e.g. dataset drifted), 2 bad usage or
unreadable input (one clear line on stderr, no traceback). An unexpected error (a bug) is also
one line and exit 2, never 1 (a verdict); ``-v`` shows its traceback. When the reader of our
output goes away (``| head``) we stop quietly with 141, as a program killed by SIGPIPE would.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import List, Optional

from tfx_addons_lab._version import __version__

#: subcommand -> (module, one-line help)
SUBCOMMANDS = {
    "drift": (
        "tfx_addons_lab.cli.drift",
        "compare two datasets (CSV, TFRecord or TFDV statistics) for drift",
    ),
    "registry": (
        "tfx_addons_lab.cli.registry",
        "inspect and manage a model registry (list, show, promote, approve, rollback, verify, "
        "history)",
    ),
    "lineage": ("tfx_addons_lab.cli.lineage", "print the ML Metadata lineage of a pushed model"),
    "drift-history": (
        "tfx_addons_lab.cli.drift_history",
        "write an HTML page of every DriftValidator run of a pipeline (drift per span, gates, "
        "registry)",
    ),
}

#: subcommands that quiet TensorFlow themselves, only if they import it (``drift`` on CSV
#: never does), or never import it (``registry``): start-up skips ``logging`` and the rest
NO_TENSORFLOW = frozenset({"registry", "drift"})

EXIT_OK = 0
EXIT_VERDICT = 1
EXIT_USAGE = 2
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 with usage: keep, but one line
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise SystemExit(EXIT_USAGE)


def build_parser(argv: Optional[List[str]] = None) -> argparse.ArgumentParser:
    """Build the parser; only the subcommand named in ``argv`` is imported."""
    parser = _Parser(
        prog="tfx-addons-lab",
        description="Drift validation, blessing gates and model registries for TFX pipelines.",
    )
    parser.add_argument("--version", action="version", version=f"tfx-addons-lab {__version__}")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="show TensorFlow/Beam start-up logs and full tracebacks",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    wanted = next((a for a in (argv or []) if a in SUBCOMMANDS), None)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        if name == wanted:
            module = importlib.import_module(module_name)
            module.add_arguments(sub)
            sub.set_defaults(_module=module)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the ``tfx-addons-lab`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return EXIT_USAGE
    if args.command not in NO_TENSORFLOW:
        from tfx_addons_lab._tf_env import quiet_tensorflow

        quiet_tensorflow(verbose=args.verbose)
    from tfx_addons_lab.errors import TfxAddonsLabError

    try:
        status = int(args._module.run(args))
        sys.stdout.flush()  # a pipe's buffered output fails here, not at interpreter exit
        return status
    except TfxAddonsLabError as exc:
        if args.verbose:
            raise
        sys.stderr.write(f"tfx-addons-lab {args.command}: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BrokenPipeError:
        # stdout's reader left: point stdout at /dev/null so the interpreter's final flush
        # cannot print a second error, and stop without a word
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except Exception as exc:  # a bug: still one line, and never the "verdict" exit status 1
        if args.verbose:
            raise
        from tfx_addons_lab.textfmt import safe

        text = safe(" ".join(str(exc).split()))[:300]
        sys.stderr.write(
            f"tfx-addons-lab {args.command}: internal error: {type(exc).__name__}: {text} "
            "(a bug: rerun with -v for the traceback and report it)\n"
        )
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
