"""`toposcope run`: per-layer topology of one or many models (or of stored
activations), written to an experiment folder with a report."""
from __future__ import annotations

import argparse
import math
import shlex
import sys
from collections.abc import Mapping
from typing import Dict, List, Optional

import numpy as np

from . import data as data_sources
from . import models as model_zoo
from ._common import (CLIError, HelpFormatter, StageTimer, UsageError, check_device, common_options, progress,
                      require, say)
from .config import METRIC_CHOICES, NORMALIZE_CHOICES, POOL_CHOICES, RunConfig

DESCRIPTION = """\
Capture the chosen layers of each model on a sample of the data, compute the
persistence (H0, H1, ...) of every layer's point cloud, and write the metrics,
diagrams, plots and a Markdown report to <output-dir>/<output>_<timestamp>/.

Models: --model PRESET (see `toposcope list-models`), --hf-model NAME_OR_PATH
(a Hugging Face model already on this machine), --module pkg.mod:factory (any
torch.nn.Module); each may be repeated. Without a model, --data must hold
stored activations (.npy (n,d) or (layers,n,d), .npz / .pt dict, HDF5).

Options override the values of --config FILE, which override the defaults.
"""

EXAMPLES = """\
examples:
  toposcope run --model digits-mlp --samples 800
  toposcope run --model minilm --data docstrings --samples 300 --pool mean
  toposcope run --hf-model ./my-bert --data sentences.txt --layers 0,3,-1
  toposcope run --module mypkg.nets:make_model --data inputs.npy --device cuda
  toposcope run --data activations.h5 --pca 0 --metric cosine
  toposcope run --config study.toml --seed 1 --output study-seed1
"""


def register(subparsers) -> None:
    p = subparsers.add_parser("run", parents=[common_options()], formatter_class=HelpFormatter,
                              help="per-layer topology of models or stored activations",
                              description=DESCRIPTION, epilog=EXAMPLES)
    add_run_options(p)
    p.set_defaults(func=run_command)


def add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="TOML (or JSON) configuration, e.g. from `toposcope init`")
    g = p.add_argument_group("models and data")
    g.add_argument("--model", action="append", metavar="PRESET", help="model preset (repeatable)")
    g.add_argument("--hf-model", action="append", metavar="NAME_OR_PATH",
                   help="local Hugging Face model (repeatable; never downloaded)")
    g.add_argument("--module", action="append", metavar="PKG.MOD:FACTORY",
                   help="factory() returning a torch.nn.Module (repeatable)")
    g.add_argument("--data", help="digits, docstrings, a text file, model inputs (.npy) or activations "
                                  "(.npy/.npz/.pt/.h5); default: digits for vision models, docstrings for text")
    g.add_argument("--samples", type=int, help="samples per layer cloud (default 500)")
    g.add_argument("--layers", help="'all' or comma-separated layer names / positions, e.g. relu1,logits or 0,-1")
    g.add_argument("--pool", choices=POOL_CHOICES,
                   help="token / spatial pooling (default auto: mean over tokens for encoders, last token for "
                        "decoders, flatten for other models)")
    g.add_argument("--device", help="cpu (default), cuda, cuda:N or mps")
    g.add_argument("--seed", type=int, help="seed for sampling, training and PCA (default 0)")
    g.add_argument("--epochs", type=int, help="training epochs of the digits presets (default 30)")
    g.add_argument("--batch-size", type=int, help="forward-pass batch size (default 64)")
    g.add_argument("--max-length", type=int, help="token limit per text sample (default 128)")
    g = p.add_argument_group("point clouds and persistence")
    g.add_argument("--pca", type=int, help="PCA components per layer, 0 = off (default 50)")
    g.add_argument("--standardize", choices=("none", "center", "zscore"), help="per-feature scaling (default none)")
    g.add_argument("--normalize", choices=NORMALIZE_CHOICES,
                   help="divide distances by this statistic of each layer (default quantile = 0.9 quantile)")
    g.add_argument("--metric", choices=METRIC_CHOICES, help="distance between activations (default euclidean)")
    g.add_argument("--maxdim", type=int, help="highest homology dimension (default 1)")
    g.add_argument("--threshold", type=float, help="largest filtration value, normalised units (default none)")
    g.add_argument("--coeff", type=int, help="prime coefficient field (default 2)")
    g.add_argument("--approximate", type=float, metavar="EPS",
                   help="sparse Rips with a (1+EPS) guarantee instead of exact persistence (default 0 = exact)")
    g = p.add_argument_group("output")
    g.add_argument("--output", metavar="NAME", help="experiment name (default: 'run', or the config's name)")
    g.add_argument("--output-dir", metavar="DIR", help="parent folder of experiment folders (default experiments)")
    g.add_argument("--no-plots", action="store_true", help="skip the PNG plots")


