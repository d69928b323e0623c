"""Topological summaries of persistence diagrams and of point clouds.

A *diagram* is a (k, 2) array of (birth, death) pairs of one homology
dimension, as in ``toposcope.rips(X).dgms[d]``; the *lifetime* (persistence)
of a bar is ``death - birth``.

Infinite bars
-------------
Every diagram function takes ``infinite=``:

* ``"drop"`` (default): bars with infinite death are left out. (A Rips H0
  diagram always has one: the component that never dies.)
* ``"cap"``: infinite deaths are replaced by ``cap`` (e.g. the threshold the
  filtration was computed to); ``cap`` is then required.

Formulas (``l_i`` the finite lifetimes)
---------------------------------------
* bar count: number of bars kept.
* Betti number at scale ``t``: ``#{i : b_i <= t < d_i}`` (half-open bars, as in
  ``RipsResult.betti`` and gudhi's ``BettiCurve``; infinite bars count unless
  dropped).
* total persistence: ``sum_i l_i ** p`` (p = 1 by default);
  ``persistence_norm`` is its p-th root ``(sum_i l_i ** p) ** (1/p)``.
* max / mean lifetime.
* persistence entropy: ``-sum_i q_i log(q_i)`` with ``q_i = l_i / sum_j l_j``,
  natural log by default (``base=2`` for bits); ``normalized=True`` divides by
  ``log(k)`` (so it lies in [0, 1]).
* Betti curve: the Betti number on a grid of scales.
* landscape ``lambda_j(t)``: the j-th largest of ``max(0, min(t - b_i, d_i - t))``
  (Bubenik 2015; gudhi's ``Landscape`` multiplies by sqrt(2)).
* persistence image (Adams et al. 2017): in (birth, persistence) coordinates
  each bar puts a Gaussian of standard deviation ``sigma`` weighted by
  ``weight``; each pixel holds its integral over the pixel (as persim does).
"""
from __future__ import annotations

from typing import Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ._scipy import erf

__all__ = [
    "finite_bars",
    "lifetimes",
    "bar_count",
    "betti_number",
    "total_persistence",
    "persistence_norm",
    "max_lifetime",
    "mean_lifetime",
    "persistence_entropy",
    "betti_curve",
    "landscape",
    "persistence_image",
    "diagram_summary",
    "todacomm_metrics",
    "expansion_ratio",
    "ph_dimension",
    "twonn_dimension",
    "bootstrap_ci",
    "rtd",
    "cross_barcode",
]

Diagram = np.ndarray


def _as_diagram(dgm) -> np.ndarray:
    d = np.asarray(dgm, dtype=np.float64)
    if d.size == 0:
        return np.zeros((0, 2))
    if d.ndim != 2 or d.shape[1] != 2:
        raise ValueError(f"a diagram is a (k, 2) array of (birth, death), got shape {d.shape}")
    return d


def finite_bars(dgm, infinite: str = "drop", cap: Optional[float] = None) -> np.ndarray:
    """The diagram with infinite deaths dropped or replaced by ``cap``."""
    d = _as_diagram(dgm)
    inf = ~np.isfinite(d[:, 1])
    if infinite == "drop":
        return d[~inf]
    if infinite == "cap":
        if cap is None or not np.isfinite(cap):
            raise ValueError("infinite='cap' needs a finite cap (e.g. the filtration threshold)")
        out = d.copy()
        out[inf, 1] = cap
        return out
    raise ValueError(f"infinite must be 'drop' or 'cap', got {infinite!r}")


def lifetimes(dgm, infinite: str = "drop", cap: Optional[float] = None) -> np.ndarray:
    d = finite_bars(dgm, infinite, cap)
    return d[:, 1] - d[:, 0]


def bar_count(dgm, infinite: str = "drop", cap: Optional[float] = None) -> int:
    return int(len(finite_bars(dgm, infinite, cap)))


