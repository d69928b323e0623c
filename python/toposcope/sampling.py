"""Farthest-point sampling: the greedy permutation and its covering radii.

``farthest_point_sampling`` starts from one point and repeatedly picks the
point farthest from everything picked so far. The picks are a good sparse
sample of the cloud (every point lies within ``radii[-1]`` of a pick), the
landmarks of ripser.py's ``n_perm``, and the backbone of the sparse
approximate Rips filtration (:mod:`toposcope.approximate`).

Conventions are ripser.py's ``get_greedy_perm``: ties go to the lowest index
(numpy's ``argmax``), and ``radii[i]`` is the covering radius of the first
``i + 1`` picks (ripser.py's ``lambdas``), so ``radii[i]`` is also the
distance of pick ``i + 1`` to the earlier picks (its insertion radius).

Three engines give the same picks:

* the C++ core (default, numpy input): Euclidean distances summed in double,
  both cores, the triangle inequality skipping most distance evaluations;
* torch on any device (``device="cuda"``, ``"cpu"``, ...): the same greedy
  loop, one distance row per pick, in float64 with the same tie rule;
* precomputed distances (``distance_matrix=True``): rows of a square matrix
  or of a condensed vector, in C++.

Identical picks across engines are guaranteed whenever the distances they
compute are equal (exactly representable data such as grids, and precomputed
matrices); on generic data the engines sum in different orders, so two
candidates within a rounding error (~1e-16 relative) of each other could be
ordered differently.
"""
from __future__ import annotations

import numbers
from typing import Any, Optional, Tuple

import numpy as np

from . import _validation as V
from ._engine import _core

__all__ = ["farthest_point_sampling", "insertion_radii"]


def _check_k(k, n: int) -> int:
    if k is None:
        return n
    if isinstance(k, bool) or not isinstance(k, numbers.Integral):
        raise TypeError(f"k must be an integer, got {k!r}")
    k = int(k)
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if k > n:
        raise ValueError(f"k={k} is larger than the number of points ({n})")
    return k


def _check_eps(eps) -> float:
    if eps is None:
        return -1.0
    e = float(eps)
    if not np.isfinite(e) or e < 0:
        raise ValueError(f"eps must be a finite number >= 0, got {eps!r}")
    return e


def _check_start(start, n: int) -> int:
    if isinstance(start, bool) or not isinstance(start, numbers.Integral):
        raise TypeError(f"start must be an integer, got {start!r}")
    start = int(start)
    if not 0 <= start < n:
        raise ValueError(f"start must be in [0, {n}), got {start}")
    return int(start)


def _is_torch(x) -> bool:
    return type(x).__module__.startswith("torch")


