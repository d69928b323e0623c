"""`rips`: exact Vietoris-Rips persistence on point clouds, distance matrices
and sparse graphs, computed by the C++ core.

Precision: the engine computes in the precision of the input. float32 input is
computed in float32 (as ripser.py always does); every other input is computed
in float64 (as gudhi does).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Union

import numpy as np

from ._scipy import sparse, issparse, pdist
from . import _validation as V

try:
    from . import _core
except ImportError as exc:  # pragma: no cover - only when the extension is missing
    raise ImportError(
        "toposcope's compiled core (_core) is not built; install the package with "
        "`pip install .` (a C++17 compiler is needed for a source build)"
    ) from exc

__all__ = ["rips", "RipsResult", "SPARSE_BELOW"]

# A dense matrix whose threshold keeps fewer than this fraction of the edges is
# run on sparse neighbourhoods instead (cofacets then skip absent edges).
SPARSE_BELOW = 0.5

# H1 or H1-H2 over Z/2 of a graph with at most this many edges up to the
# threshold (and at most 16,384 vertices for H1, 4,096 for H2) run the forward
# sweep (cpp/include/toposcope/forward_h1.hpp, forward_h2.hpp); above it, and
# for Z/p, H3+ or cocycles, cohomology. The sweep keeps 24 bytes an edge beside
# the matrix, so the cap is about memory: on 4,000 activation-like points
# (5.6 M edges) the sweep would take 0.25 s against cohomology's 0.37 s, but
# 273 MB against 165 MB, above redzed-tda's 230 MB; on low-dimensional data
# it is 5-10x faster (a 3,000-point torus, 3.6 M edges: 0.84 s against 8 s,
# before the tenth session). 0 turns the sweep off.
FORWARD_MAX_EDGES = 5_000_000

# Point clouds with a finite threshold that keeps less than SPARSE_BELOW of
# the pairs (estimated from a sample) are run on the graph of the pairs within
# it (cpp/include/toposcope/radius_graph.hpp): memory follows the edges
# (about this many bytes each, building and holding the graph), not n^2.
BYTES_PER_GRAPH_EDGE = 80
_PAIR_SAMPLE = 4096


def _kept_fraction(P: np.ndarray, threshold: float) -> float:
    """Fraction of the pairs of points within ``threshold``, estimated from a
    fixed sample of pairs (all of them for small clouds), with some slack."""
    n = P.shape[0]
    if n < 2:
        return 0.0
    total = n * (n - 1) // 2
    if total <= _PAIR_SAMPLE:
        i, j = np.triu_indices(n, 1)
    else:
        # Pairs from a multiplicative hash of 0, 1, 2, ...: fixed, spread
        # evenly, and without numpy.random, whose first use in a process costs
        # 10-15 ms (more than the whole computation on o3_1024).
        k = np.arange(1, _PAIR_SAMPLE + 1, dtype=np.uint64)
        i = ((k * np.uint64(0x9E3779B97F4A7C15)) >> np.uint64(33)) % np.uint64(n)
        j = ((k * np.uint64(0xC2B2AE3D27D4EB4F)) >> np.uint64(33)) % np.uint64(n - 1)
        i, j = i.astype(np.intp), j.astype(np.intp)
        j = j + (j >= i)
    d = np.sqrt(((P[i].astype(np.float64) - P[j].astype(np.float64)) ** 2).sum(axis=1))
    kept = float(np.mean(d <= threshold))
    return kept if total <= _PAIR_SAMPLE else min(1.0, kept + 3 * math.sqrt(max(kept, 1e-3) / _PAIR_SAMPLE))


_SCIPY_METRICS = {
    "manhattan": "cityblock",
    "l1": "cityblock",
    "cityblock": "cityblock",
    "l2": "euclidean",
    "cosine": "cosine",
    "chebyshev": "chebyshev",
    "correlation": "correlation",
    "minkowski": "minkowski",
    "sqeuclidean": "sqeuclidean",
    "hamming": "hamming",
    "canberra": "canberra",
    "braycurtis": "braycurtis",
}


@dataclass
class RipsResult:
    """Persistence diagrams and what produced them.

    Attributes
    ----------
    dgms : list of (k, 2) float arrays, one per dimension 0..maxdim; essential
        classes have death ``inf``.
    birth_simplices, death_simplices : per dimension, (k, d+1) and (k, d+2)
        int arrays of vertex indices (decreasing) of the critical simplices of
        each bar; death rows are -1 for essential classes.
    cocycles : per dimension, a list (parallel to the bars) of (m, d+2) int
        arrays: the d+1 vertices of each simplex, then the cocycle's value in
        Z/p. Empty lists unless requested; dimension 0 is always empty.
    num_edges : number of edges in the filtration (at most the threshold).
    threshold : the threshold used (for dense input, the enclosing radius when
        none was given or when it is smaller: no bar changes beyond it; a point
        cloud run on its graph of pairs within the threshold keeps the threshold).
    stats : per dimension counts of columns, apparent/emergent pairs, cleared
        columns and column additions (for the forward sweep: births swept and
        classes killed).
    engine : ``"forward"`` when the forward sweep computed H1 (or H1-H2) over
        Z/2, ``"cohomology"`` otherwise (docs/algorithm.md says which runs when).
    """

    dgms: List[np.ndarray]
    birth_simplices: Optional[List[np.ndarray]]
    death_simplices: Optional[List[np.ndarray]]
    cocycles: List[list]
    num_edges: int
    threshold: float
    n_points: int
    coeff: int
    stats: List[dict] = field(default_factory=list)
    engine: str = "cohomology"

    @property
    def maxdim(self) -> int:
        return len(self.dgms) - 1

    def __getitem__(self, dim: int) -> np.ndarray:
        return self.dgms[dim]

    def betti(self, scale: float) -> List[int]:
        """Betti numbers of the complex at filtration value ``scale``."""
        return [int(np.sum((d[:, 0] <= scale) & (d[:, 1] > scale))) for d in self.dgms]

    def as_ripser_dict(self) -> dict:
        return {"dgms": self.dgms, "cocycles": self.cocycles, "num_edges": self.num_edges}


def _from_core(raw: dict, coeff: int, cocycles: bool) -> RipsResult:
    dgms = [np.asarray(d, dtype=np.float64) for d in raw["dgms"]]
    ccl = [list(c) for c in raw["cocycles"]] if cocycles else [[] for _ in dgms]
    if cocycles:
        ccl[0] = []
    return RipsResult(
        dgms=dgms,
        birth_simplices=None if raw["collapsed"] else list(raw["birth_simplices"]),
        death_simplices=None if raw["collapsed"] else list(raw["death_simplices"]),
        cocycles=ccl,
        num_edges=int(raw["num_edges"]),
        threshold=float(raw["threshold"]),
        n_points=int(raw["n_vertices"]),
        coeff=coeff,
        stats=list(raw["stats"]),
        engine=str(raw["engine"]),
    )


def _check_points(n: int) -> None:
    if n == 0:
        raise ValueError("empty input: at least two points are needed")
    if n == 1:
        raise ValueError("a single point has no Rips filtration to speak of: at least two points are needed")


def _dense_from_square(D: np.ndarray, dt: np.dtype):
    """A symmetric C-contiguous matrix of the engine's dtype (borrowed when the
    input already is one) and the vertex births held on its diagonal."""
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"a distance matrix must be square, got shape {D.shape}")
    n = D.shape[0]
    _check_points(n)
    D = np.ascontiguousarray(D, dtype=dt)
    V.check_finite(D, "the distance matrix")
    if not _exactly_symmetric(D, rtol=1e-7 if dt == np.float32 else 1e-12):
        upper = np.triu(D, 1)
        D = np.ascontiguousarray(upper + upper.T + np.diag(np.diagonal(D)))
    if D.min() < 0:   # the diagonal holds vertex births, which may be negative
        negative = D < 0
        np.fill_diagonal(negative, False)
        if negative.any():
            raise ValueError("the distance matrix has negative entries")
    diag = np.ascontiguousarray(np.diagonal(D))
    births = diag.copy() if np.any(diag != 0) else None
    return D, n, births


def _engine_options(maxdim, coeff, threshold, n_threads, collapse, cocycles):
    """The checked (maxdim, coeff, threshold, n_threads, collapse) the engine
    takes; collapse defaults to on for H2 and above without cocycles."""
    maxdim = V.check_maxdim(maxdim)
    coeff = V.check_coeff(coeff)
    threshold = V.check_threshold(threshold)
    n_threads = V.check_n_threads(n_threads)
    if collapse is None:
        collapse = maxdim >= 2 and not cocycles
    elif collapse and cocycles:
        raise ValueError("collapse=True cannot give cocycles of the input filtration; use collapse=False")
    return maxdim, coeff, threshold, n_threads, bool(collapse)


def _exactly_symmetric(D: np.ndarray, rtol: float) -> bool:
    """Whether D equals its transpose bit for bit; False when it is only
    within rtol of it (rounding); ValueError when it is not even that.
    Compared a band of rows at a time, so that no n x n temporary is made."""
    exact = True
    for i in range(0, D.shape[0], 512):
        rows, columns = D[i:i + 512], D[:, i:i + 512].T
        if not np.array_equal(rows, columns):
            if not np.allclose(rows, columns, rtol=rtol, atol=0):
                raise ValueError("the distance matrix is not symmetric")
            exact = False
    return exact


def _rips_on_euclidean_matrix(D: np.ndarray, maxdim: int, threshold: float, coeff: int,
                              cocycles: bool) -> RipsResult:
    """`rips` of a matrix from ``_core.euclidean_distances``: exactly symmetric,
    finite and non-negative with a zero diagonal by construction, so it is
    borrowed as it is, without the checks a user's matrix gets."""
    _check_points(D.shape[0])
    maxdim, coeff, threshold, n_threads, collapse = _engine_options(maxdim, coeff, threshold, None, None, cocycles)
    raw = _core.rips_square(D, None, maxdim, threshold, coeff, cocycles, n_threads, SPARSE_BELOW, collapse,
                            FORWARD_MAX_EDGES)
    return _from_core(raw, coeff, cocycles)


