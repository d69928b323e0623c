"""Experiment folders: everything a per-layer topology study produced, in one
place, readable by people and by programs.

``write_experiment`` lays out::

    <root>/<name>_<YYYYmmdd-HHMMSS>/
        config.toml          the configuration used (repeat with `toposcope run --config`)
        run.json             config, data, models, versions, command line, expansion ratios
        metrics.csv/.json    tidy per-layer metrics: model, layer, layer_index, dim, metric, value
        summary.csv          one row per (model, layer) with the ToDACoMM columns
        diagrams/<model>.npz persistence diagrams (and the preprocessing record) per layer
        plots/*.png          metric trajectories, diagrams, barcodes, Betti curves, layer distances
        report.md            the report, with an interpretation section
        timings.json, log.txt  seconds per stage

It depends on numpy, and on pandas / matplotlib (the `ml` extra) for the tables
and plots; the layer-distance heat-map needs gudhi.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import platform
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

__all__ = ["LayerRecord", "ModelRecord", "Experiment", "write_experiment", "make_experiment_dir",
           "tidy_metrics", "layer_metrics", "expansion_ratios", "slug", "load_experiment"]

# The per-layer trajectories drawn and tabled, in this order.
TRAJECTORY_METRICS = [
    ("h0_total_persistence", "H0 total persistence"),
    ("h0_total_persistence_raw", "H0 total persistence (raw units)"),
    ("h1_total_persistence", "H1 total persistence"),
    ("h0_max_lifetime", "H0 max lifetime"),
    ("h1_max_lifetime", "H1 max lifetime"),
    ("h1_count", "H1 bar count"),
    ("h0_clusters", "clusters (largest H0 gap)"),
]


@dataclass
class LayerRecord:
    """One layer's result: its diagrams (normalised scale) and how they were made."""

    layer: str
    dgms: List[np.ndarray]
    n_points: int
    dim_input: int
    dim_used: Optional[int]
    scale: float
    seconds: float
    pca_explained_variance: Optional[float] = None
    extra: Dict[str, float] = field(default_factory=dict)  # other per-layer values (e.g. TwoNN dimension)


@dataclass
class ModelRecord:
    """All layers of one model (or of one stored-activation file), in depth order."""

    name: str
    layers: List[LayerRecord]
    n_classes: Optional[int] = None
    notes: List[str] = field(default_factory=list)


@dataclass
class Experiment:
    """What `write_experiment` needs besides the layer results."""

    name: str
    config: Dict[str, Any]
    config_toml: str
    data_description: str
    models: List[ModelRecord]
    timings: Dict[str, float]
    command: str = ""
    plots: bool = True