# Command-line option -> RunConfig field, for the options that map one to one.
_DIRECT = ["data", "samples", "layers", "pool", "device", "seed", "epochs", "batch_size", "max_length", "pca",
           "standardize", "normalize", "metric", "maxdim", "threshold", "coeff", "approximate"]


def config_from_args(args: argparse.Namespace) -> RunConfig:
    """Defaults < --config file < command-line options."""
    cfg = RunConfig.load(args.config) if getattr(args, "config", None) else RunConfig()
    for name in _DIRECT:
        value = getattr(args, name, None)
        if value is not None:
            setattr(cfg, name, value)
    cli_models = (list(args.model or []) + [f"hf:{m}" for m in (args.hf_model or [])]
                  + [f"module:{m}" for m in (args.module or [])])
    if cli_models:
        cfg.models = cli_models
    if getattr(args, "output", None):
        cfg.name = args.output
    if getattr(args, "output_dir", None):
        cfg.output_dir = args.output_dir
    if getattr(args, "no_plots", False):
        cfg.plots = False
    return cfg.validate()


# --------------------------------------------------------------------------- layers

def select_layers(available, spec: str, model_name: str):
    """Filter a model's default layers (a list, or a {display: selector} dict) by --layers."""
    names = list(available.keys()) if isinstance(available, Mapping) else list(available)
    if spec.strip().lower() == "all":
        return available
    chosen: List[str] = []
    for token in (t.strip() for t in spec.split(",")):
        if not token:
            continue
        if token.lstrip("-").isdigit():
            i = int(token)
            if not -len(names) <= i < len(names):
                raise UsageError(f"--layers {token}: {model_name} has {len(names)} layers (0..{len(names) - 1})")
            name = names[i]
        elif token in names or not isinstance(available, Mapping):
            name = token  # any module name is allowed for plain torch models; capture checks it
        else:
            raise UsageError(f"--layers {token}: {model_name} has no layer {token!r}; its layers: {', '.join(names)}")
        if name not in chosen:
            chosen.append(name)
    if not chosen:
        raise UsageError("--layers selected nothing")
    if isinstance(available, Mapping):
        return {n: available[n] for n in names if n in chosen}
    return [n for n in names if n in chosen] + [n for n in chosen if n not in names]


# --------------------------------------------------------------------------- steps

class _TickingLayers(Mapping):
    """Activations seen through a progress bar: the study reads each layer once."""

    def __init__(self, arrays: Mapping, bar):
        self.arrays, self.bar, self.seen = arrays, bar, set()

    def __getitem__(self, name):
        if name not in self.seen:
            if self.seen and self.bar is not None:
                self.bar.update(1)
            self.seen.add(name)
            if self.bar is not None:
                self.bar.set_postfix_str(name)
        return self.arrays[name]

    def __iter__(self):
        return iter(self.arrays)

    def __len__(self):
        return len(self.arrays)

    def keys(self):
        return self.arrays.keys()


def _prep_config(cfg: RunConfig):
    from toposcope.preprocessing import PrepConfig

    return PrepConfig(n_samples=None, sampling=None,  # the samples were drawn before the capture
                      standardize=None if cfg.standardize == "none" else cfg.standardize,
                      pca=cfg.pca or None, metric=cfg.metric,
                      normalize=None if cfg.normalize == "none" else cfg.normalize, seed=cfg.seed,
                      pca_backend="torch" if cfg.device != "cpu" else "sklearn",
                      device=None if cfg.device == "cpu" else cfg.device)


def _layer_bar(n: int, quiet: bool, label: str):
    bar = progress(range(n), desc=f"persistence {label}", enabled=not quiet)
    return bar if hasattr(bar, "update") else None


