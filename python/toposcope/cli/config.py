"""Run configuration: the `RunConfig` dataclass, its TOML file (written with
comments by `toposcope init`, read by `toposcope run --config`), and the
`init` command.

Why TOML: it allows comments (JSON does not), it is read by the standard
library from Python 3.11 (`tomllib`; on 3.9/3.10 `pip install tomli`), and it
needs no new dependency. A `.json` file with the same keys is accepted too.
Precedence: built-in defaults < the config file < command-line options.
"""
from __future__ import annotations

import argparse
import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List

from ._common import CLIError, HelpFormatter, UsageError, common_options

POOL_CHOICES = ("auto", "mean", "max", "cls", "first", "last", "flatten")
NORMALIZE_CHOICES = ("none", "median", "mean", "max", "quantile")
METRIC_CHOICES = ("euclidean", "cosine")


@dataclass
class RunConfig:
    """Everything `toposcope run` needs to repeat a study."""

    name: str = "run"
    output_dir: str = "experiments"
    models: List[str] = field(default_factory=list)
    data: str = ""
    samples: int = 500
    layers: str = "all"
    pool: str = "auto"
    pca: int = 50
    standardize: str = "none"
    normalize: str = "quantile"
    metric: str = "euclidean"
    maxdim: int = 1
    threshold: float = math.inf
    coeff: int = 2
    device: str = "cpu"
    approximate: float = 0.0
    seed: int = 0
    epochs: int = 30
    batch_size: int = 64
    max_length: int = 128
    plots: bool = True

    def validate(self) -> "RunConfig":
        def bad(msg: str):
            raise UsageError(msg)

        if self.samples < 2:
            bad(f"samples must be at least 2, got {self.samples}")
        if self.pca < 0:
            bad(f"pca must be >= 0 (0 = no PCA), got {self.pca}")
        if self.maxdim < 0:
            bad(f"maxdim must be >= 0, got {self.maxdim}")
        if self.pool not in POOL_CHOICES:
            bad(f"pool must be one of {', '.join(POOL_CHOICES)}, got {self.pool!r}")
        if self.normalize not in NORMALIZE_CHOICES:
            bad(f"normalize must be one of {', '.join(NORMALIZE_CHOICES)}, got {self.normalize!r}")
        if self.standardize not in ("none", "center", "zscore"):
            bad(f"standardize must be none, center or zscore, got {self.standardize!r}")
        if self.metric not in METRIC_CHOICES:
            bad(f"metric must be one of {', '.join(METRIC_CHOICES)} for activations, got {self.metric!r}")
        if self.approximate < 0:
            bad(f"approximate must be >= 0 (0 = exact), got {self.approximate}")
        if self.epochs < 1 or self.batch_size < 1 or self.max_length < 1:
            bad("epochs, batch_size and max_length must be positive")
        return self

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any], source: str = "config") -> "RunConfig":
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise UsageError(f"{source}: unknown key(s) {', '.join(unknown)}; known keys: {', '.join(known)}")
        values = dict(d)
        if isinstance(values.get("models"), str):
            values["models"] = [values["models"]]
        if isinstance(values.get("layers"), list):
            values["layers"] = ",".join(str(x) for x in values["layers"])
        if values.get("threshold") in (None, "inf"):
            values["threshold"] = math.inf
        return cls(**values)

    @classmethod
    def load(cls, path: str) -> "RunConfig":
        if not os.path.exists(path):
            raise CLIError(f"config file not found: {path}")
        with open(path, "rb") as fh:
            raw = fh.read()
        try:
            if path.endswith(".json"):
                d = json.loads(raw.decode("utf-8"))
            else:
                d = _toml_loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise CLIError(f"cannot parse {path}: {exc}") from None
        return cls.from_dict(d, source=path)

    def to_toml(self) -> str:
        """The config as TOML, every key commented (what `init` writes)."""
        lines = [HEADER]
        for f in fields(self):
            comment = COMMENTS.get(f.name)
            if comment:
                lines.extend(f"# {c}" for c in comment.split("\n"))
            lines.append(f"{f.name} = {_toml_value(getattr(self, f.name))}")
            lines.append("")
        return "\n".join(lines)


HEADER = """\
# toposcope run configuration -- use with `toposcope run --config THIS_FILE`.
# Options given on the command line override the values here.
# Written by `toposcope init`; the experiment folder of every run holds the
# config.toml it used, so a run can be repeated exactly.
"""