def slug(text: str) -> str:
    """A file-name-safe version of a model or layer name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def make_experiment_dir(root: str, name: str, now: Optional[_dt.datetime] = None) -> Path:
    """<root>/<name>_<timestamp>/, made unique if two runs start in the same second."""
    stamp = (now or _dt.datetime.now()).strftime("%Y%m%d-%H%M%S")
    base = Path(root) / f"{slug(name)}_{stamp}"
    path, k = base, 1
    while path.exists():
        k += 1
        path = base.with_name(f"{base.name}-{k}")
    path.mkdir(parents=True)
    return path


# --------------------------------------------------------------------------- metrics

def _cluster_count(h0: np.ndarray, max_clusters: int = 30) -> int:
    """Clusters read off the largest relative gap between consecutive H0 lifetimes.

    With finite lifetimes sorted l1 >= l2 >= ..., the k maximising l_k / l_{k+1}
    (k <= max_clusters - 1) splits the merges into "between clusters" and
    "within clusters"; the cloud then has k + 1 clusters. A heuristic, reported
    as such: it finds the scale at which beta_0 is most stable.
    """
    life = np.sort((h0[:, 1] - h0[:, 0])[np.isfinite(h0[:, 1])])[::-1]
    life = life[life > 0]
    if len(life) < 2:
        return 1
    top = life[: max_clusters]
    ratios = top[:-1] / top[1:]
    if len(life) > len(top):  # the gap after the last candidate counts too
        ratios = np.append(ratios, top[-1] / life[len(top)])
    return int(np.argmax(ratios)) + 2 if ratios.size else 1


def layer_metrics(dgms: Sequence[np.ndarray]) -> Dict[str, float]:
    """Scalar metrics of one layer: every dimension's summary plus ToDACoMM's set."""
    from . import metrics as M

    out: Dict[str, float] = {}
    for dim, dgm in enumerate(dgms):
        for key, value in M.diagram_summary(dgm).items():
            out[f"h{dim}_{key}"] = float(value)
        out[f"h{dim}_count"] = float(M.bar_count(dgm))
    out.update({k: float(v) for k, v in M.todacomm_metrics(dgms).items()})
    out["h0_clusters"] = float(_cluster_count(np.asarray(dgms[0]).reshape(-1, 2)))
    return out


def tidy_metrics(models: Sequence[ModelRecord]):
    """A pandas DataFrame with one row per (model, layer, dim, metric)."""
    import pandas as pd

    from . import metrics as M

    rows = []
    for m in models:
        for index, rec in enumerate(m.layers):
            for key, value in layer_metrics(rec.dgms).items():
                dim = int(key[1]) if re.match(r"h\d_", key) else None
                rows.append((m.name, rec.layer, index, dim, key, value))
            for key in ("n_points", "dim_input", "dim_used", "scale", "seconds", "pca_explained_variance"):
                value = getattr(rec, key)
                if value is not None:
                    rows.append((m.name, rec.layer, index, None, key, float(value)))
            # Diagrams are in normalised units; `scale` takes them back to activation units.
            rows.append((m.name, rec.layer, index, 0, "h0_total_persistence_raw",
                         M.total_persistence(rec.dgms[0]) * rec.scale))
            for key, value in rec.extra.items():
                rows.append((m.name, rec.layer, index, None, key, float(value)))
    df = pd.DataFrame(rows, columns=["model", "layer", "layer_index", "dim", "metric", "value"])
    df["dim"] = df["dim"].astype("Int64")
    return df


def _wide(tidy):
    """One row per (model, layer), one column per metric."""
    wide = tidy.pivot_table(index=["model", "layer_index", "layer"], columns="metric", values="value",
                            aggfunc="first").reset_index()
    wide.columns.name = None
    return wide.sort_values(["model", "layer_index"], kind="stable").reset_index(drop=True)


def expansion_ratios(models: Sequence[ModelRecord]) -> Dict[str, Dict[str, Any]]:
    """Per model: ToDACoMM's expansion ratio (peak H0 total persistence over the
    first layer's) on the normalised diagrams and in raw activation units."""
    from . import metrics as M

    out = {}
    for m in models:
        h0 = [M.total_persistence(rec.dgms[0]) for rec in m.layers]
        if not h0:
            continue
        h0_raw = [v * rec.scale for v, rec in zip(h0, m.layers)]
        peak, peak_raw = int(np.argmax(h0)), int(np.argmax(h0_raw))
        out[m.name] = {"expansion_ratio": M.expansion_ratio(h0), "peak_layer": m.layers[peak].layer,
                       "expansion_ratio_raw": M.expansion_ratio(h0_raw),
                       "peak_layer_raw": m.layers[peak_raw].layer, "first_layer": m.layers[0].layer}
    return out


# --------------------------------------------------------------------------- files