def _unit_rows(P: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; cosine distance is |u - v|^2 / 2 on them."""
    norms = np.linalg.norm(P, axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("the cosine metric is undefined for all-zero rows")
    return np.ascontiguousarray(P / norms)


def farthest_point_sampling(
    X,
    k: Optional[int] = None,
    eps: Optional[float] = None,
    start: int = 0,
    metric: str = "euclidean",
    distance_matrix: bool = False,
    device: Any = None,
    n_threads: Optional[int] = None,
) -> Tuple[np.ndarray, np.ndarray]:
    """Greedy permutation of a point cloud (farthest-point sampling).

    Parameters
    ----------
    X : (n, d) array (numpy, or a torch tensor with ``device``), or with
        ``distance_matrix=True`` a square (n, n) distance matrix or a condensed
        ``pdist`` vector.
    k : number of points to pick (default: all n).
    eps : stop as soon as the covering radius is at most ``eps`` (the last
        pick is the one that brought it there).
    start : index of the first pick (ripser.py always starts at 0).
    metric : "euclidean", "cosine" (both fast paths), or any scipy ``cdist``
        metric name / callable (a slower numpy loop). Ignored for precomputed
        distances.
    distance_matrix : X holds distances; row ``i`` of a square matrix is
        taken as the distances from point ``i``.
    device : None runs the C++ core; a torch device ("cuda", "cpu", ...) runs
        the same loop in torch on that device (float64, the same tie rule).
    n_threads : threads of the C++ core (default: all cores).

    Returns
    -------
    indices : (m,) int64, the picks in order (m = k, or fewer with ``eps``).
    radii : (m,) float64, ``radii[i]`` is the covering radius of the first
        i + 1 picks: ``max_x min_{j <= i} d(x, indices[j])``.

    Notes
    -----
    Ties go to the lowest index. Once every remaining point coincides with a
    pick (covering radius 0) the next picks are the unpicked points in index
    order; ripser.py instead repeats an already picked index there.
    """
    n_threads_c = V.check_n_threads(n_threads)
    if device is not None:
        return _fps_torch(X, k, eps, start, metric, distance_matrix, device)
    if _is_torch(X):
        X = X.detach().cpu().numpy()
    X = np.asarray(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"expected a numeric array, got dtype {X.dtype}")
    dt = np.float32 if X.dtype == np.float32 else np.float64

    if distance_matrix or metric == "precomputed":
        if X.ndim == 2 and X.shape[0] != X.shape[1]:
            raise ValueError(f"a distance matrix must be square, got shape {X.shape}")
        if X.ndim not in (1, 2):
            raise ValueError("distances must be a square matrix or a condensed vector")
        D: Any = np.ascontiguousarray(X, dtype=dt)
        V.check_finite(D, "the distance matrix")
        if (D < 0).any():
            raise ValueError("the distance matrix has negative entries")
        n = D.shape[0] if D.ndim == 2 else int(round((1 + np.sqrt(1 + 8 * D.shape[0])) / 2))
        if D.ndim == 1 and n * (n - 1) // 2 != D.shape[0]:
            raise ValueError(f"a condensed distance vector needs n*(n-1)/2 entries, got {D.shape[0]}")
        k_, start_ = _check_k(k, n), _check_start(start, n)
        idx, radii = _core.farthest_points_precomputed(D, k_, _check_eps(eps), start_, n_threads_c)
        return idx, radii

    if X.ndim != 2:
        raise ValueError(f"a point cloud must be a 2-D array (n_points, n_features), got shape {X.shape}")
    n = X.shape[0]
    if n == 0:
        raise ValueError("empty input: at least one point is needed")
    k_, start_ = _check_k(k, n), _check_start(start, n)
    eps_ = _check_eps(eps)
    if metric in ("euclidean", "l2"):
        P: Any = np.ascontiguousarray(X, dtype=dt)
        V.check_finite(P, "the point cloud")
        return _core.farthest_points(P, k_, eps_, start_, n_threads_c)
    if metric == "cosine":
        P = np.asarray(X, dtype=np.float64)
        V.check_finite(P, "the point cloud")
        # Cosine distance is |u - v|^2 / 2 on unit vectors: monotone in the
        # Euclidean distance, so the picks are those of the unit vectors.
        eps_unit = -1.0 if eps_ < 0 else float(np.sqrt(2.0 * eps_))
        idx, r = _core.farthest_points(_unit_rows(P), k_, eps_unit, start_, n_threads_c)
        return idx, r * r / 2.0
    return _fps_numpy_metric(np.asarray(X, dtype=np.float64), k_, eps_, start_, metric)


def _fps_numpy_metric(P: np.ndarray, k: int, eps: float, start: int, metric) -> Tuple[np.ndarray, np.ndarray]:
    """The greedy loop for any scipy metric: one ``cdist`` row per pick."""
    from scipy.spatial.distance import cdist

    V.check_finite(P, "the point cloud")
    n = P.shape[0]
    order = np.empty(k, dtype=np.int64)
    radii = np.empty(k, dtype=np.float64)
    nearest = np.full(n, np.inf)
    pick = start
    for t in range(k):
        order[t] = pick
        np.minimum(nearest, cdist(P[pick : pick + 1], P, metric)[0], out=nearest, where=nearest >= 0)
        nearest[pick] = -1.0
        pick = int(np.argmax(nearest))
        radii[t] = max(nearest[pick], 0.0)
        if eps >= 0 and radii[t] <= eps:
            return order[: t + 1], radii[: t + 1]
    return order, radii


def _fps_torch(X, k, eps, start, metric, distance_matrix, device) -> Tuple[np.ndarray, np.ndarray]:
    """The same greedy loop in torch on ``device``, in float64."""
    import torch

    dev = torch.device(device)
    T = X.detach() if isinstance(X, torch.Tensor) else torch.from_numpy(np.asarray(X))
    if T.is_complex() or T.dtype == torch.bool:
        raise TypeError(f"expected a real numeric tensor, got {T.dtype}")
    precomputed = distance_matrix or metric == "precomputed"
    if precomputed:
        if T.ndim == 1:  # condensed: expand once (the torch path wants rows)
            from scipy.spatial.distance import squareform

            T = torch.from_numpy(squareform(T.cpu().numpy(), checks=False))
        if T.ndim != 2 or T.shape[0] != T.shape[1]:
            raise ValueError(f"a distance matrix must be square, got shape {tuple(T.shape)}")
    elif T.ndim != 2:
        raise ValueError(f"a point cloud must be a 2-D array (n_points, n_features), got shape {tuple(T.shape)}")
    elif metric not in ("euclidean", "l2", "cosine"):
        raise ValueError(f"the torch path supports 'euclidean' and 'cosine', not {metric!r}")
    n = T.shape[0]
    if n == 0:
        raise ValueError("empty input: at least one point is needed")
    k_, start_, eps_ = _check_k(k, n), _check_start(start, n), _check_eps(eps)
    T = T.to(device=dev, dtype=torch.float64)
    if not bool(torch.isfinite(T).all()):
        raise ValueError("the input contains NaN or infinite values")
    cosine = metric == "cosine" and not precomputed
    if cosine:
        norms = torch.linalg.vector_norm(T, dim=1, keepdim=True)
        if bool((norms == 0).any()):
            raise ValueError("the cosine metric is undefined for all-zero rows")
        T = T / norms
        if eps_ >= 0:
            eps_ = float(np.sqrt(2.0 * eps_))

    # Rows per block so that a block of differences stays near 256 MiB.
    block = max(1, (256 << 20) // max(1, 8 * T.shape[1])) if not precomputed else n

    def distances_from(i: "torch.Tensor") -> "torch.Tensor":
        if precomputed:
            return T[i]
        x = T[i]
        return torch.cat([((T[a : a + block] - x) ** 2).sum(dim=1).sqrt() for a in range(0, n, block)])

    order = torch.empty(k_, dtype=torch.int64, device=dev)
    radii = torch.empty(k_, dtype=torch.float64, device=dev)
    nearest = torch.full((n,), float("inf"), dtype=torch.float64, device=dev)
    pick = torch.tensor(start_, device=dev)
    m = k_
    for t in range(k_):
        order[t] = pick
        row = distances_from(pick)
        nearest = torch.where(nearest >= 0, torch.minimum(nearest, row), nearest)
        nearest[pick] = -1.0
        pick = torch.argmax(nearest)  # first maximal index, as numpy
        radii[t] = nearest[pick].clamp(min=0.0)
        if eps_ >= 0 and float(radii[t]) <= eps_:
            m = t + 1
            break
    idx = order[:m].cpu().numpy()
    r = radii[:m].cpu().numpy()
    if cosine:
        r = r * r / 2.0
    return idx, r


def insertion_radii(indices: np.ndarray, radii: np.ndarray, n: Optional[int] = None) -> np.ndarray:
    """Each point's insertion radius (distance to the points picked before it),
    indexed by point: ``inf`` for the first pick, ``radii[i - 1]`` for pick i.
    With ``n``, points never picked get ``nan``."""
    indices = np.asarray(indices, dtype=np.int64)
    size = len(indices) if n is None else n
    out = np.full(size, np.nan)
    out[indices] = np.concatenate([[np.inf], np.asarray(radii, dtype=np.float64)[:-1]])
    return out