def _dense_from_condensed(d: np.ndarray, dt: np.dtype):
    m = d.shape[0]
    n = int(round((1 + np.sqrt(1 + 8 * m)) / 2))
    if n * (n - 1) // 2 != m:
        raise ValueError(f"a condensed distance vector needs n*(n-1)/2 entries; {m} is not of that form")
    _check_points(n)
    d = np.ascontiguousarray(d, dtype=dt)
    V.check_finite(d, "the distance vector")
    if (d < 0).any():
        raise ValueError("the distance vector has negative entries")
    return d, n


def _sparse_graph(S, dt: np.dtype):
    if S.ndim != 2 or S.shape[0] != S.shape[1]:
        raise ValueError(f"a sparse distance matrix must be square, got shape {S.shape}")
    n = S.shape[0]
    _check_points(n)
    coo = sparse.coo_matrix(S)
    row, col, val = coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data.astype(dt)
    V.check_finite(val, "the sparse distance matrix")
    diag = row == col
    births = None
    if diag.any():
        births = np.zeros(n, dtype=dt)
        births[row[diag]] = val[diag]
    off = ~diag
    row, col, val = row[off], col[off], val[off]
    # Symmetry: an edge given in both directions must agree.
    lo, hi = np.minimum(row, col), np.maximum(row, col)
    key = lo * n + hi
    order = np.lexsort((val, key))
    key_s, val_s = key[order], val[order]
    same = key_s[1:] == key_s[:-1]
    if np.any(same & ~np.isclose(val_s[1:], val_s[:-1], rtol=1e-12, atol=0)):
        raise ValueError("the sparse distance matrix is not symmetric")
    return n, np.ascontiguousarray(lo), np.ascontiguousarray(hi), np.ascontiguousarray(val), births


