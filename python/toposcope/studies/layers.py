"""`LayerTopology`: the shape of a network's representation, layer by layer.

capture (hooks) -> prepare (subsample, PCA, metric, scale) -> Rips diagrams
(the engine, several layers at once) -> a tidy table and figures.

Units: diagrams are stored in *normalised* units (distances divided by the
layer's ``scale``, see ``toposcope.preprocessing``); Rips persistence is
scale-equivariant, so the raw diagram is ``scale * diagram``. Metrics that
depend on units are reported both ways (``..._raw`` for raw units).

The tidy table has one row per (layer, dim, metric): columns ``layer``,
``layer_index`` (model order), ``dim`` (homology dimension; -1 for metrics of
the whole layer) and ``value``. Metric names:

* per dimension: ``n_bars``, ``n_infinite``, ``total_persistence``,
  ``total_persistence_raw``, ``max_lifetime``, ``max_lifetime_raw``,
  ``mean_lifetime``, ``entropy``, and ``betti@S`` for each scale S in
  ``config.scales`` (normalised units);
* per layer (dim -1): ``scale``, ``n_points``, ``twonn_dimension`` (when
  enabled), ``expansion`` and ``expansion_raw`` (H0 total persistence over
  the first layer's; the maxima are ToDACoMM's expansion ratios, in
  ``summary``).

A saved folder holds ``config.json``, ``study.json`` (layers, scales, the
preparation record of every layer, summary, timings, versions),
``metrics.csv`` and ``diagrams.npz`` (key ``L{layer_index}_H{dim}``).
"""
from __future__ import annotations

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from .. import metrics as M
from ..preprocessing import PrepConfig, prepare

__all__ = ["LayerStudyConfig", "LayerTopology", "FORMAT_VERSION"]

FORMAT_VERSION = 1


def _json_float(x):
    if x is None:
        return None
    if isinstance(x, float) and math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return x


def _from_json_float(x):
    if isinstance(x, str) and x in ("inf", "-inf"):
        return float(x)
    return x


@dataclass
class LayerStudyConfig:
    """Everything a layer study does, serialisable with ``to_dict``/``from_dict``.

    ``layers``: a list of selectors or a ``{display name: selector}`` dict
    (see ``toposcope.capture``), None for every leaf module.
    ``scales``: Betti numbers are reported at these scales (normalised units).
    ``grid_size``: points of the Betti-curve grid, which runs from 0 to the
    largest finite death over all layers. ``n_jobs``: layers computed at once
    (threads; the engine releases the GIL). ``n_threads``: engine threads per
    layer (None: all cores when ``n_jobs == 1``, else 1).
    """

    layers: Optional[Union[List[str], Dict[str, str]]] = None
    pool: str = "mean"
    batch_size: int = 256
    layout: str = "auto"
    prep: PrepConfig = field(default_factory=PrepConfig)
    maxdim: int = 1
    threshold: float = math.inf
    coeff: int = 2
    scales: List[float] = field(default_factory=list)
    grid_size: int = 100
    twonn: bool = True
    n_jobs: int = 1
    n_threads: Optional[int] = None
    out: Optional[str] = None
    memory_budget: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["prep"] = self.prep.to_dict()
        d["threshold"] = _json_float(self.threshold)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "LayerStudyConfig":
        d = dict(d)
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown LayerStudyConfig fields: {sorted(unknown)}")
        if isinstance(d.get("prep"), Mapping):
            d["prep"] = PrepConfig.from_dict(d["prep"])
        if "threshold" in d:
            d["threshold"] = float(_from_json_float(d["threshold"]))
        return cls(**d)


