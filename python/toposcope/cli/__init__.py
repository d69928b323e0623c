"""The `toposcope` command line.

Commands (each in its own module here):

  demo         the whole study on built-in data, written to an experiment folder
  run          per-layer topology of models and/or stored activations
  compare      side-by-side meta-analysis of earlier runs
  diagram      persistence of a point cloud or distance-matrix file
  list-models  the model presets and how to name any other model
  init         write a commented configuration file for `run --config`
  bench        time toposcope against the installed peers

Exit codes: 0 success, 1 runtime error (missing file, unavailable device,
missing optional package, failed computation), 2 usage error (bad option,
unknown model), 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys
from typing import List, Optional

from ._common import EXIT_OK, EXIT_RUNTIME, CLIError, HelpFormatter

__all__ = ["main", "build_parser"]

EPILOG = """\
exit codes: 0 ok, 1 runtime error, 2 usage error
`toposcope COMMAND --help` describes each command."""


def build_parser() -> argparse.ArgumentParser:
    from toposcope import __version__

    from . import bench, compare, config, demo, diagram, models, run

    parser = argparse.ArgumentParser(
        prog="toposcope", formatter_class=HelpFormatter,
        description="Persistent homology and the topology of neural-network representations.",
        epilog=EPILOG)
    parser.add_argument("--version", action="version", version=f"toposcope {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in (demo, run, compare, diagram, models, config, bench):
        module.register(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    """Entry point of the `toposcope` console script and `python -m toposcope`."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        return int(args.func(args) or EXIT_OK)
    except CLIError as exc:
        print(f"toposcope {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except MemoryError as exc:
        print(f"toposcope {args.command}: out of memory: {exc}. Try fewer --samples, --pca or "
              "--threshold.", file=sys.stderr)
        return EXIT_RUNTIME