def betti_number(dgm, scale: float, infinite: str = "keep", cap: Optional[float] = None) -> int:
    """Bars alive at ``scale`` (``b <= scale < d``). Infinite bars count by default
    (``infinite="keep"``), since they are alive at every scale after their birth."""
    d = _as_diagram(dgm) if infinite == "keep" else finite_bars(dgm, infinite, cap)
    return int(np.sum((d[:, 0] <= scale) & (d[:, 1] > scale)))


def total_persistence(dgm, p: float = 1.0, infinite: str = "drop", cap: Optional[float] = None) -> float:
    """``sum_i l_i ** p``."""
    return float(np.sum(lifetimes(dgm, infinite, cap) ** p))


def persistence_norm(dgm, p: float = 1.0, infinite: str = "drop", cap: Optional[float] = None) -> float:
    """``(sum_i l_i ** p) ** (1 / p)``; ``p=np.inf`` gives the max lifetime."""
    life = lifetimes(dgm, infinite, cap)
    if len(life) == 0:
        return 0.0
    if np.isinf(p):
        return float(life.max())
    return float(np.sum(life ** p) ** (1.0 / p))


def max_lifetime(dgm, infinite: str = "drop", cap: Optional[float] = None) -> float:
    life = lifetimes(dgm, infinite, cap)
    return float(life.max()) if len(life) else 0.0


def mean_lifetime(dgm, infinite: str = "drop", cap: Optional[float] = None) -> float:
    life = lifetimes(dgm, infinite, cap)
    return float(life.mean()) if len(life) else 0.0


def persistence_entropy(dgm, base: float = np.e, normalized: bool = False, infinite: str = "drop",
                        cap: Optional[float] = None) -> float:
    """Shannon entropy of the lifetimes' proportions (see module doc)."""
    life = lifetimes(dgm, infinite, cap)
    life = life[life > 0]
    if len(life) == 0:
        return 0.0
    q = life / life.sum()
    h = float(-np.sum(q * np.log(q)) / np.log(base))
    if normalized:
        return h / (np.log(len(life)) / np.log(base)) if len(life) > 1 else 0.0
    return h


def betti_curve(dgm, grid: Sequence[float], infinite: str = "keep", cap: Optional[float] = None) -> np.ndarray:
    """Betti numbers at each value of ``grid`` (int array of the grid's length)."""
    d = _as_diagram(dgm) if infinite == "keep" else finite_bars(dgm, infinite, cap)
    t = np.asarray(grid, dtype=np.float64)[:, None]
    return np.sum((d[None, :, 0] <= t) & (d[None, :, 1] > t), axis=1).astype(np.int64)


def landscape(dgm, grid: Sequence[float], k: int = 5, infinite: str = "drop", cap: Optional[float] = None) -> np.ndarray:
    """Persistence landscapes ``lambda_1..lambda_k`` on ``grid``: a (k, len(grid)) array."""
    d = finite_bars(dgm, infinite, cap)
    t = np.asarray(grid, dtype=np.float64)
    out = np.zeros((k, len(t)))
    if len(d) == 0:
        return out
    tents = np.maximum(0.0, np.minimum(t[None, :] - d[:, :1], d[:, 1:] - t[None, :]))  # (bars, grid)
    tents = -np.sort(-tents, axis=0)
    m = min(k, len(d))
    out[:m] = tents[:m]
    return out


def _linear_weight(max_persistence: float) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    def weight(birth, pers):
        return np.clip(pers / max_persistence, 0.0, 1.0) if max_persistence > 0 else np.ones_like(pers)
    return weight


