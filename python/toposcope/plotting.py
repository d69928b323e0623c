"""Figures for layer studies, drawn with matplotlib's object API on an Agg
canvas (no pyplot state is touched, so this works headless and inside
notebooks alike). Each function returns the ``Figure`` and writes a PNG when
``path`` is given.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence

import numpy as np

__all__ = ["new_figure", "plot_diagram", "plot_diagrams", "plot_layer_trajectories", "plot_betti_curves", "save_figure"]

_DIM_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red"]


def new_figure(nrows: int = 1, ncols: int = 1, size=(5.0, 4.0)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def save_figure(fig, path, dpi: int = 120) -> None:
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=dpi)


def plot_diagram(dgms: Sequence[np.ndarray], ax, title: str = "") -> None:
    """Birth-death scatter of every dimension; infinite deaths on a dashed line at the top."""
    finite = [d[np.isfinite(d[:, 1])] for d in dgms if len(d)]
    hi = max([float(d.max()) for d in finite if len(d)] + [1e-12])
    top = hi * 1.08
    for dim, d in enumerate(dgms):
        if len(d) == 0:
            continue
        inf = ~np.isfinite(d[:, 1])
        ax.scatter(d[~inf, 0], d[~inf, 1], s=10, alpha=0.7, color=_DIM_COLOURS[dim % 4], label=f"H{dim} ({len(d)})")
        if inf.any():
            ax.scatter(d[inf, 0], np.full(inf.sum(), top), s=18, marker="^", color=_DIM_COLOURS[dim % 4])
    ax.plot([0, top], [0, top], color="grey", lw=0.8)
    ax.axhline(top, color="grey", lw=0.6, ls="--")
    ax.set_xlabel("birth")
    ax.set_ylabel("death")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, loc="lower right")


def plot_diagrams(diagrams: Mapping[str, Sequence[np.ndarray]], path=None, ncols: int = 4):
    """One persistence diagram per layer, in a grid."""
    names = list(diagrams)
    nrows = max(1, int(np.ceil(len(names) / ncols)))
    fig, axes = new_figure(nrows, min(ncols, max(1, len(names))), size=(3.2, 3.0))
    flat = axes.ravel()
    for ax, name in zip(flat, names):
        plot_diagram(diagrams[name], ax, title=name)
    for ax in flat[len(names):]:
        ax.set_visible(False)
    save_figure(fig, path)
    return fig


def plot_layer_trajectories(table, metrics: Sequence[str], path=None, dims: Optional[Sequence[int]] = None,
                            title: str = ""):
    """Each metric across the layers (x: layer order), one line per homology dimension."""
    fig, axes = new_figure(1, len(metrics), size=(4.2, 3.2))
    layers = list(dict.fromkeys(table.sort_values("layer_index")["layer"]))
    x = np.arange(len(layers))
    for ax, metric in zip(axes[0], metrics):
        sub = table[table["metric"] == metric]
        for dim in sorted(sub["dim"].unique()):
            if dims is not None and dim not in dims and dim >= 0:
                continue
            rows = sub[sub["dim"] == dim].set_index("layer").reindex(layers)
            label = f"H{dim}" if dim >= 0 else metric
            ax.plot(x, rows["value"].to_numpy(dtype=float), marker="o", label=label,
                    color=_DIM_COLOURS[dim % 4] if dim >= 0 else "black")
        ax.set_xticks(x, layers, rotation=45, ha="right", fontsize=7)
        ax.set_title(metric, fontsize=9)
        ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    save_figure(fig, path)
    return fig


def plot_betti_curves(curves: Mapping[str, np.ndarray], grid: np.ndarray, path=None, dim: int = 0,
                      reference: Optional[float] = None, xlabel: str = "scale", logy: bool = False):
    """Betti curves of one dimension for each layer (``curves[layer]`` is a
    (maxdim + 1, len(grid)) array); ``reference`` draws a horizontal line
    (e.g. the number of classes)."""
    fig, axes = new_figure(1, 1, size=(6.0, 4.0))
    ax = axes[0, 0]
    cmap = __import__("matplotlib").colormaps["viridis"]
    names = list(curves)
    for i, name in enumerate(names):
        ax.step(grid, curves[name][dim], where="post", label=name, color=cmap(i / max(1, len(names) - 1)))
    if reference is not None:
        ax.axhline(reference, color="red", ls="--", lw=0.8, label=f"{reference:g}")
    if logy:
        ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(f"beta_{dim}")
    ax.legend(fontsize=7)
    save_figure(fig, path)
    return fig
