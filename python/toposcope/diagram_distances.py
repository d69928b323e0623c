"""Distances between persistence diagrams, computed by gudhi (hera / POT).

Conventions (chosen here, exposed as parameters)
------------------------------------------------
* ``bottleneck``: the sup-norm matching distance (gudhi's
  ``bottleneck_distance``, exact with ``e=0``); points may be matched to the
  diagonal.
* ``wasserstein``: order ``order`` (p, default 1) with the ground metric
  ``internal_p`` (default ``inf``: the L-infinity distance between points, the
  same ground metric as the bottleneck distance and as gudhi/hera). persim's
  ``wasserstein`` uses order 1 with a Euclidean ground metric: pass
  ``internal_p=2`` to reproduce it.
* infinite bars (``infinite=``): ``"drop"`` (default) ignores bars of infinite
  death; ``"cap"`` replaces their death by ``cap`` (e.g. the threshold) and
  treats them as ordinary points; ``"match"`` keeps them and matches essential
  bars only among themselves (by birth): the distance is ``inf`` when the two
  diagrams have different numbers of essential bars.
"""
from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from .metrics import finite_bars

__all__ = ["bottleneck", "wasserstein", "diagram_distance_matrix"]


def _prepare(dgm, infinite: str, cap: Optional[float]) -> np.ndarray:
    d = np.asarray(dgm, dtype=np.float64).reshape(-1, 2)
    if infinite == "match":
        return d
    return finite_bars(d, infinite, cap)


def _essential_cost(d1: np.ndarray, d2: np.ndarray, order: float) -> float:
    """Cost of matching the essential bars (sorted births), for ``infinite='match'``."""
    e1 = np.sort(d1[~np.isfinite(d1[:, 1]), 0])
    e2 = np.sort(d2[~np.isfinite(d2[:, 1]), 0])
    if len(e1) != len(e2):
        return float("inf")
    diff = np.abs(e1 - e2)
    if len(diff) == 0:
        return 0.0
    return float(diff.max()) if np.isinf(order) else float(np.sum(diff ** order))


def bottleneck(dgm1, dgm2, infinite: str = "drop", cap: Optional[float] = None, e: float = 0.0) -> float:
    """Bottleneck distance between two diagrams of one dimension.

    ``e > 0`` allows gudhi's faster (1 + e)-approximation; 0 is exact.
    """
    import gudhi

    if infinite not in ("drop", "cap", "match"):
        raise ValueError(f"infinite must be 'drop', 'cap' or 'match', got {infinite!r}")
    d1, d2 = _prepare(dgm1, infinite, cap), _prepare(dgm2, infinite, cap)
    if infinite == "match":
        ess = _essential_cost(d1, d2, np.inf)
        f1, f2 = d1[np.isfinite(d1[:, 1])], d2[np.isfinite(d2[:, 1])]
        return max(ess, float(gudhi.bottleneck_distance(f1, f2, e)))
    return float(gudhi.bottleneck_distance(d1, d2, e))


def wasserstein(dgm1, dgm2, order: float = 1.0, internal_p: float = np.inf, infinite: str = "drop",
                cap: Optional[float] = None) -> float:
    """p-Wasserstein distance (``order`` = p) with ground metric L^``internal_p``.

    Computed exactly by optimal transport (gudhi.wasserstein on POT).
    """
    from gudhi.wasserstein import wasserstein_distance

    if infinite not in ("drop", "cap", "match"):
        raise ValueError(f"infinite must be 'drop', 'cap' or 'match', got {infinite!r}")
    if order < 1:
        raise ValueError(f"order must be >= 1, got {order}")
    d1, d2 = _prepare(dgm1, infinite, cap), _prepare(dgm2, infinite, cap)
    if infinite == "match":
        ess = _essential_cost(d1, d2, order)
        if np.isinf(ess):
            return ess
        f1, f2 = d1[np.isfinite(d1[:, 1])], d2[np.isfinite(d2[:, 1])]
        fin = float(wasserstein_distance(f1, f2, order=order, internal_p=internal_p))
        return float((fin ** order + ess) ** (1.0 / order))
    return float(wasserstein_distance(d1, d2, order=order, internal_p=internal_p))


def diagram_distance_matrix(dgms: Sequence[np.ndarray], metric: str = "bottleneck", **kwargs) -> np.ndarray:
    """Symmetric matrix of pairwise distances between diagrams (e.g. one per
    layer: adjacent-layer entries flag redundant layers). ``metric`` is
    ``"bottleneck"`` or ``"wasserstein"``; kwargs go to that function."""
    fn = {"bottleneck": bottleneck, "wasserstein": wasserstein}.get(metric)
    if fn is None:
        raise ValueError(f"metric must be 'bottleneck' or 'wasserstein', got {metric!r}")
    k = len(dgms)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i + 1, k):
            out[i, j] = out[j, i] = fn(dgms[i], dgms[j], **kwargs)
    return out