def persistence_image(
    dgm,
    birth_range: Tuple[float, float],
    pers_range: Tuple[float, float],
    pixel_size: float,
    sigma: float = 0.1,
    weight: Union[str, Callable, None] = "linear",
    weight_max: Optional[float] = None,
    infinite: str = "drop",
    cap: Optional[float] = None,
) -> np.ndarray:
    """Persistence image: an array of shape (birth pixels, persistence pixels).

    Pixel edges run from ``birth_range[0]`` (and ``pers_range[0]``) in steps
    of ``pixel_size`` up to the first edge at or past the range's end.
    ``weight``: ``"linear"`` (persistence / ``weight_max``, clipped to [0, 1];
    ``weight_max`` defaults to ``pers_range[1]``), ``None`` (1 for every bar)
    or a callable ``w(birth, persistence)``. Each bar adds
    ``w * integral over the pixel of N((b, p), sigma^2 I)``.
    """
    d = finite_bars(dgm, infinite, cap)
    b_edges = _edges(birth_range, pixel_size)
    p_edges = _edges(pers_range, pixel_size)
    img = np.zeros((len(b_edges) - 1, len(p_edges) - 1))
    if len(d) == 0:
        return img
    birth, pers = d[:, 0], d[:, 1] - d[:, 0]
    if weight == "linear":
        w = _linear_weight(pers_range[1] if weight_max is None else weight_max)(birth, pers)
    elif weight is None:
        w = np.ones_like(pers)
    elif callable(weight):
        w = np.asarray(weight(birth, pers), dtype=np.float64)
    else:
        raise ValueError(f"weight must be 'linear', None or a callable, got {weight!r}")
    # the integral of a separable Gaussian over a box is a product of 1-D CDF differences
    s = sigma * np.sqrt(2.0)
    cb = 0.5 * (1 + erf((b_edges[None, :] - birth[:, None]) / s))
    cp = 0.5 * (1 + erf((p_edges[None, :] - pers[:, None]) / s))
    return np.einsum("k,ki,kj->ij", w, np.diff(cb, axis=1), np.diff(cp, axis=1))


def _edges(rng: Tuple[float, float], step: float) -> np.ndarray:
    lo, hi = float(rng[0]), float(rng[1])
    if not hi > lo or step <= 0:
        raise ValueError(f"need range[1] > range[0] and a positive pixel size, got {rng}, {step}")
    n = int(np.ceil((hi - lo) / step - 1e-9))
    return lo + step * np.arange(n + 1)


def diagram_summary(dgm, p: float = 1.0, infinite: str = "drop", cap: Optional[float] = None,
                    entropy_base: float = np.e) -> Dict[str, float]:
    """The scalar metrics of one diagram as a dict."""
    return {
        "n_bars": bar_count(dgm, infinite, cap),
        "n_infinite": int(np.sum(~np.isfinite(_as_diagram(dgm)[:, 1]))),
        "total_persistence": total_persistence(dgm, p, infinite, cap),
        "max_lifetime": max_lifetime(dgm, infinite, cap),
        "mean_lifetime": mean_lifetime(dgm, infinite, cap),
        "entropy": persistence_entropy(dgm, entropy_base, False, infinite, cap),
    }


# --------------------------------------------------------------------------- ToDACoMM


def todacomm_metrics(dgms: Sequence[np.ndarray]) -> Dict[str, float]:
    """ToDACoMM's per-layer set: H0/H1 total persistence (p = 1, infinite bars
    dropped), H0 max lifetime and H1 bar count."""
    h0 = dgms[0]
    h1 = dgms[1] if len(dgms) > 1 else np.zeros((0, 2))
    return {
        "h0_total_persistence": total_persistence(h0),
        "h1_total_persistence": total_persistence(h1),
        "h0_max_lifetime": max_lifetime(h0),
        "h1_count": bar_count(h1),
    }


def expansion_ratio(h0_total_persistence: Sequence[float]) -> float:
    """ToDACoMM's expansion ratio: the peak H0 total persistence over the layers
    divided by the first layer's (the embedding or input layer).

    Pass raw values (the ratio then mostly tracks the growth of activation
    norms) or values of scale-normalised diagrams (the shape change alone).
    """
    v = np.asarray(list(h0_total_persistence), dtype=np.float64)
    if len(v) == 0:
        raise ValueError("no layers")
    if v[0] <= 0:
        return float("inf") if v.max() > 0 else float("nan")
    return float(v.max() / v[0])


# --------------------------------------------------------------------------- intrinsic dimension