def _study(arrays: Mapping, cfg: RunConfig, quiet: bool, label: str):
    """LayerRecords of every layer: LayerTopology for exact persistence, or the
    sparse (1+eps)-approximate filtration per layer with --approximate."""
    if cfg.approximate > 0:
        return _approximate_study(arrays, cfg, quiet, label)
    from toposcope.studies import LayerStudyConfig, LayerTopology

    study = LayerTopology(LayerStudyConfig(prep=_prep_config(cfg), maxdim=cfg.maxdim, threshold=cfg.threshold,
                                           coeff=cfg.coeff, twonn=True))
    bar = _layer_bar(len(arrays), quiet, label)
    try:
        study.analyse(_TickingLayers(arrays, bar))
    except ValueError as exc:
        raise CLIError(f"{label}: {exc}") from None
    finally:
        if bar is not None:
            bar.update(1)
            bar.close()
    return _records(study)


def _approximate_study(arrays: Mapping, cfg: RunConfig, quiet: bool, label: str):
    import time

    import toposcope as ts
    from toposcope.preprocessing import prepare
    from toposcope.reports import LayerRecord

    prep = _prep_config(cfg)
    records = []
    for name in progress(list(arrays), desc=f"persistence {label}", enabled=not quiet):
        try:
            prepared = prepare(arrays[name], prep)
            start = time.perf_counter()
            result = ts.rips(prepared.data, distance_matrix=prepared.is_distance, maxdim=cfg.maxdim,
                             threshold=cfg.threshold, coeff=cfg.coeff, approximate=cfg.approximate)
        except (ValueError, TypeError) as exc:
            raise CLIError(f"{label}, layer {name}: {exc}") from None
        rec = prepared.record
        records.append(LayerRecord(
            layer=name, dgms=[np.asarray(d) for d in result.dgms], n_points=int(rec["n_kept"]),
            dim_input=int(rec["dim_input"]), dim_used=rec.get("dim_output"), scale=float(prepared.scale),
            seconds=time.perf_counter() - start, pca_explained_variance=rec.get("pca_explained_variance"),
            extra={"num_edges": float(result.num_edges)}))
    return records


def _records(study):
    """LayerRecords from a finished LayerTopology."""
    from toposcope.reports import LayerRecord

    out = []
    for name in study.layers:
        rec = study.prep_records[name]
        extra = {}
        tw = study.twonn.get(name)
        if tw is not None and not (isinstance(tw, float) and math.isnan(tw)):
            extra["twonn_dimension"] = float(tw)
        out.append(LayerRecord(
            layer=name, dgms=study.diagrams[name], n_points=int(rec["n_kept"]), dim_input=int(rec["dim_input"]),
            dim_used=rec.get("dim_output"), scale=float(study.scales[name]),
            seconds=float(study.timings.get("rips_s_per_layer", {}).get(name, float("nan"))),
            pca_explained_variance=rec.get("pca_explained_variance"), extra=extra))
    return out


def _check_modality(loaded, dataset) -> None:
    ok = {model_zoo.VISION: ("digits", "array"), model_zoo.TEXT: ("text",), model_zoo.ARRAY: ("digits", "array")}
    if dataset.modality not in ok[loaded.modality]:
        want = "a text file or docstrings" if loaded.modality == model_zoo.TEXT else "digits or an .npy of inputs"
        raise UsageError(f"{loaded.name} reads {want}, but --data {dataset.name} is {dataset.modality}")


def _capture(loaded, dataset, layers, cfg: RunConfig, quiet: bool):
    """Pooled activations {layer: (n, d) array} of `loaded` on `dataset`."""
    from toposcope.capture import capture, capture_hf

    from ._common import available

    device = None if cfg.device == "cpu" else cfg.device
    bar = not quiet and available("tqdm")
    try:
        if loaded.modality == model_zoo.TEXT:
            # Encoders are mean-pooled by default: the [CLS] vector of the embedding
            # layer is the same for every text, which would make that layer one point.
            pool = ("last" if model_zoo.is_decoder(loaded.module) else "mean") if cfg.pool == "auto" else cfg.pool
            acts = capture_hf(loaded.module, loaded.tokenizer, dataset.inputs, layers=layers, pool=pool, batch_size=cfg.batch_size,
                              max_length=cfg.max_length, device=device, progress=bar)
        else:
            import torch

            inputs = torch.from_numpy(np.ascontiguousarray(dataset.inputs, dtype=np.float32))
            acts = capture(loaded.module, inputs, layers=layers,
                           pool="flatten" if cfg.pool == "auto" else cfg.pool, batch_size=cfg.batch_size,
                           device=device, progress=bar)
    except KeyError as exc:
        raise UsageError(f"{loaded.name}: {exc.args[0]}") from None
    except (ValueError, RuntimeError, TypeError) as exc:
        raise CLIError(f"capturing {loaded.name} failed: {exc}") from None
    return {name: acts.numpy(name) for name in acts.layers}