COMMENTS = {
    "name": "Experiment name: results go to <output_dir>/<name>_<timestamp>/.",
    "output_dir": "Folder that receives experiment folders.",
    "models": "Models to study, each a preset (`toposcope list-models`), \"hf:NAME_OR_PATH\" for a\n"
              "Hugging Face model on this machine, or \"module:pkg.mod:factory\" for any torch.nn.Module.\n"
              "Leave empty to study stored activations given as `data`.",
    "data": "\"digits\" (scikit-learn), \"docstrings\" (built-in text corpus), a text file (one sample per\n"
            "line), an .npy file of model inputs, or stored activations (.npy/.npz/.pt/.h5) without models.\n"
            "Empty: digits for vision models, docstrings for text models.",
    "samples": "Number of samples (points per layer cloud), drawn with `seed` (stratified by class if known).",
    "layers": "\"all\" or a comma-separated list of layer names or 0-based positions, e.g. \"0,2,-1\".",
    "pool": "Per-sample pooling of token / spatial axes: auto (mean over tokens for encoders, last token\n"
            "for decoders, all values for other models), mean, max, cls, first, last, flatten.",
    "pca": "Project each layer on its first `pca` principal components before persistence (0 = off).",
    "standardize": "none, center (subtract the mean) or zscore (also unit variance per feature).",
    "normalize": "Divide distances by a statistic so layers of different scale compare:\n"
                 "none, median, mean, max or quantile (the 0.9 quantile of pairwise distances).",
    "metric": "Distance between activation vectors: euclidean or cosine.",
    "maxdim": "Highest homology dimension (1 = H0 and H1; 2 adds voids and costs much more).",
    "threshold": "Largest filtration value, in normalised units (inf = full filtration).",
    "coeff": "Prime p of the coefficient field Z/p.",
    "device": "Where models run: cpu, cuda, cuda:N or mps.",
    "approximate": "0 = exact persistence; EPS > 0 = sparse Rips with a (1+EPS) guarantee on bar\n"
                   "endpoints (faster on large samples).",
    "seed": "Seed for sampling, training and PCA: the same seed gives the same numbers.",
    "epochs": "Training epochs of the on-the-fly presets (digits-mlp, digits-cnn).",
    "batch_size": "Batch size of the forward passes that capture activations.",
    "max_length": "Token limit per text sample (longer samples are truncated).",
    "plots": "Write PNG plots into the experiment folder.",
}


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return "inf" if math.isinf(v) else repr(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def _toml_loads(text: str) -> Dict[str, Any]:
    try:
        import tomllib  # Python 3.11+
    except ImportError:
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise CLIError("reading a TOML config needs Python 3.11+ or `pip install tomli`; "
                           "a .json config with the same keys works everywhere") from None
    return tomllib.loads(text)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "init", parents=[common_options()], formatter_class=HelpFormatter,
        help="write a commented configuration file for `run --config`",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
        epilog="example:\n  toposcope init my_study.toml --model digits-mlp --samples 800\n"
               "  toposcope run --config my_study.toml")
    p.add_argument("path", nargs="?", default="toposcope.toml", help="file to write (default toposcope.toml)")
    p.add_argument("--model", action="append", default=None, metavar="NAME",
                   help="model(s) to put in the file (repeatable; default digits-mlp)")
    p.add_argument("--data", default=None, help="data to put in the file")
    p.add_argument("--samples", type=int, default=None, help="samples to put in the file")
    p.add_argument("--force", action="store_true", help="overwrite an existing file")
    p.set_defaults(func=run_init)


def run_init(args: argparse.Namespace) -> int:
    if os.path.exists(args.path) and not args.force:
        raise CLIError(f"{args.path} exists; pass --force to overwrite it")
    cfg = RunConfig(name=os.path.splitext(os.path.basename(args.path))[0] or "run",
                    models=args.model or ["digits-mlp"])
    if args.data is not None:
        cfg.data = args.data
    if args.samples is not None:
        cfg.samples = args.samples
    cfg.validate()
    directory = os.path.dirname(os.path.abspath(args.path))
    os.makedirs(directory, exist_ok=True)
    with open(args.path, "w", encoding="utf-8") as fh:
        fh.write(cfg.to_toml())
    if not args.quiet:
        print(f"wrote {args.path}; run it with: toposcope run --config {args.path}")
    return 0