def rips(
    X,
    maxdim: int = 1,
    threshold: float = np.inf,
    coeff: int = 2,
    metric: Union[str, Callable] = "euclidean",
    distance_matrix: bool = False,
    cocycles: bool = False,
    n_threads: Optional[int] = None,
    dtype=None,
    approximate: Optional[float] = None,
    n_perm: Optional[int] = None,
    collapse: Optional[bool] = None,
) -> RipsResult:
    """Exact Vietoris-Rips persistent homology.

    Parameters
    ----------
    X : array-like or scipy.sparse matrix
        An (n, d) point cloud; with ``distance_matrix=True`` (or
        ``metric="precomputed"``) a square distance matrix, a condensed
        (scipy ``pdist``) vector, or a ``scipy.sparse`` matrix whose stored
        off-diagonal entries are the edges of the filtration and whose diagonal
        holds vertex birth times (lower-star filtrations, as in ripser.py).
        A sparse matrix is always taken as distances.
    maxdim : highest homology dimension computed.
    threshold : largest filtration value included. For dense input the
        default (inf) uses the enclosing radius, beyond which nothing changes.
        A Euclidean point cloud with a finite threshold that keeps fewer than
        half of the pairs runs on the graph of its pairs within the threshold,
        never building the n x n matrix (memory follows the edges), with the
        same distances and diagrams.
    coeff : prime p < 32768; homology with coefficients in Z/p.
    metric : "euclidean" (computed in C++), any scipy ``pdist`` metric name,
        "manhattan", or a callable on two rows.
    cocycles : also return a representative cocycle for every bar.
    n_threads : threads for the parallel parts (default: all cores).
    dtype : float32 or float64; default keeps float32 input in float32 and
        computes everything else in float64.
    approximate : epsilon > 0 runs the sparse (1 + epsilon)-approximate
        filtration instead (see ``toposcope.approximate_rips`` for the
        guarantee); the result is an ``ApproximateRipsResult``.
    collapse : edge-collapse the graph before computing (Boissonnat & Pritam):
        identical diagrams, far fewer simplices in H2 and above. Default
        (None): on when ``maxdim >= 2`` and no cocycles are asked for. Where
        the forward sweep computes H1-H2 over Z/2 (``engine == "forward"``)
        it runs instead of the collapse, which it outpaces. When collapsed,
        critical simplices are not reported (``birth_simplices`` and
        ``death_simplices`` are None): they would belong to the collapsed
        filtration, not to the input.
    n_perm : first subsample to this many farthest-point landmarks (as in
        ripser.py; ``r_cover`` and ``idx_perm`` are reported).
    """
    if approximate is not None or n_perm is not None:
        from .approximate import approximate_rips

        return approximate_rips(X, approximate, maxdim=maxdim, threshold=threshold, coeff=coeff, metric=metric,
                                distance_matrix=distance_matrix, n_perm=n_perm, cocycles=cocycles,
                                n_threads=n_threads)
    maxdim, coeff, threshold, n_threads, collapse = _engine_options(maxdim, coeff, threshold, n_threads, collapse,
                                                                    cocycles)
    if metric == "precomputed":
        distance_matrix = True

    if issparse(X):
        dt = V.float_dtype(X, dtype)
        n, row, col, val, births = _sparse_graph(X, dt)
        if (val < 0).any() and births is None:
            raise ValueError("the sparse distance matrix has negative entries")
        raw = _core.rips_sparse(n, row, col, val, births, maxdim, threshold, coeff, cocycles, n_threads, collapse,
                                FORWARD_MAX_EDGES)
        return _from_core(raw, coeff, cocycles)

    X = np.asarray(X)
    dt = V.float_dtype(X, dtype)
    if distance_matrix:
        if X.ndim == 1:
            d, n = _dense_from_condensed(X, dt)
            raw = _core.rips_condensed(d, n, None, maxdim, threshold, coeff, cocycles, n_threads, SPARSE_BELOW,
                                       collapse, FORWARD_MAX_EDGES)
        else:
            D, n, births = _dense_from_square(X, dt)
            raw = _core.rips_square(D, births, maxdim, threshold, coeff, cocycles, n_threads, SPARSE_BELOW,
                                    collapse, FORWARD_MAX_EDGES)
        return _from_core(raw, coeff, cocycles)

    if X.ndim != 2:
        raise ValueError(f"a point cloud must be a 2-D array (n_points, n_features), got shape {X.shape}")
    n = X.shape[0]
    _check_points(n)
    if X.shape[1] == 0:
        raise ValueError("points have zero coordinates")
    # The square matrix. The reduction's sorted neighbour lists hold only the
    # prefixes it reads (neighbor_order.hpp), far below a pair's worth.
    per_pair = dt.itemsize
    euclidean = isinstance(metric, str) and metric in ("euclidean", "l2")
    P: Optional[np.ndarray] = None  # the cloud in the engine's dtype, once read
    if euclidean and math.isfinite(threshold):
        P = np.ascontiguousarray(X, dtype=dt)
        V.check_finite(P, "the point cloud")
        kept = _kept_fraction(P, threshold)
        if kept < SPARSE_BELOW or n * n * per_pair * 1.1 > V.available_memory():
            # Only the pairs within the threshold, never the n x n matrix.
            V.check_memory(kept * n * (n - 1) / 2 * BYTES_PER_GRAPH_EDGE, f"the graph of {n} points within {threshold}")
            raw = _core.rips_radius(P, maxdim, threshold, coeff, cocycles, n_threads, collapse, FORWARD_MAX_EDGES)
            return _from_core(raw, coeff, cocycles)
    # Checked before the data is read (when no threshold led here already):
    # a cloud too large for its matrix fails fast.
    V.check_memory(n * n * per_pair * 1.1, f"the distance matrix of {n} points")
    if euclidean:
        if P is None:
            P = np.ascontiguousarray(X, dtype=dt)
            V.check_finite(P, "the point cloud")
        raw = _core.rips_points(P, None, maxdim, threshold, coeff, cocycles, n_threads, SPARSE_BELOW, collapse,
                                FORWARD_MAX_EDGES)
        return _from_core(raw, coeff, cocycles)
    P = np.asarray(X, dtype=np.float64)
    V.check_finite(P, "the point cloud")
    if callable(metric):
        d = pdist(P, metric)
    elif isinstance(metric, str) and metric in _SCIPY_METRICS:
        d = pdist(P, _SCIPY_METRICS[metric])
    else:
        raise ValueError(f"unknown metric {metric!r}; use 'euclidean', a scipy pdist metric name or a callable")
    d = np.ascontiguousarray(d, dtype=dt)
    V.check_finite(d, f"distances under metric {metric!r}")
    raw = _core.rips_condensed(d, n, None, maxdim, threshold, coeff, cocycles, n_threads, SPARSE_BELOW, collapse,
                               FORWARD_MAX_EDGES)
    return _from_core(raw, coeff, cocycles)