class LayerTopology:
    """Persistent homology of every chosen layer of a model.

    >>> study = LayerTopology(LayerStudyConfig(layers=["fc1", "fc2"], scales=[0.5]))
    >>> study.run(model, X)                                  # doctest: +SKIP
    >>> study.table                                          # tidy DataFrame
    >>> study.save("runs/exp1"); LayerTopology.load("runs/exp1")
    """

    def __init__(self, config: Optional[LayerStudyConfig] = None, **overrides):
        config = config or LayerStudyConfig()
        if overrides:
            config = LayerStudyConfig.from_dict({**config.to_dict(), **overrides})
        self.config = config
        self.layers: List[str] = []
        self.diagrams: Dict[str, List[np.ndarray]] = {}
        self.scales: Dict[str, float] = {}
        self.prep_records: Dict[str, Dict[str, Any]] = {}
        self.table = None
        self.summary: Dict[str, Any] = {}
        self.timings: Dict[str, float] = {}
        self.capture_meta: Dict[str, Any] = {}
        self.twonn: Dict[str, float] = {}

    # ------------------------------------------------------------------ running

    def run(self, model, inputs, attention_mask=None, device=None, progress: bool = False) -> "LayerTopology":
        """Capture ``inputs`` through ``model`` and analyse every layer."""
        from ..capture import capture

        cfg = self.config
        t0 = time.perf_counter()
        acts = capture(model, inputs, layers=cfg.layers, pool=cfg.pool, batch_size=cfg.batch_size, device=device,
                       out=cfg.out, attention_mask=attention_mask, memory_budget=cfg.memory_budget,
                       layout=cfg.layout, progress=progress)
        self.timings["capture_s"] = time.perf_counter() - t0
        self.capture_meta = {k: v for k, v in acts.meta.items() if k not in ("taps",)}
        return self.analyse(acts)

    def analyse(self, activations: Mapping[str, Any]) -> "LayerTopology":
        """Analyse activations already captured (``Activations`` or ``{layer: array}``)."""
        cfg = self.config
        names = list(activations.layers if hasattr(activations, "layers") else activations.keys())
        if not names:
            raise ValueError("no layers to analyse")
        n_jobs = max(1, min(cfg.n_jobs, len(names)))
        n_threads = cfg.n_threads if cfg.n_threads is not None else (None if n_jobs == 1 else 1)

        def one(name):
            t = time.perf_counter()
            prepared = prepare(activations[name], cfg.prep)
            t_prep = time.perf_counter() - t
            res = prepared.rips(maxdim=cfg.maxdim, threshold=cfg.threshold, coeff=cfg.coeff, n_threads=n_threads)
            t_ph = time.perf_counter() - t - t_prep
            twonn = float("nan")
            if cfg.twonn and not prepared.is_distance:
                try:
                    twonn = M.twonn_dimension(prepared.data)
                except ValueError:
                    pass
            return name, prepared, res.dgms, twonn, t_prep, t_ph

        t0 = time.perf_counter()
        if n_jobs == 1:
            results = [one(n) for n in names]
        else:
            with ThreadPoolExecutor(n_jobs) as pool:
                results = list(pool.map(one, names))
        self.timings["analyse_s"] = time.perf_counter() - t0
        self.timings["prepare_s_per_layer"] = {r[0]: r[4] for r in results}
        self.timings["rips_s_per_layer"] = {r[0]: r[5] for r in results}

        self.layers = names
        self.diagrams = {name: [np.asarray(d) for d in dgms] for name, _, dgms, _, _, _ in results}
        self.scales = {name: float(p.scale) for name, p, *_ in results}
        self.prep_records = {name: p.record for name, p, *_ in results}
        self.twonn = {name: tw for name, _, _, tw, _, _ in results}
        self._build_table()
        return self

    # ------------------------------------------------------------------ tables

    def _build_table(self) -> None:
        import pandas as pd

        cfg = self.config
        rows = []
        h0_norm, h0_raw = [], []
        for li, name in enumerate(self.layers):
            s = self.scales[name]
            dgms = self.diagrams[name]
            for dim, dgm in enumerate(dgms):
                summ = M.diagram_summary(dgm)
                summ["total_persistence_raw"] = summ["total_persistence"] * s
                summ["max_lifetime_raw"] = summ["max_lifetime"] * s
                for scale in cfg.scales:
                    summ[f"betti@{scale:g}"] = M.betti_number(dgm, scale)
                rows += [(name, li, dim, k, float(v)) for k, v in summ.items()]
            h0 = M.total_persistence(dgms[0])
            h0_norm.append(h0)
            h0_raw.append(h0 * s)
            layer_level = {"scale": s, "n_points": self.prep_records[name]["n_kept"]}
            if cfg.twonn:
                layer_level["twonn_dimension"] = self.twonn.get(name, float("nan"))
            rows += [(name, li, -1, k, float(v)) for k, v in layer_level.items()]
        for li, name in enumerate(self.layers):
            rows.append((name, li, -1, "expansion", h0_norm[li] / h0_norm[0] if h0_norm[0] > 0 else float("nan")))
            rows.append((name, li, -1, "expansion_raw", h0_raw[li] / h0_raw[0] if h0_raw[0] > 0 else float("nan")))
        self.table = pd.DataFrame(rows, columns=["layer", "layer_index", "dim", "metric", "value"])
        self.summary = {
            "expansion_ratio": M.expansion_ratio(h0_norm),
            "expansion_ratio_raw": M.expansion_ratio(h0_raw),
            "n_layers": len(self.layers),
        }

    def metric(self, name: str, dim: int = 0):
        """One metric across layers as a pandas Series indexed by layer (model order)."""
        t = self.table
        sub = t[(t["metric"] == name) & (t["dim"] == dim)].sort_values("layer_index")
        return sub.set_index("layer")["value"]

    def wide(self):
        """The table pivoted: one row per layer, one column per (metric, dim)."""
        t = self.table.copy()
        t["column"] = [m if d < 0 else f"{m}_H{d}" for m, d in zip(t["metric"], t["dim"])]
        w = t.pivot_table(index=["layer_index", "layer"], columns="column", values="value", sort=False)
        return w.reset_index(level=0, drop=True)

    def betti_grid(self, grid_size: Optional[int] = None) -> np.ndarray:
        """The shared Betti-curve grid: 0 to the largest finite death of all layers."""
        deaths = [d[np.isfinite(d[:, 1]), 1] for dg in self.diagrams.values() for d in dg if len(d)]
        hi = max([float(x.max()) for x in deaths if len(x)] + [1.0])
        return np.linspace(0.0, hi * 1.02, grid_size or self.config.grid_size)

    def betti_curves(self, grid: Optional[np.ndarray] = None) -> Dict[str, np.ndarray]:
        """``{layer: (maxdim + 1, len(grid)) int array}`` in normalised units."""
        grid = self.betti_grid() if grid is None else np.asarray(grid)
        return {name: np.stack([M.betti_curve(d, grid) for d in dgms]) for name, dgms in self.diagrams.items()}

    def distances_between_layers(self, dim: int = 0, metric: str = "bottleneck", **kwargs) -> np.ndarray:
        """Pairwise diagram distances between the layers (normalised units)."""
        from ..diagram_distances import diagram_distance_matrix

        return diagram_distance_matrix([self.diagrams[n][dim] for n in self.layers], metric, **kwargs)

    # ------------------------------------------------------------------ figures

    def plot_trajectories(self, path=None, metrics: Sequence[str] = ("total_persistence", "max_lifetime", "n_bars")):
        from ..plotting import plot_layer_trajectories

        return plot_layer_trajectories(self.table, metrics, path)

    def plot_diagrams(self, path=None, ncols: int = 4):
        from ..plotting import plot_diagrams

        return plot_diagrams({n: self.diagrams[n] for n in self.layers}, path, ncols)

    def plot_betti_curves(self, path=None, dim: int = 0, reference: Optional[float] = None, logy: bool = False):
        from ..plotting import plot_betti_curves

        grid = self.betti_grid()
        return plot_betti_curves(self.betti_curves(grid), grid, path, dim, reference,
                                 xlabel="scale (normalised distance)", logy=logy)

    # ------------------------------------------------------------------ save / load

    def save(self, path, figures: bool = False) -> Path:
        """Write the study to a folder (created if needed); see the module doc."""
        import toposcope

        if self.table is None:
            raise ValueError("nothing to save: run() or analyse() first")
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "config.json").write_text(json.dumps(self.config.to_dict(), indent=2))
        study = {
            "format_version": FORMAT_VERSION,
            "toposcope_version": toposcope.__version__,
            "layers": self.layers,
            "scales": self.scales,
            "prep": self.prep_records,
            "summary": {k: _json_float(v) for k, v in self.summary.items()},
            "timings": self.timings,
            "capture": self.capture_meta,
        }
        (path / "study.json").write_text(json.dumps(study, indent=2, default=_json_default))
        self.table.to_csv(path / "metrics.csv", index=False)
        arrays = {f"L{i}_H{d}": dgm for i, n in enumerate(self.layers) for d, dgm in enumerate(self.diagrams[n])}
        np.savez_compressed(path / "diagrams.npz", **arrays)
        if figures:
            self.plot_trajectories(path / "trajectories.png")
            self.plot_diagrams(path / "diagrams.png")
            self.plot_betti_curves(path / "betti_curves_H0.png", dim=0)
        return path

    @classmethod
    def load(cls, path) -> "LayerTopology":
        import pandas as pd

        path = Path(path)
        config = LayerStudyConfig.from_dict(json.loads((path / "config.json").read_text()))
        study = json.loads((path / "study.json").read_text())
        if study.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{path} was written by a newer toposcope (format {study['format_version']})")
        self = cls(config)
        self.layers = study["layers"]
        self.scales = {k: float(v) for k, v in study["scales"].items()}
        self.prep_records = study["prep"]
        self.summary = {k: _from_json_float(v) for k, v in study["summary"].items()}
        self.timings = study.get("timings", {})
        self.capture_meta = study.get("capture", {})
        with np.load(path / "diagrams.npz") as z:
            self.diagrams = {n: [z[f"L{i}_H{d}"] for d in range(config.maxdim + 1)] for i, n in enumerate(self.layers)}
        self.table = pd.read_csv(path / "metrics.csv")
        tw = self.table[self.table["metric"] == "twonn_dimension"]
        self.twonn = dict(zip(tw["layer"], tw["value"]))
        return self


def _json_default(obj):
    if isinstance(obj, (np.floating, np.integer)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, float) and math.isinf(obj):
        return str(obj)
    raise TypeError(f"cannot serialise {type(obj).__name__}")