def execute(cfg: RunConfig, command: str = "", quiet: bool = False, timer: Optional[StageTimer] = None,
            extra_notes: Optional[Dict[str, List[str]]] = None):
    """Run the study described by `cfg`; returns the experiment folder."""
    from toposcope import reports

    require("pandas", "writing experiment tables")
    if cfg.pca and cfg.device == "cpu":
        require("sklearn", "--pca (a PCA of each layer)")
    timer = timer or StageTimer()
    if cfg.device != "cpu":
        check_device(cfg.device)
    for spec in cfg.models:
        model_zoo.check_known(spec)
    model_records = []
    data_descriptions = []

    if not cfg.models:
        if not cfg.data:
            raise UsageError("nothing to study: give a model (--model / --hf-model / --module) or --data with "
                             "stored activations")
        with timer.stage("load activations"):
            dataset = data_sources.load(cfg.data, for_model=False)
            if dataset.modality != "activations":
                raise UsageError(f"--data {cfg.data} holds {dataset.modality} samples; name a model to read them")
            dataset = dataset.subsample(cfg.samples, cfg.seed)
            arrays = dataset.activations
            arrays = {n: arrays[n] for n in _as_names(select_layers({k: k for k in arrays}, cfg.layers, dataset.name))}
        data_descriptions.append(dataset.description)
        with timer.stage(f"persistence {dataset.name}"):
            records = _study(arrays, cfg, quiet, dataset.name)
        model_records.append(reports.ModelRecord(dataset.name, records))

    for spec in cfg.models:
        with timer.stage(f"load {spec}"):
            say(argparse.Namespace(quiet=quiet), f"loading {spec} ...")
            loaded = model_zoo.resolve(spec, seed=cfg.seed, epochs=cfg.epochs)
            if loaded.hidden_states:
                from toposcope.capture import hf_default_layers
                loaded.layers = hf_default_layers(loaded.module)
            dataset = data_sources.load(cfg.data or data_sources.default_for(loaded.modality), for_model=True)
            _check_modality(loaded, dataset)
            dataset = dataset.subsample(cfg.samples, cfg.seed)
            layers = select_layers(loaded.layers, cfg.layers, loaded.name)
        data_descriptions.append(dataset.description)
        with timer.stage(f"capture {loaded.name}"):
            arrays = _capture(loaded, dataset, layers, cfg, quiet)
        with timer.stage(f"persistence {loaded.name}"):
            records = _study(arrays, cfg, quiet, loaded.name)
        n_classes = int(len(np.unique(dataset.labels))) if dataset.modality == "digits" and \
            dataset.labels is not None else None
        notes = list(loaded.notes) + list((extra_notes or {}).get(spec, []))
        model_records.append(reports.ModelRecord(loaded.name, records, n_classes=n_classes, notes=notes))

    folder = reports.make_experiment_dir(cfg.output_dir, cfg.name)
    say(argparse.Namespace(quiet=quiet), "writing the report ...")
    experiment = reports.Experiment(
        name=cfg.name, config=cfg.to_dict(), config_toml=cfg.to_toml(),
        data_description="; ".join(dict.fromkeys(data_descriptions)), models=model_records,
        timings=timer.seconds, command=command, plots=cfg.plots)
    reports.write_experiment(folder, experiment)
    return folder


def _as_names(layers) -> List[str]:
    return list(layers.keys()) if isinstance(layers, Mapping) else list(layers)


def command_line() -> str:
    return "toposcope " + " ".join(shlex.quote(a) for a in sys.argv[1:])


def print_summary(folder) -> None:
    """Where the results are, and the headline numbers."""
    import json

    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    print(f"report: {folder / 'report.md'}")
    def fmt(v):
        return f"{v:.3g}" if isinstance(v, (int, float)) else str(v)

    for name, r in run.get("expansion_ratios", {}).items():
        print(f"  {name}: expansion ratio {fmt(r['expansion_ratio'])} normalised (H0 peak at {r['peak_layer']}), "
              f"{fmt(r['expansion_ratio_raw'])} raw (peak at {r['peak_layer_raw']})")
    timings = json.loads((folder / "timings.json").read_text(encoding="utf-8"))
    print(f"  total {sum(timings.values()):.1f} s; per stage in {folder / 'log.txt'}")


def run_command(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    folder = execute(cfg, command=command_line(), quiet=args.quiet)
    print_summary(folder)
    return 0