def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if not np.isfinite(o) else float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def _clean(o):
    """inf/nan -> strings JSON can hold (json.dump would write invalid Infinity)."""
    if isinstance(o, float) and not math.isfinite(o):
        return "inf" if o > 0 else ("-inf" if o < 0 else "nan")
    if isinstance(o, dict):
        return {k: _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    return o


def _dump_json(path: Path, obj) -> None:
    path.write_text(json.dumps(_clean(obj), indent=1, default=_json_default) + "\n", encoding="utf-8")


def save_diagrams(folder: Path, model: ModelRecord) -> Path:
    """diagrams/<model>.npz: L<index>_H<dim> arrays, layer names and scales."""
    arrays = {}
    for index, rec in enumerate(model.layers):
        for dim, dgm in enumerate(rec.dgms):
            arrays[f"L{index:02d}_H{dim}"] = np.asarray(dgm, dtype=np.float64)
    path = folder / f"{slug(model.name)}.npz"
    np.savez_compressed(path, layers=np.array([r.layer for r in model.layers]),
                        scales=np.array([r.scale for r in model.layers]), **arrays)
    return path


def load_experiment(folder) -> Dict[str, Any]:
    """run.json, the tidy metrics and the diagrams of an experiment folder."""
    import pandas as pd

    folder = Path(folder)
    run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    tidy = pd.read_csv(folder / "metrics.csv")
    diagrams = {}
    for path in sorted((folder / "diagrams").glob("*.npz")):
        with np.load(path) as z:
            layers = [str(x) for x in z["layers"]]
            per_layer = []
            for i in range(len(layers)):
                dims = sorted(int(k.split("_H")[1]) for k in z.files if k.startswith(f"L{i:02d}_H"))
                per_layer.append([z[f"L{i:02d}_H{d}"] for d in dims])
            diagrams[path.stem] = (layers, per_layer)
    return {"run": run, "metrics": tidy, "diagrams": diagrams, "folder": folder}


# --------------------------------------------------------------------------- plots

def _save_figure(fig, path: Path, title: str) -> Path:
    """Title, lay out, write as PNG and free the figure (every plot here ends so)."""
    import matplotlib.pyplot as plt

    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _short(layer: str, width: int = 12) -> str:
    return layer if len(layer) <= width else "…" + layer[-(width - 1):]


def plot_trajectories(wide, path: Path, title: str = "per-layer topology") -> Path:
    """Grid of per-layer metric curves, one line per model."""
    plt = _plt()
    metrics = [(k, label) for k, label in TRAJECTORY_METRICS if k in wide.columns]
    cols = 4
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for ax, (key, label) in zip(axes.flat, metrics):
        for model, group in wide.groupby("model", sort=False):
            ax.plot(group["layer_index"], group[key], marker="o", label=model)
            ax.set_xticks(group["layer_index"])
            if wide["model"].nunique() == 1:
                ax.set_xticklabels([_short(s) for s in group["layer"]], rotation=35, ha="right", fontsize=8)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("layer" if wide["model"].nunique() == 1 else "layer index")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=8)
    return _save_figure(fig, path, title)


def _finite_max(dgms_per_layer) -> float:
    vals = [d[np.isfinite(d)].max() for dg in dgms_per_layer for d in dg if np.isfinite(d).any()]
    return float(max(vals)) if vals else 1.0


def plot_diagrams(model: ModelRecord, path: Path) -> Path:
    """Persistence diagram per layer (H0, H1, ... overlaid), essential bars on a top line."""
    plt = _plt()
    n = len(model.layers)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    top = _finite_max([r.dgms for r in model.layers]) * 1.05
    inf_line = top * 1.04
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.3 * rows), squeeze=False)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, rec in zip(axes.flat, model.layers):
        for dim, dgm in enumerate(rec.dgms):
            d = np.asarray(dgm).reshape(-1, 2)
            fin = np.isfinite(d[:, 1])
            ax.scatter(d[fin, 0], d[fin, 1], s=9, alpha=0.7, color=colors[dim % len(colors)],
                       label=f"H{dim} ({len(d)})")
            if (~fin).any():
                ax.scatter(d[~fin, 0], np.full((~fin).sum(), inf_line), marker="^", s=22,
                           color=colors[dim % len(colors)])
        ax.plot([0, top], [0, top], color="0.5", lw=0.8)
        ax.axhline(inf_line, color="0.7", lw=0.6, ls="--")
        ax.set_xlim(-0.02 * top, top)
        ax.set_ylim(-0.02 * top, inf_line * 1.04)
        ax.set_title(rec.layer, fontsize=9)
        ax.set_xlabel("birth", fontsize=8)
        ax.set_ylabel("death", fontsize=8)
        ax.legend(fontsize=7, loc="lower right")
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return _save_figure(fig, path, f"{model.name}: persistence diagrams (distances in normalised units; ▲ = never dies)")


