"""`toposcope compare RUN...`: meta-analysis of earlier experiment folders.

Writes <output-dir>/compare_<timestamp>/ with:
  compare.md         the tables below, with the figure
  expansion.csv      one row per (run, model): expansion ratio, where H0 peaks, H1 counts
  trajectories.csv   every (run, model, layer) with its relative depth and ToDACoMM metrics
  correlations.csv   Spearman correlations between the metrics over all layers of all runs
  similarity.csv     Pearson correlation between runs' H0 trajectories (on a common depth grid)
  trajectories.png   the per-layer trajectories side by side (x: relative depth 0..1)
"""
from __future__ import annotations

import argparse
import glob
import json
import math
from pathlib import Path
from typing import List

import numpy as np

from ._common import CLIError, HelpFormatter, UsageError, common_options, require, say

METRICS = ["h0_total_persistence", "h0_total_persistence_raw", "h1_total_persistence", "h0_max_lifetime", "h1_max_lifetime", "h1_count",
           "twonn_dimension"]


def register(subparsers) -> None:
    p = subparsers.add_parser("compare", parents=[common_options()], formatter_class=HelpFormatter,
                              help="compare earlier runs side by side",
                              description=__doc__.split("\n\n", 1)[1],
                              epilog="example:\n  toposcope compare experiments/seed0_* experiments/seed1_*")
    p.add_argument("runs", nargs="+", metavar="RUN",
                   help="experiment folders (with run.json), or a folder holding several")
    p.add_argument("--output", metavar="NAME", default="compare", help="name of the comparison folder")
    p.add_argument("--output-dir", metavar="DIR", default="experiments", help="where to write it")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG")
    p.set_defaults(func=run_compare)


def find_runs(paths: List[str]) -> List[Path]:
    """Experiment folders named, or found one level below a named folder."""
    found: List[Path] = []
    for raw in paths:
        matches = glob.glob(raw) or [raw]
        for m in matches:
            p = Path(m)
            if not p.exists():
                raise CLIError(f"run folder not found: {m}")
            if (p / "run.json").is_file():
                found.append(p)
            elif p.is_dir():
                inner = sorted(q.parent for q in p.glob("*/run.json"))
                if not inner:
                    raise CLIError(f"{m} is not an experiment folder (no run.json) and holds none")
                found.extend(inner)
            else:
                raise CLIError(f"{m} is not an experiment folder")
    unique = list(dict.fromkeys(p.resolve() for p in found))
    if len(unique) < 1:
        raise UsageError("no runs to compare")
    return unique


def _label(folder: Path, model: str, n_models: int) -> str:
    return folder.name if n_models == 1 else f"{folder.name}/{model}"


def collect(runs: List[Path]):
    """Wide per-layer table over all runs and models, and the run-level table."""
    import pandas as pd

    rows, levels = [], []
    for folder in runs:
        tidy = pd.read_csv(folder / "summary.csv")
        run = json.loads((folder / "run.json").read_text(encoding="utf-8"))
        models = list(dict.fromkeys(tidy["model"]))
        for model in models:
            sub = tidy[tidy["model"] == model].sort_values("layer_index")
            n = len(sub)
            label = _label(folder, model, len(models))
            for _, r in sub.iterrows():
                row = {"run": label, "folder": str(folder), "model": model, "layer": r["layer"],
                       "layer_index": int(r["layer_index"]),
                       "depth": r["layer_index"] / (n - 1) if n > 1 else 0.0}
                row.update({m: r[m] for m in METRICS if m in sub.columns})
                rows.append(row)
            ratio = run.get("expansion_ratios", {}).get(model, {})
            cfg = run.get("config", {})
            levels.append({"run": label, "model": model, "layers": n, "samples": cfg.get("samples"),
                           "seed": cfg.get("seed"), "pca": cfg.get("pca"), "normalize": cfg.get("normalize"),
                           "expansion_ratio": ratio.get("expansion_ratio"), "h0_peak": ratio.get("peak_layer"),
                           "expansion_ratio_raw": ratio.get("expansion_ratio_raw"),
                           "h0_peak_raw": ratio.get("peak_layer_raw"),
                           "h1_count_first": sub["h1_count"].iloc[0] if "h1_count" in sub else None,
                           "h1_count_last": sub["h1_count"].iloc[-1] if "h1_count" in sub else None})
    return pd.DataFrame(rows), pd.DataFrame(levels)


