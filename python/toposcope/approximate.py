"""Sparse approximate Rips filtrations (Cavanna, Jahanseir & Sheehy, 2015).

The construction ("A geometric perspective on sparse filtrations", CCCG 2015,
arXiv:1506.03797) orders the points by a greedy permutation and gives each
point p its insertion radius lambda_p (its distance to the points before it;
infinite for the first). With E0 = (1 + eps) / eps and E1 = (1 + eps)^2 / eps,
the ball of p grows with the scale until radius E0 lambda_p, then stops, and p
leaves the filtration at scale E1 lambda_p. In Rips units (edge value =
diameter, as ``rips`` uses), an edge between p and a later point q (so
lambda_q <= lambda_p) at distance d enters at

* ``d``                      if d <= 2 E0 lambda_q (both balls still growing),
* ``2 (d - E0 lambda_q)``    if d <= E0 (lambda_p + lambda_q) and
                             d <= (E0 + E1) lambda_q (q's ball has stopped,
                             p's meets it before q leaves),
* never                      otherwise,

and a simplex enters with its longest edge (the flag complex of this graph,
as ripser.py's sparse example does). Every edge value is at least the
distance, so the sparse filtration is contained in the Rips filtration at
every scale, and the Rips complex at scale t maps into it at scale
(1 + eps) t. For metrics of bounded doubling dimension the graph has O(n)
edges (the constant grows like (1/eps)^dim), found here without O(n^2)
memory: by a KD-tree in low dimension, else by blocks of distances.
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Optional, Tuple

import numpy as np

from ._scipy import sparse, issparse
from . import _validation as V
from ._engine import RipsResult, rips
from .sampling import farthest_point_sampling

__all__ = ["approximate_rips", "ApproximateRipsResult", "sparse_rips_graph"]

# Below this many coordinates a KD-tree finds neighbourhoods faster than blocks.
KDTREE_MAX_DIM = 16
# Rough memory per candidate edge while building the graph and in the engine.
_BYTES_PER_EDGE = 64


@dataclass
class ApproximateRipsResult(RipsResult):
    """A :class:`RipsResult` of the sparse approximation, plus how it was made.

    Attributes (besides RipsResult's)
    ----------------------------------
    epsilon : the approximation parameter (None: exact Rips of the landmarks).
    idx_perm : indices (into the input) of the points used, in greedy order;
        vertex ``v`` of the simplices and cocycles is input point ``idx_perm[v]``
        (they are already mapped back to input indices).
    r_cover : covering radius of the points used (0 when all points are used).
    insertion_radii : lambda of each point used, in the order of ``idx_perm``.
    factor : 1 + epsilon, the multiplicative bound on births and deaths.
    """

    epsilon: Optional[float] = None
    idx_perm: Optional[np.ndarray] = None
    r_cover: float = 0.0
    insertion_radii: Optional[np.ndarray] = None
    factor: float = 1.0


def _check_epsilon(epsilon) -> float:
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real):
        raise TypeError(f"epsilon must be a positive number, got {epsilon!r}")
    e = float(epsilon)
    if not (e > 0 and math.isfinite(e)):
        raise ValueError(f"epsilon must be a positive finite number, got {epsilon!r}")
    return e


def _edge_values(d: np.ndarray, lam_early: np.ndarray, lam_late: np.ndarray, eps: float) -> Tuple[np.ndarray, np.ndarray]:
    """Sparse filtration values of candidate edges: (kept mask, values)."""
    e0 = (1.0 + eps) / eps
    e1 = (1.0 + eps) ** 2 / eps
    growing = d <= 2.0 * e0 * lam_late
    with np.errstate(invalid="ignore", over="ignore"):
        meets = (d <= e0 * (lam_early + lam_late)) & (d <= (e0 + e1) * lam_late)
    keep = growing | meets
    values = np.where(growing, d, 2.0 * (d - e0 * lam_late))
    return keep, values


def _candidate_pairs(P: np.ndarray, reach: np.ndarray, precomputed: bool, device, max_pairs: int):
    """Pairs (a, b), a < b, of the greedy-ordered points P with
    d(a, b) <= reach[b] (reach is non-increasing): (a, b, d) arrays."""
    n = P.shape[0]
    chunks_a, chunks_b, chunks_d = [], [], []
    total = 0

    def add(a, b, d):
        nonlocal total
        total += len(a)
        if total > max_pairs:
            raise MemoryError(
                f"the sparse filtration needs more than {max_pairs} edges (about "
                f"{max_pairs * _BYTES_PER_EDGE / 2**30:.1f} GiB): the data's intrinsic dimension is too high "
                "for this epsilon; use a larger epsilon, a threshold, or fewer points (n_perm)"
            )
        chunks_a.append(a)
        chunks_b.append(b)
        chunks_d.append(d)

    if precomputed:
        step = max(1, (64 << 20) // (8 * n))
        for b0 in range(1, n, step):
            b1 = min(n, b0 + step)
            block = P[b0:b1, :b1]  # rows b, columns a <= b
            a_idx = np.arange(b1)[None, :]
            b_idx = np.arange(b0, b1)[:, None]
            mask = (a_idx < b_idx) & (block <= reach[b0:b1, None])
            rb, ca = np.nonzero(mask)
            add(ca.astype(np.int64), (rb + b0).astype(np.int64), block[rb, ca].astype(np.float64))
    elif P.shape[1] <= KDTREE_MAX_DIM:
        from scipy.spatial import cKDTree

        tree = cKDTree(P)
        step = 4096
        for b0 in range(1, n, step):
            b1 = min(n, b0 + step)
            found = tree.query_ball_point(P[b0:b1], r=reach[b0:b1], return_sorted=False)
            lengths = np.fromiter((len(f) for f in found), dtype=np.int64, count=b1 - b0)
            if lengths.sum() == 0:
                continue
            a = np.concatenate([np.asarray(f, dtype=np.int64) for f in found])
            b = np.repeat(np.arange(b0, b1, dtype=np.int64), lengths)
            earlier = a < b
            a, b = a[earlier], b[earlier]
            diff = P[a].astype(np.float64) - P[b].astype(np.float64)
            d = np.sqrt(np.einsum("ij,ij->i", diff, diff))
            ok = d <= reach[b]
            add(a[ok], b[ok], d[ok])
    else:
        import torch

        from .distances import _Cloud, _pairs_within

        cloud = _Cloud(P, "euclidean", np.float64 if P.dtype == np.float64 else np.float32, device)
        for i, j, d in _pairs_within(cloud, torch.from_numpy(np.ascontiguousarray(reach)), None):
            add(i.cpu().numpy(), j.cpu().numpy(), d.cpu().numpy())
    if not chunks_a:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(chunks_a), np.concatenate(chunks_b), np.concatenate(chunks_d)


def sparse_rips_graph(
    P: np.ndarray, insertion_radii: np.ndarray, epsilon: float, distance_matrix: bool = False, device: Any = None,
    max_edges: Optional[int] = None,
) -> sparse.coo_matrix:
    """The sparse filtration's graph on points already in greedy order.

    ``P`` is (n, d) points, or with ``distance_matrix`` an (n, n) distance
    matrix, ordered by a greedy permutation whose insertion radii are
    ``insertion_radii`` (non-increasing, ``inf`` first). Returns an (n, n)
    COO matrix with each edge once (row < column), ready for ``rips``.
    """
    eps = _check_epsilon(epsilon)
    lam = np.asarray(insertion_radii, dtype=np.float64)
    n = lam.shape[0]
    e0 = (1.0 + eps) / eps
    e1 = (1.0 + eps) ** 2 / eps
    # No edge to a later point q reaches beyond (E0 + E1) lambda_q.
    reach = (e0 + e1) * lam
    if max_edges is None:
        max_edges = max(10 * n, V.available_memory() // (2 * _BYTES_PER_EDGE))
    a, b, d = _candidate_pairs(P, reach, distance_matrix, device, int(max_edges))
    keep, values = _edge_values(d, lam[a], lam[b], eps)
    return sparse.coo_matrix((values[keep], (a[keep], b[keep])), shape=(n, n))


def approximate_rips(
    X,
    epsilon: Optional[float],
    maxdim: int = 1,
    threshold: float = np.inf,
    coeff: int = 2,
    metric: str = "euclidean",
    distance_matrix: bool = False,
    n_perm: Optional[int] = None,
    cocycles: bool = False,
    n_threads: Optional[int] = None,
    device: Any = None,
    max_edges: Optional[int] = None,
) -> ApproximateRipsResult:
    """Rips persistence of a sparse (1 + epsilon)-approximate filtration.

    Guarantee (exact arithmetic): let D be the diagram of the exact Rips
    filtration of the points used and D' the one returned, in each homology
    dimension. The sparse filtration S satisfies S_t ⊆ Rips_t and
    Rips_t → S_{(1+ε)t} (the map commuting with the inclusions up to
    contiguity), a multiplicative (1, 1+ε)-interleaving. Hence there is a
    matching between D' and D in which every matched pair satisfies
    ``b <= b' <= (1+ε) b`` and ``d <= d' <= (1+ε) d``, and every unmatched
    bar of either diagram has ``death / birth <= 1 + ε``. In particular the
    bottleneck distance between the log-scale diagrams (log b, log d) is at
    most log(1 + ε). H0 bars (born at 0) satisfy the death bound.

    With ``n_perm``, the points used are the first ``n_perm`` points of the
    greedy permutation (ripser.py's ``n_perm``): their Rips diagram is within
    bottleneck distance ``2 r_cover`` (additively, in Rips units) of the full
    cloud's, ``r_cover`` being reported. ``epsilon=None`` with ``n_perm``
    computes the exact Rips diagram of the landmarks.

    Parameters
    ----------
    X : (n, d) point cloud, or with ``distance_matrix=True`` a square distance
        matrix or condensed vector (a metric: the triangle inequality is what
        the guarantee rests on).
    epsilon : approximation parameter (> 0); e.g. 0.1 for 10 %.
    maxdim, threshold, coeff, cocycles, n_threads : as for ``rips``.
    metric : "euclidean" (or "precomputed"); the sparse construction needs a
        true metric, so "cosine" (not one) is refused.
    n_perm : first subsample to this many greedy landmarks.
    device : torch device for the block neighbour search in high dimension.
    max_edges : refuse (MemoryError) graphs with more candidate edges than this
        (default: what fits in half the free memory).

    Returns
    -------
    ApproximateRipsResult; simplex and cocycle vertices are input indices.
    """
    eps = None if epsilon is None else _check_epsilon(epsilon)
    if metric == "precomputed":
        distance_matrix = True
    if not distance_matrix and metric not in ("euclidean", "l2"):
        raise ValueError(
            f"the sparse approximation needs a metric satisfying the triangle inequality; metric={metric!r} "
            "is not supported (use 'euclidean' or a precomputed metric distance matrix)"
        )
    if issparse(X):
        raise ValueError("the approximation needs points or a dense distance matrix, not a sparse matrix")
    X = np.asarray(X)
    dt = V.float_dtype(X)
    if distance_matrix and X.ndim == 1:
        from scipy.spatial.distance import squareform

        X = squareform(X, checks=False)
    n = X.shape[0] if X.ndim >= 1 else 0
    if n < 2:
        raise ValueError("at least two points are needed")
    if n_perm is not None:
        if isinstance(n_perm, bool) or not isinstance(n_perm, numbers.Integral) or n_perm < 1:
            raise ValueError(f"n_perm must be a positive integer, got {n_perm!r}")
        if n_perm > n:
            raise ValueError(f"n_perm={n_perm} is larger than the number of points ({n})")
        if n_perm < 2:
            raise ValueError("n_perm must keep at least two points")
    if eps is None and n_perm is None:
        raise ValueError("give epsilon (the approximation) or n_perm (the subsample), or call rips()")

    order, radii = farthest_point_sampling(X, k=n_perm, distance_matrix=distance_matrix, n_threads=n_threads)
    r_cover = float(radii[-1]) if n_perm is not None and n_perm < n else 0.0
    lam = np.concatenate([[np.inf], radii[:-1]])
    P = np.ascontiguousarray(X[np.ix_(order, order)] if distance_matrix else X[order])

    if eps is None:
        res = rips(P, maxdim=maxdim, threshold=threshold, coeff=coeff, distance_matrix=distance_matrix,
                   cocycles=cocycles, n_threads=n_threads, dtype=dt)
        factor = 1.0
    else:
        graph = sparse_rips_graph(P, lam, eps, distance_matrix=distance_matrix, device=device,
                                  max_edges=max_edges)
        res = rips(graph.astype(dt), maxdim=maxdim, threshold=threshold, coeff=coeff, cocycles=cocycles,
                   n_threads=n_threads)
        factor = 1.0 + eps

    def to_input(vertices: np.ndarray) -> np.ndarray:
        out = np.asarray(vertices).copy()
        valid = out >= 0
        out[valid] = order[out[valid]]
        return out

    ccl = []
    for dim_cocycles in res.cocycles:
        mapped = []
        for z in dim_cocycles:
            z = np.asarray(z).copy()
            z[:, :-1] = order[z[:, :-1]]
            mapped.append(z)
        ccl.append(mapped)
    return ApproximateRipsResult(
        dgms=res.dgms,
        # None when the engine collapsed edges first (it then reports no critical simplices).
        birth_simplices=None if res.birth_simplices is None else [to_input(s) for s in res.birth_simplices],
        death_simplices=None if res.death_simplices is None else [to_input(s) for s in res.death_simplices],
        cocycles=ccl,
        num_edges=res.num_edges,
        threshold=res.threshold,
        n_points=res.n_points,
        coeff=res.coeff,
        stats=res.stats,
        engine=res.engine,
        epsilon=eps,
        idx_perm=order,
        r_cover=r_cover,
        insertion_radii=lam,
        factor=factor,
    )