def plot_barcodes(model: ModelRecord, path: Path, dim: int = 1, top: int = 40) -> Path:
    """The `top` longest bars of dimension `dim` in each layer."""
    plt = _plt()
    n = len(model.layers)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    xmax = _finite_max([r.dgms for r in model.layers]) * 1.05
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols, 3.0 * rows), squeeze=False)
    for ax, rec in zip(axes.flat, model.layers):
        d = np.asarray(rec.dgms[dim] if dim < len(rec.dgms) else np.zeros((0, 2))).reshape(-1, 2)
        life = np.where(np.isfinite(d[:, 1]), d[:, 1] - d[:, 0], np.inf)
        order = np.argsort(-life, kind="stable")[:top]
        for y, i in enumerate(order):
            b, e = d[i]
            ax.hlines(y, b, e if np.isfinite(e) else xmax, color="C1" if dim else "C0", lw=1.6)
        ax.set_xlim(0, xmax)
        ax.set_ylim(-1, max(len(order), 1))
        ax.invert_yaxis()
        ax.set_yticks([])
        shown = f"longest {len(order)} of {len(d)}" if len(d) > top else f"{len(d)} bars"
        ax.set_title(f"{rec.layer}  ({shown})", fontsize=9)
        ax.set_xlabel("filtration value", fontsize=8)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    return _save_figure(fig, path, f"{model.name}: H{dim} barcodes")


def plot_betti_curves(model: ModelRecord, path: Path, samples: int = 200) -> Path:
    """Betti-k curves of every layer on one shared grid of scales, one panel per dimension."""
    from . import metrics as M

    plt = _plt()
    maxdim = max(len(r.dgms) for r in model.layers) - 1
    grid = np.linspace(0, _finite_max([r.dgms for r in model.layers]) * 1.02, samples)
    fig, axes = plt.subplots(1, maxdim + 1, figsize=(5.0 * (maxdim + 1), 3.6), squeeze=False)
    cmap = plt.get_cmap("viridis")
    for dim in range(maxdim + 1):
        ax = axes[0, dim]
        for index, rec in enumerate(model.layers):
            if dim < len(rec.dgms):
                curve = M.betti_curve(rec.dgms[dim], grid)
                ax.plot(grid, curve, color=cmap(index / max(1, len(model.layers) - 1)), label=rec.layer, lw=1.3)
        ax.set_title(f"Betti {dim}", fontsize=10)
        ax.set_xlabel("scale (normalised)")
        ax.grid(alpha=0.3)
        if dim == 0:
            ax.set_yscale("log")
    axes[0, -1].legend(fontsize=7, title="layer", title_fontsize=8)
    return _save_figure(fig, path, f"{model.name}: Betti curves (darker = earlier layer)")


def layer_distance_matrices(model: ModelRecord) -> Dict[int, np.ndarray]:
    """Bottleneck distances between the layers' diagrams, per dimension (needs gudhi)."""
    from .diagram_distances import diagram_distance_matrix

    maxdim = min(len(r.dgms) for r in model.layers) - 1
    return {dim: diagram_distance_matrix([r.dgms[dim] for r in model.layers], metric="bottleneck")
            for dim in range(maxdim + 1)}


def plot_layer_distances(model: ModelRecord, matrices: Dict[int, np.ndarray], path: Path) -> Path:
    plt = _plt()
    names = [_short(r.layer) for r in model.layers]
    fig, axes = plt.subplots(1, len(matrices), figsize=(4.8 * len(matrices), 4.2), squeeze=False)
    for ax, (dim, D) in zip(axes[0], matrices.items()):
        im = ax.imshow(D, cmap="magma_r")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(len(names)))
        ax.set_yticklabels(names, fontsize=8)
        if len(names) <= 10:
            for i in range(len(names)):
                for j in range(len(names)):
                    ax.text(j, i, f"{D[i, j]:.2f}", ha="center", va="center", fontsize=7,
                            color="white" if D[i, j] > 0.6 * D.max() else "black")
        ax.set_title(f"H{dim} bottleneck distance")
        fig.colorbar(im, ax=ax, shrink=0.8)
    return _save_figure(fig, path, f"{model.name}: distances between layers' diagrams")