def trajectory_similarity(layers, metric: str = "h0_total_persistence", grid_size: int = 21):
    """Pearson correlation between runs' trajectories, interpolated on relative depth."""
    import pandas as pd

    grid = np.linspace(0, 1, grid_size)
    curves = {}
    for run, sub in layers.groupby("run", sort=False):
        if metric in sub and len(sub) > 1:
            curves[run] = np.interp(grid, sub["depth"].to_numpy(float), sub[metric].to_numpy(float))
    names = list(curves)
    M = np.full((len(names), len(names)), np.nan)
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if np.std(curves[a]) > 0 and np.std(curves[b]) > 0:
                M[i, j] = float(np.corrcoef(curves[a], curves[b])[0, 1])
    return pd.DataFrame(M, index=names, columns=names)


def plot(layers, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    metrics = [m for m in METRICS if m in layers.columns and layers[m].notna().any()]
    cols = 3
    rows = math.ceil(len(metrics) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.4 * rows), squeeze=False)
    for ax, metric in zip(axes.flat, metrics):
        for run, sub in layers.groupby("run", sort=False):
            ax.plot(sub["depth"], sub[metric], marker="o", ms=3, label=run)
        ax.set_title(metric.replace("_", " "), fontsize=10)
        ax.set_xlabel("relative depth (first layer 0, last 1)")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(3, len(labels)), fontsize=8)
    fig.suptitle("per-layer trajectories of the compared runs")
    fig.tight_layout(rect=(0, 0.04 + 0.025 * math.ceil(len(labels) / 3), 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _md(df, index: str = "") -> str:
    """A Markdown table; `index` names the column made of the index (if wanted)."""
    df = df.rename_axis(index).reset_index() if index else df

    def fmt(v):
        if isinstance(v, float):
            return "–" if math.isnan(v) else f"{v:.4g}"
        return str(v)
    lines = ["| " + " | ".join(str(c) for c in df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(fmt(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def run_compare(args: argparse.Namespace) -> int:
    require("pandas", "toposcope compare")
    from toposcope.reports import make_experiment_dir

    runs = find_runs(args.runs)
    layers, levels = collect(runs)
    present = [m for m in METRICS if m in layers.columns]
    corr = layers[present].astype(float).corr(method="spearman") if len(layers) > 2 else None
    sim = trajectory_similarity(layers)

    out = make_experiment_dir(args.output_dir, args.output)
    levels.to_csv(out / "expansion.csv", index=False)
    layers.to_csv(out / "trajectories.csv", index=False)
    if corr is not None:
        corr.to_csv(out / "correlations.csv")
    sim.to_csv(out / "similarity.csv")
    figure = None
    if not args.no_plots:
        try:
            figure = plot(layers, out / "trajectories.png")
        except ImportError:
            say(args, "matplotlib is missing: no figure (pip install 'toposcope[ml]')")

    md = [f"# toposcope comparison of {len(runs)} run(s)", "", "Runs: " + ", ".join(f"`{r}`" for r in runs), "",
          "## Expansion ratios", "", _md(levels), ""]
    if figure is not None:
        md += ["## Trajectories", "", "![trajectories](trajectories.png)", ""]
    if corr is not None:
        md += ["## Correlations between metrics (Spearman, all layers of all runs)", "", _md(corr.round(3), "metric"), ""]
    md += ["## Similarity of H0 total-persistence trajectories (Pearson, on relative depth)", "",
           _md(sim.round(3), "run"), "",
           "Correlations over a handful of layers are noisy; runs that differ in `samples`, `pca` or `normalize` "
           "are not comparable in absolute values (the table above lists them).", ""]
    (out / "compare.md").write_text("\n".join(md), encoding="utf-8")

    show = levels[["run", "layers", "samples", "expansion_ratio", "expansion_ratio_raw", "h1_count_first",
                   "h1_count_last"]]
    print(show.to_string(index=False))
    print(f"comparison: {out / 'compare.md'}")
    return 0