def ph_dimension(X, sizes: Optional[Sequence[int]] = None, alpha: float = 1.0, n_repeats: int = 3,
                 seed: int = 0, return_fit: bool = False):
    """Persistent-homology dimension from the growth of H0 total persistence.

    For n points sampled from a d-dimensional measure,
    ``E_alpha(n) = sum of alpha-powered H0 lifetimes ~ n ** ((d - alpha) / d)``
    (Steele 1988; Schweinhart 2020). With ``m`` the slope of ``log E`` against
    ``log n``, ``d = alpha / (1 - m)``. H0 lifetimes of a Rips filtration are the
    edge lengths of a Euclidean minimum spanning tree, computed by the engine.
    ``sizes`` default to 8 geometric steps from ``n // 10`` to ``n``; each size
    is averaged over ``n_repeats`` random subsets.
    """
    from ._engine import rips

    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if sizes is None:
        sizes = np.unique(np.geomspace(max(10, n // 10), n, 8).astype(int))
    sizes = [int(s) for s in sizes if 2 <= s <= n]
    if len(sizes) < 2:
        raise ValueError("need at least two sample sizes between 2 and n")
    rng = np.random.default_rng(seed)
    energies = []
    for s in sizes:
        reps = 1 if s == n else n_repeats
        e = [total_persistence(rips(X[rng.choice(n, s, replace=False)] if s < n else X, maxdim=0).dgms[0], p=alpha)
             for _ in range(reps)]
        energies.append(np.mean(e))
    slope, intercept = np.polyfit(np.log(sizes), np.log(energies), 1)
    d = alpha / (1.0 - slope) if slope < 1 else float("inf")
    if return_fit:
        return float(d), {"sizes": sizes, "energies": [float(x) for x in energies], "slope": float(slope)}
    return float(d)


def twonn_dimension(X, discard_fraction: float = 0.1) -> float:
    """TwoNN intrinsic dimension (Facco et al. 2017).

    With ``r1 < r2`` the distances of each point to its two nearest neighbours
    and ``mu = r2 / r1``, ``mu`` is Pareto distributed with exponent d, so
    ``-log(1 - F(mu)) = d log(mu)``; d is the slope of the least-squares line
    through the origin after dropping the largest ``discard_fraction`` of the
    ``mu`` values (as in the paper). Duplicate points (r1 = 0) are ignored.
    """
    from scipy.spatial import cKDTree

    X = np.asarray(X, dtype=np.float64)
    dist, _ = cKDTree(X).query(X, k=3)
    r1, r2 = dist[:, 1], dist[:, 2]
    keep = r1 > 0
    mu = np.sort(r2[keep] / r1[keep])
    n = len(mu)
    if n < 3:
        raise ValueError("need at least 3 distinct points")
    F = np.arange(1, n + 1) / n
    m = int(np.floor(n * (1 - discard_fraction)))
    x = np.log(mu[:m])
    y = -np.log(1 - F[:m])
    return float(np.dot(x, y) / np.dot(x, x))


# --------------------------------------------------------------------------- bootstrap


def bootstrap_ci(
    X,
    statistic: Callable[[np.ndarray], float],
    n_boot: int = 200,
    confidence: float = 0.95,
    sample_size: Optional[int] = None,
    replace: bool = True,
    seed: int = 0,
) -> Dict[str, object]:
    """Percentile bootstrap confidence interval of ``statistic`` over resamples.

    Each resample draws ``sample_size`` rows of ``X`` (all rows by default),
    with replacement (the classic bootstrap) or without (m-out-of-n subsampling,
    better suited to persistence statistics, which change with sample size).
    Returns ``{"estimate", "low", "high", "samples", "confidence"}``; the
    estimate is the statistic on ``X`` itself (on a subsample of ``sample_size``
    rows drawn first when that is smaller than n).
    """
    X = np.asarray(X)
    n = X.shape[0]
    m = n if sample_size is None else int(sample_size)
    if not replace and m > n:
        raise ValueError(f"cannot draw {m} of {n} rows without replacement")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    rng = np.random.default_rng(seed)
    base = X if m == n else X[rng.choice(n, m, replace=False)]
    samples = np.array([float(statistic(X[rng.choice(n, m, replace=replace)])) for _ in range(n_boot)])
    alpha = (1 - confidence) / 2
    low, high = np.quantile(samples, [alpha, 1 - alpha])
    return {"estimate": float(statistic(base)), "low": float(low), "high": float(high),
            "samples": samples, "confidence": confidence}


# --------------------------------------------------------------------------- RTD


def _square_distances(A, metric: str) -> np.ndarray:
    from scipy.spatial.distance import pdist, squareform

    return squareform(pdist(np.asarray(A, dtype=np.float64), metric))


def _normalise(D: np.ndarray, how: Optional[str], q: float) -> np.ndarray:
    if how is None:
        return D
    off = D[np.triu_indices(len(D), 1)]
    s = {"quantile": lambda: np.quantile(off, q), "median": lambda: np.median(off),
         "mean": lambda: np.mean(off), "max": lambda: np.max(off)}[how]()
    return D / s if s > 0 else D


def cross_barcode(A, B, maxdim: int = 1, normalize: Optional[str] = "quantile", q: float = 0.9,
                  metric: str = "euclidean", distances: bool = False) -> List[np.ndarray]:
    """R-Cross-Barcode(A, B) of Barannikov et al. (ICML 2022).

    ``A`` and ``B`` are two representations of the same n inputs (rows aligned;
    or n x n distance matrices with ``distances=True``). With ``Da``, ``Db``
    their (normalised) distance matrices, the barcode is the Rips persistence
    of the 2n-vertex graph with distance matrix ``[[0, Da], [Da, min(Da, Db)]]``
    (first n vertices: copies of the points all at distance 0). Returns the
    diagrams for dims 0..maxdim.
    """
    from ._engine import rips

    Da = np.asarray(A, np.float64) if distances else _square_distances(A, metric)
    Db = np.asarray(B, np.float64) if distances else _square_distances(B, metric)
    if Da.shape != Db.shape or Da.shape[0] != Da.shape[1]:
        raise ValueError(f"A and B must describe the same inputs, got {Da.shape} and {Db.shape}")
    Da, Db = _normalise(Da, normalize, q), _normalise(Db, normalize, q)
    n = len(Da)
    M = np.zeros((2 * n, 2 * n))
    M[n:, :n] = Da
    M[:n, n:] = Da
    M[n:, n:] = np.minimum(Da, Db)
    np.fill_diagonal(M, 0.0)
    return rips(M, maxdim=maxdim, distance_matrix=True).dgms


def rtd(A, B, dim: int = 1, symmetric: bool = True, normalize: Optional[str] = "quantile", q: float = 0.9,
        n_trials: int = 1, batch: Optional[int] = None, seed: int = 0, metric: str = "euclidean") -> float:
    """Representation Topology Divergence: the total persistence (sum of
    lifetimes) of R-Cross-Barcode_dim(A, B), averaged with that of (B, A) when
    ``symmetric`` (the paper's RTD); 0 when A and B have the same distances.

    For large n, average ``n_trials`` runs on random row subsets of size
    ``batch`` (the paper uses 500 rows, 10 trials).
    """
    A, B = np.asarray(A), np.asarray(B)
    if A.shape[0] != B.shape[0]:
        raise ValueError("A and B must have one row per input, in the same order")
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(n_trials):
        idx = np.arange(A.shape[0]) if batch is None or batch >= A.shape[0] else rng.choice(A.shape[0], batch, replace=False)
        a, b = A[idx], B[idx]
        v = total_persistence(cross_barcode(a, b, dim, normalize, q, metric)[dim])
        if symmetric:
            v = 0.5 * (v + total_persistence(cross_barcode(b, a, dim, normalize, q, metric)[dim]))
        total += v
    return float(total / n_trials)