# --------------------------------------------------------------------------- report

def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, float):
        if math.isinf(v):
            return "inf"
        if v == int(v) and abs(v) < 1e6:
            return str(int(v))
        return f"{v:.4g}"
    return str(v)


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_fmt(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def interpretation(models: Sequence[ModelRecord], wide, ratios: Dict[str, Dict[str, Any]],
                   config: Dict[str, Any]) -> List[str]:
    """Plain statements read off the numbers, then what they cannot show."""
    out = []
    for m in models:
        rows = wide[wide["model"] == m.name].sort_values("layer_index")
        if rows.empty:
            continue
        first, last = rows.iloc[0], rows.iloc[-1]
        r = ratios.get(m.name, {})
        out.append(f"**{m.name}**")
        flat = [r["layer"] for _, r in rows.iterrows() if r.get("h0_total_persistence", 1.0) == 0]
        if flat:
            out.append(f"- All samples coincide at {', '.join(f'`{x}`' for x in flat)}: that layer maps every "
                       "input to the same vector (for example the [CLS] position of an embedding layer), so its "
                       "topology is trivial and a ratio against it is undefined. Choose another --pool.")
        if r and math.isfinite(r["expansion_ratio"]):
            out.append(f"- H0 total persistence peaks at layer `{r['peak_layer']}`; the expansion ratio "
                       f"(peak over the first layer `{r['first_layer']}`) is {_fmt(r['expansion_ratio'])}. "
                       + ("A ratio above 1 means some layer spreads the samples further apart, relative to "
                          "its own scale, than the first layer does." if r["expansion_ratio"] > 1 else
                          "No layer spreads the samples further apart than the first layer does.")
                       + f" In raw units the ratio is {_fmt(r['expansion_ratio_raw'])} (peak at "
                         f"`{r['peak_layer_raw']}`): that one also moves with the size of the activations.")
        if "h1_count" in rows:
            trend = "falls" if last["h1_count"] < first["h1_count"] else (
                "rises" if last["h1_count"] > first["h1_count"] else "stays")
            out.append(f"- The number of H1 bars {trend} from {_fmt(first['h1_count'])} at `{first['layer']}` "
                       f"to {_fmt(last['h1_count'])} at `{last['layer']}`; the longest H1 bar goes from "
                       f"{_fmt(first.get('h1_max_lifetime'))} to {_fmt(last.get('h1_max_lifetime'))} "
                       "(normalised units). Most H1 bars are short: loops formed and filled at nearly the "
                       "same scale, which sampling noise produces too.")
        if "h0_clusters" in rows:
            k_first, k_last = int(first["h0_clusters"]), int(last["h0_clusters"])
            line = (f"- The largest gap between H0 lifetimes splits `{first['layer']}` into {k_first} "
                    f"cluster(s) and `{last['layer']}` into {k_last}.")
            if m.n_classes:
                line += (f" The data has {m.n_classes} classes; " +
                         ("the last layer's β0 matches it, as expected of a trained classifier "
                          "(Naitzat et al. 2020)." if k_last == m.n_classes else
                          "the last layer's count differs from it."))
            out.append(line)
        out.append("")
    out.append("**What these numbers do not show**")
    normalize = config.get("normalize", "quantile")
    out += [
        f"- Distances were {'divided by the ' + ('0.9 quantile' if normalize == 'quantile' else normalize) + ' of pairwise distances in each layer' if normalize not in (None, 'none') else 'not normalised'}"
        ", so the trajectories compare shapes, not activation magnitudes"
        + ("" if normalize not in (None, "none") else "; raw magnitudes grow with depth in many networks and "
           "dominate the totals") + ".",
        "- Total persistence grows with the number of samples (H0 adds one bar per point): compare runs "
        "only at the same `samples`, `pca` and `normalize`.",
        f"- {'PCA to ' + str(config.get('pca')) + ' components' if config.get('pca') else 'No PCA was applied'}"
        "; a PCA drops the variance outside its components and can remove small loops.",
        "- One seed, one sample: there are no confidence intervals here. Re-run with other `--seed` values "
        "(and `toposcope compare`) before reading much into small differences.",
        "- Topology describes the geometry of the sampled activations; it does not say which features a layer "
        "computes, nor that a layer causes a change in accuracy.",
    ]
    return out


def write_report(folder: Path, exp: Experiment, wide, ratios, plots: Dict[str, List[str]],
                 notes: List[str]) -> Path:
    lines = [f"# toposcope experiment `{folder.name}`", ""]
    lines.append(f"Created {_dt.datetime.now().isoformat(timespec='seconds')} with toposcope "
                 f"{_version()} on Python {platform.python_version()} ({platform.machine()}).")
    if exp.command:
        lines += ["", "```", exp.command, "```"]
    cfg = exp.config
    lines += ["", "## Setup", "",
              f"- data: {exp.data_description}",
              f"- samples per layer: {cfg.get('samples')}, pooling: {cfg.get('pool')}, "
              f"PCA: {cfg.get('pca') or 'off'}, standardise: {cfg.get('standardize')}, "
              f"normalise: {cfg.get('normalize')}, metric: {cfg.get('metric')}",
              f"- homology up to H{cfg.get('maxdim')}, coefficients Z/{cfg.get('coeff')}, threshold "
              f"{_fmt(float(cfg.get('threshold', math.inf)))}, "
              + ("exact" if not cfg.get("approximate") else f"approximate (1+{cfg.get('approximate')})"),
              f"- seed {cfg.get('seed')}; the full configuration is in `config.toml`"]
    for m in exp.models:
        for note in m.notes:
            lines.append(f"- {m.name}: {note}")
    lines += ["", "## Per-layer metrics", ""]
    show = ["n_points", "dim_used", "h0_total_persistence", "h0_max_lifetime", "h1_count",
            "h1_total_persistence", "h1_max_lifetime", "h0_clusters", "seconds"]
    show = [c for c in show if c in wide.columns]
    for m in exp.models:
        rows = wide[wide["model"] == m.name]
        lines += [f"### {m.name}", ""]
        lines.append(_markdown_table(["layer"] + show, [[r["layer"]] + [r[c] for c in show]
                                                        for _, r in rows.iterrows()]))
        if m.name in ratios:
            r = ratios[m.name]
            lines += ["", f"Expansion ratio: **{_fmt(r['expansion_ratio'])}** on normalised distances (peak at "
                          f"`{r['peak_layer']}`), **{_fmt(r['expansion_ratio_raw'])}** in raw activation units "
                          f"(ToDACoMM's definition; peak at `{r['peak_layer_raw']}`)."]
        lines.append("")
    lines += ["Columns: `n_points` samples in the cloud; `dim_used` its dimension after PCA; "
              "`h0_total_persistence` the sum of finite H0 lifetimes; `h1_count` the number of H1 bars; "
              "`h0_clusters` the clusters read off the largest gap between H0 lifetimes; `seconds` the "
              "persistence time. Every metric of every dimension is in `metrics.csv`.", ""]
    if plots:
        lines += ["## Figures", ""]
        for title, files in plots.items():
            for f in files:
                lines += [f"![{title}]({f})", ""]
    lines += ["## Interpretation", ""] + interpretation(exp.models, wide, ratios, exp.config) + [""]
    if notes:
        lines += ["## Notes", ""] + [f"- {n}" for n in notes] + [""]
    lines += ["## Timings", "", _markdown_table(["stage", "seconds"],
                                                [[k, round(v, 3)] for k, v in exp.timings.items()]), ""]
    path = folder / "report.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def _version() -> str:
    try:
        from . import __version__
        return __version__
    except ImportError:  # pragma: no cover
        return "?"


def write_experiment(folder: Path, exp: Experiment, log=None) -> Path:
    """Write every file of the experiment into `folder` (made by make_experiment_dir)."""
    import time

    folder = Path(folder)
    timings = exp.timings
    notes: List[str] = []

    def stage(name):
        class _T:
            def __enter__(self):
                self.t = time.perf_counter()

            def __exit__(self, *a):
                timings[name] = timings.get(name, 0.0) + time.perf_counter() - self.t
        return _T()

    import pandas as pd

    with stage("write tables and diagrams"):
        (folder / "config.toml").write_text(exp.config_toml, encoding="utf-8")
        tidy = tidy_metrics(exp.models)
        tidy.to_csv(folder / "metrics.csv", index=False)
        _dump_json(folder / "metrics.json", [
            {"model": r.model, "layer": r.layer, "layer_index": int(r.layer_index),
             "dim": None if pd.isna(r.dim) else int(r.dim), "metric": r.metric,
             "value": float(r.value)}
            for r in tidy.astype(object).itertuples(index=False)])
        wide = _wide(tidy)
        wide.to_csv(folder / "summary.csv", index=False)
        ratios = expansion_ratios(exp.models)
        (folder / "diagrams").mkdir(exist_ok=True)
        for m in exp.models:
            save_diagrams(folder / "diagrams", m)

    plots: Dict[str, List[str]] = {}
    if exp.plots:
        with stage("plots"):
            try:
                _plt()
            except ImportError:
                notes.append("matplotlib is not installed, so no plots were drawn (pip install 'toposcope[ml]').")
            else:
                (folder / "plots").mkdir(exist_ok=True)
                plot_trajectories(wide, folder / "plots" / "trajectories.png")
                plots["per-layer metric trajectories"] = ["plots/trajectories.png"]
                if len(exp.models) > 1:  # each model again, with its layer names on the axis
                    for m in exp.models:
                        path = folder / "plots" / f"trajectories_{slug(m.name)}.png"
                        plot_trajectories(wide[wide["model"] == m.name], path, title=f"{m.name}: per-layer topology")
                        plots["per-layer metric trajectories"].append(str(path.relative_to(folder)))
                for m in exp.models:
                    s = slug(m.name)
                    plots.setdefault("persistence diagrams", []).append(
                        str(plot_diagrams(m, folder / "plots" / f"diagrams_{s}.png").relative_to(folder)))
                    plots.setdefault("H1 barcodes", []).append(
                        str(plot_barcodes(m, folder / "plots" / f"barcodes_{s}.png").relative_to(folder)))
                    plots.setdefault("Betti curves", []).append(
                        str(plot_betti_curves(m, folder / "plots" / f"betti_curves_{s}.png").relative_to(folder)))
                    if len(m.layers) < 2:
                        continue
                    try:
                        matrices = layer_distance_matrices(m)
                    except ImportError:
                        notes.append("gudhi is not installed, so the layer-distance heat-map was skipped "
                                     "(pip install gudhi).")
                        continue
                    _dump_json(folder / f"layer_distances_{s}.json",
                               {"layers": [r.layer for r in m.layers],
                                **{f"H{d}_bottleneck": D for d, D in matrices.items()}})
                    plots.setdefault("layer-distance heat-maps", []).append(
                        str(plot_layer_distances(m, matrices, folder / "plots" / f"layer_distances_{s}.png")
                            .relative_to(folder)))

    notes = list(dict.fromkeys(notes))  # one note per missing package, not one per model
    with stage("report"):
        _dump_json(folder / "run.json", {
            "name": exp.name, "folder": str(folder), "command": exp.command, "config": exp.config,
            "data": exp.data_description, "toposcope": _version(), "python": sys.version.split()[0],
            "platform": platform.platform(),
            "models": [{"name": m.name, "layers": [r.layer for r in m.layers], "n_classes": m.n_classes,
                        "notes": m.notes} for m in exp.models],
            "expansion_ratios": ratios, "notes": notes})
        write_report(folder, exp, wide, ratios, plots, notes)
    _dump_json(folder / "timings.json", timings)
    with open(folder / "log.txt", "w", encoding="utf-8") as fh:
        fh.write(f"{folder.name}\n")
        for k, v in timings.items():
            fh.write(f"{v:10.3f} s  {k}\n")
        fh.write(f"{sum(timings.values()):10.3f} s  total\n")
    return folder
