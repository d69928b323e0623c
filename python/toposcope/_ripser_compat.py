"""A drop-in replacement for ripser.py's public surface, computed by `rips`.

``toposcope.ripser``, ``lower_star_img``, ``correlation_to_distance`` and the
scikit-learn style ``Rips`` take the same arguments and return the same
structures as ripser.py 0.6, so ``from toposcope import ripser`` can replace
``from ripser import ripser``.

Where this module deliberately differs from ripser.py:

* Precision. ripser.py always computes in float32. Here float32 input is
  computed in float32 but every other input in float64, so diagrams of
  float64 data are exact to float64 (they agree with gudhi, and with ripser.py
  up to float32 rounding).
* Euclidean distances are computed directly (``sqrt(sum((x - y)**2))``), not
  with scikit-learn's ``|x|^2 - 2 x.y + |y|^2`` shortcut, whose cancellation
  error is far above float64 resolution for nearby points.
* Bad input (NaN, infinite or negative distances, asymmetric matrices, a
  non-prime ``coeff``...) raises ValueError/TypeError instead of returning
  garbage or crashing.
* A sparse distance matrix may store each edge in either triangle or in both
  (ripser.py silently ignores entries below the diagonal, so a
  lower-triangular matrix gives no edges at all there), and ``num_edges``
  counts each edge once.
* A dense matrix with a nonzero diagonal (vertex birth times) keeps its zero
  off-diagonal entries as edges of length zero (ripser.py converts it to
  ``scipy.sparse`` first, which drops those entries, so duplicate points lose
  their edge).
* ``distance_matrix=True`` also accepts a condensed (scipy ``pdist``) vector.
* ``n_perm`` picks distinct points: once the sample covers every point
  (duplicates), ripser.py keeps re-picking point 0.
* ``Rips`` has a ``fit`` method, so it works inside scikit-learn pipelines.

Like ripser.py, ``ripser`` returns the full distance matrix (``dperm2all``),
so a point cloud needs n^2 floats of memory here; it refuses up front with a
MemoryError when they do not fit. Use `toposcope.rips` when the matrix itself
is not wanted.
"""
from __future__ import annotations

import numbers
import warnings
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

from ._scipy import sparse, issparse, cdist, pdist, squareform
from . import _validation as V
from . import _core
from ._engine import _rips_on_euclidean_matrix, rips
from .sampling import farthest_point_sampling


def _sk_pairwise_distances():
    """scikit-learn's ``pairwise_distances`` (ripser.py's exact metric vocabulary),
    or None without scikit-learn. Imported on first use: importing scikit-learn
    costs ~0.6 s and ~90 MB, which ``import toposcope`` should not pay."""
    try:
        from sklearn.metrics import pairwise_distances
    except ImportError:  # pragma: no cover - exercised only without scikit-learn
        return None
    return pairwise_distances

__all__ = ["ripser", "lower_star_img", "correlation_to_distance", "Rips"]

_EUCLIDEAN = ("euclidean", "l2")
# scipy spellings of the scikit-learn names ripser.py documents, used when
# scikit-learn is not installed.
_SCIPY_NAMES = {"manhattan": "cityblock", "l1": "cityblock", "l2": "euclidean"}


# --------------------------------------------------------------------------- distances
def _check_point_cloud(X) -> None:
    if X.ndim != 2:
        raise ValueError(f"a point cloud must be a 2-D array (n_points, n_features), got shape {X.shape}")
    if X.shape[0] == 0:
        raise ValueError("empty input: at least two points are needed")
    if X.shape[1] == 0:
        raise ValueError("points have zero coordinates")
    if not issparse(X):
        if X.dtype.kind not in "biuf":
            raise TypeError(f"expected a numeric array, got dtype {X.dtype}")
        V.check_finite(X, "the point cloud")
    else:
        V.check_finite(X.data, "the point cloud")


def _distances_to(X, rows, metric) -> np.ndarray:
    """Distances from the points ``X[rows]`` to every point of ``X``: shape (len(rows), n)."""
    if isinstance(metric, str) and metric in _EUCLIDEAN and not issparse(X):
        P = np.asarray(X, dtype=np.float64)
        return cdist(P[rows], P)
    pairwise_distances = _sk_pairwise_distances()
    if pairwise_distances is not None:
        return pairwise_distances(X[rows], X, metric=metric)
    P = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
    name = _SCIPY_NAMES.get(metric, metric) if isinstance(metric, str) else metric
    return cdist(P[rows], P, metric=name)


def _pairwise(X, metric) -> np.ndarray:
    """The full (n, n) distance matrix of a point cloud under ``metric``."""
    if isinstance(metric, str) and metric in _EUCLIDEAN and not issparse(X):
        return squareform(pdist(np.asarray(X, dtype=np.float64)))
    pairwise_distances = _sk_pairwise_distances()
    if pairwise_distances is not None:
        return pairwise_distances(X, metric=metric)
    P = X.toarray() if issparse(X) else np.asarray(X, dtype=np.float64)
    name = _SCIPY_NAMES.get(metric, metric) if isinstance(metric, str) else metric
    return squareform(pdist(P, metric=name))


def _greedy_permutation(X, n_perm: int, distance_matrix: bool = False,
                        metric: Union[str, Callable] = "euclidean") -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Farthest-point sampling of ``n_perm`` points, starting at point 0 (as ripser.py).

    Each next point is the one farthest from those already chosen (the first
    one on ties, as ``np.argmax``). This numpy loop serves the metrics the C++
    `farthest_point_sampling` does not (scikit-learn names, callables, sparse
    features). Like ripser.py, once the sample covers every point (radius 0,
    duplicates) it re-picks point 0, where the C++ sampler takes unpicked ones.

    Returns
    -------
    idx_perm : (n_perm,) int64 indices of the chosen points, in order.
    radii : (n_perm,) float; ``radii[i]`` is the covering radius of the first
        ``i + 1`` points (the distance from the farthest point of ``X`` to
        them), so ``radii[-1]`` is the covering radius of the whole sample.
    dperm2all : (n_perm, n) distances from the chosen points to all points.
    """
    n = X.shape[0]
    idx_perm = np.zeros(n_perm, dtype=np.int64)
    radii = np.zeros(n_perm, dtype=np.float64)
    dperm2all = np.empty((n_perm, n), dtype=np.float64)

    def row(i: int) -> np.ndarray:
        if distance_matrix:
            return np.asarray(X[i], dtype=np.float64).ravel()
        d = _distances_to(X, [i], metric)[0]
        d[i] = 0.0
        return d

    dperm2all[0] = row(0)
    nearest = dperm2all[0].copy()  # distance from each point to the sample so far
    for i in range(1, n_perm):
        far = int(np.argmax(nearest))
        idx_perm[i] = far
        radii[i - 1] = nearest[far]
        dperm2all[i] = row(far)
        np.minimum(nearest, dperm2all[i], out=nearest)
    radii[-1] = nearest.max()
    return idx_perm, radii, dperm2all


def _subsample(X, n_perm: int, distance_matrix: bool, metric) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy permutation for ``n_perm``: (indices, covering radii, dperm2all).

    Euclidean point clouds and dense distance matrices use the C++
    `farthest_point_sampling` (same picks and radii as `_greedy_permutation`,
    which stays for the scikit-learn metrics and callables); only the
    (n_perm, n) distance rows that ripser.py returns are computed here.
    """
    euclidean = isinstance(metric, str) and metric in _EUCLIDEAN
    if distance_matrix and X.ndim == 2:
        idx, radii = farthest_point_sampling(X, k=n_perm, distance_matrix=True)
        return idx, radii, np.asarray(X[idx], dtype=np.float64)
    if not distance_matrix and euclidean and not issparse(X):
        idx, radii = farthest_point_sampling(X, k=n_perm)
        return idx, radii, _distances_to(X, idx, metric)
    return _greedy_permutation(X, n_perm, distance_matrix, metric)


# --------------------------------------------------------------------------- ripser
def _check_n_perm(n_perm, n: int, X, distance_matrix: bool) -> Optional[int]:
    if n_perm is None:
        return None
    if isinstance(n_perm, bool) or not isinstance(n_perm, numbers.Integral):
        raise TypeError(f"n_perm must be an integer or None, got {n_perm!r}")
    n_perm = int(n_perm)
    if n_perm and distance_matrix and issparse(X):
        raise ValueError("Greedy permutation is not supported for sparse distance matrices")
    if n_perm > n:
        raise ValueError(
            f"Number of points in greedy permutation ({n_perm}) is greater than "
            f"number of points in the point cloud ({n})"
        )
    if n_perm < 0:
        raise ValueError("Should be a strictly positive number of points in the greedy permutation")
    return n_perm or None


def _warn_about_shape(X, distance_matrix: bool) -> None:
    if distance_matrix or X.ndim != 2:
        return
    if X.shape[0] == X.shape[1]:
        warnings.warn(
            "The input matrix is square, but the distance_matrix flag is off.  "
            "Did you mean to indicate that this was a distance matrix?"
        )
    elif X.shape[0] < X.shape[1]:
        warnings.warn("The input point cloud has more columns than rows; did you mean to transpose?")


def _rips_on_own_matrix(D: np.ndarray, dtype: np.dtype, **kw):
    """Run `rips` on a square matrix this module computed itself.

    Its upper triangle is used: metrics evaluated by BLAS can be asymmetric in
    the last bits, which must not be mistaken for a user's asymmetric input.
    """
    diag = np.diagonal(D)
    if not np.any(diag != 0):
        return rips(np.asarray(squareform(D, checks=False), dtype=dtype), distance_matrix=True, **kw)
    sym = np.triu(D) + np.triu(D, 1).T
    return rips(np.asarray(sym, dtype=dtype), distance_matrix=True, **kw)


def _ripserpy_edge_count(D: np.ndarray, thresh: float, engine_count: int) -> int:
    """``num_edges`` as ripser.py reports it for a dense (square or condensed) matrix.

    With an infinite threshold and no vertex births, ripser.py and `rips`
    both stop at the enclosing radius, and count the edges up to it. With a
    finite threshold ripser.py counts every edge up to it, whereas `rips`
    still stops at the enclosing radius when that is smaller (nothing changes
    beyond it). With vertex births ripser.py counts all edges.
    """
    births = D.ndim == 2 and np.any(np.diagonal(D) != 0)
    if np.isinf(thresh) and not births:
        return engine_count
    if D.ndim == 1:
        return int(np.count_nonzero(D <= thresh))
    # The upper triangle, a band of rows at a time (no condensed copy).
    return sum(int(np.count_nonzero(np.triu(D[i:i + 512] <= thresh, k=i + 1)))
               for i in range(0, D.shape[0], 512))


def ripser(
    X,
    maxdim: int = 1,
    thresh: float = np.inf,
    coeff: int = 2,
    distance_matrix: bool = False,
    do_cocycles: bool = False,
    metric: Union[str, Callable] = "euclidean",
    n_perm: Optional[int] = None,
) -> dict:
    """Persistence diagrams of ``X``, with ripser.py's signature and output.

    Parameters
    ----------
    X : ndarray (n_samples, n_features), or a distance matrix with
        ``distance_matrix=True``: square (a nonzero diagonal gives vertex birth
        times, i.e. a lower-star filtration), condensed (``pdist``), or
        ``scipy.sparse`` (stored off-diagonal entries are the edges).
    maxdim : highest homology dimension computed.
    thresh : largest edge length included (inf: the whole filtration).
    coeff : prime p; homology with Z/p coefficients.
    distance_matrix : take ``X`` as distances rather than points.
    do_cocycles : return a representative cocycle for every bar.
    metric : for point clouds: "euclidean" (computed exactly), any
        scikit-learn ``pairwise_distances`` metric ("manhattan", "cosine",
        ...), or a callable on two rows.
    n_perm : compute on a greedy (farthest-point) subsample of this many
        points; the bottleneck distance to the full diagrams is at most
        ``2 * r_cover``.

    Returns
    -------
    dict with ripser.py's keys:
        ``dgms`` (list of (k, 2) arrays, dims 0..maxdim), ``cocycles`` (per
        dimension a list of (m, d+2) int arrays: simplex vertices in original
        point indices, then the value in Z/p; empty lists unless
        ``do_cocycles``), ``num_edges``, ``dperm2all`` (the distance matrix
        used, or (n_perm, n) distances from the subsample to all points),
        ``idx_perm`` and ``r_cover`` (0 without subsampling).

    Unlike ripser.py, float64 input is computed in float64 (float32 input in
    float32), and invalid input raises ValueError/TypeError; see the module
    docstring for the other differences.
    """
    if issparse(X):
        X = X.tocsr() if not distance_matrix else X  # row access for sparse feature matrices
    else:
        X = np.asarray(X)
        if X.ndim == 0:
            raise TypeError(f"expected a point cloud or a distance matrix, got {X!r}")
    if isinstance(metric, str) and metric == "precomputed":
        distance_matrix = True  # the user said so: no "did you mean" warning
    distance_matrix = bool(distance_matrix)
    if distance_matrix and X.ndim == 2 and X.shape[0] != X.shape[1]:
        raise ValueError(f"Distance matrix is not square: shape {X.shape}")
    _warn_about_shape(X, distance_matrix)
    maxdim = V.check_maxdim(maxdim)
    coeff = V.check_coeff(coeff)
    n = X.shape[0]
    n_perm = _check_n_perm(n_perm, n, X, distance_matrix)
    kw: Dict[str, Any] = dict(maxdim=maxdim, threshold=thresh, coeff=coeff, cocycles=bool(do_cocycles))

    if not distance_matrix:
        # Before touching the data: a huge input must fail fast, not swap.
        m = n_perm or n
        V.check_memory(8.0 * m * (n + m), f"the {m} x {n} distance matrix")
        _check_point_cloud(X)
    dtype = V.float_dtype(X.data if issparse(X) else X)

    idx_perm = np.arange(n, dtype=np.int64)
    r_cover = 0.0
    if n_perm is not None and n_perm < n:
        if distance_matrix:
            if X.ndim != 2:
                raise ValueError("a greedy permutation needs a square distance matrix, not a condensed vector")
            V.check_finite(X, "the distance matrix")
        idx_perm, radii, dperm2all = _subsample(X, n_perm, distance_matrix, metric)
        r_cover = float(radii[-1])
        used = dperm2all[:, idx_perm]  # the subsample's distance matrix
        if distance_matrix:  # the user's distances: let `rips` check them
            result = rips(used.astype(dtype), distance_matrix=True, **kw)
        else:
            result = _rips_on_own_matrix(used, dtype, **kw)
    elif distance_matrix:
        dperm2all = used = X
        result = rips(X, distance_matrix=True, dtype=dtype, **kw)
    elif isinstance(metric, str) and metric in _EUCLIDEAN and not issparse(X):
        # The engine's own matrix, computed once on all cores and borrowed
        # by the engine: no pdist, squareform or condensed copies.
        dperm2all = used = _core.euclidean_distances(np.ascontiguousarray(X, dtype=dtype), 0)
        result = _rips_on_euclidean_matrix(dperm2all, **kw)
    else:
        dperm2all = used = _pairwise(X, metric)
        V.check_finite(dperm2all, f"distances under metric {metric!r}")
        result = _rips_on_own_matrix(dperm2all, dtype, **kw)
        if dtype == np.float32:
            dperm2all = dperm2all.astype(np.float32)

    num_edges = result.num_edges
    if not issparse(used):
        num_edges = _ripserpy_edge_count(used, thresh, num_edges)

    cocycles = [list(c) for c in result.cocycles]
    if n_perm is not None and n_perm < n:
        # Cocycles index the subsample; report original point indices.
        for dim_cocycles in cocycles:
            for c in dim_cocycles:
                c[:, :-1] = idx_perm[c[:, :-1]]
    return {
        "dgms": result.dgms,
        "cocycles": cocycles,
        "num_edges": num_edges,
        "dperm2all": dperm2all,
        "idx_perm": idx_perm,
        "r_cover": r_cover,
    }


# --------------------------------------------------------------------------- helpers
def lower_star_img(img) -> np.ndarray:
    """0-dimensional persistence of the sublevel-set (lower-star) filtration of an image.

    Pixels are vertices born at their value, joined to their 8 neighbours by
    an edge born at the larger of the two values. Returns the (k, 2) H0
    diagram, as ripser.py's ``lower_star_img`` (float32 images are computed
    in float32, others in float64). Non-finite pixels raise ValueError
    (ripser.py gives meaningless bars for NaN pixels).
    """
    img = np.asarray(img)
    if img.ndim != 2:
        raise ValueError(f"an image must be a 2-D array, got shape {img.shape}")
    if img.dtype.kind not in "biuf":
        raise TypeError(f"expected a numeric image, got dtype {img.dtype}")
    if img.size < 2:
        raise ValueError("an image needs at least two pixels")
    V.check_finite(img, "the image")
    dtype = np.float32 if img.dtype == np.float32 else np.float64
    values = img.astype(dtype)
    m, n = img.shape
    ids = np.arange(m * n).reshape(m, n)
    rows, cols, vals = [ids.ravel()], [ids.ravel()], [values.ravel()]
    # Right, down, down-right and down-left neighbours: each of the 8-neighbour
    # edges exactly once.
    for a, b in (
        ((slice(None), slice(None, -1)), (slice(None), slice(1, None))),
        ((slice(None, -1), slice(None)), (slice(1, None), slice(None))),
        ((slice(None, -1), slice(None, -1)), (slice(1, None), slice(1, None))),
        ((slice(None, -1), slice(1, None)), (slice(1, None), slice(None, -1))),
    ):
        rows.append(ids[a].ravel())
        cols.append(ids[b].ravel())
        vals.append(np.maximum(values[a], values[b]).ravel())
    graph = sparse.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(m * n, m * n)
    )
    return ripser(graph, distance_matrix=True, maxdim=0)["dgms"][0]


def correlation_to_distance(C, check_input: bool = True) -> np.ndarray:
    """Map a correlation matrix to the distance matrix ``sqrt(2 (1 - C))``.

    With ``check_input`` (as ripser.py): ValueError unless ``C`` is a square,
    symmetric 2-D matrix with entries within [-1.05, 1.05]; RuntimeWarning
    when entries fall slightly outside [-1, 1] (they are clipped) or the
    diagonal is not 1. The returned diagonal is 0. Unlike ripser.py, NaN or
    infinite entries raise ValueError when checking.
    """
    C = np.asarray(C, dtype=float)
    if check_input:
        if C.ndim != 2:
            raise ValueError(f"Input must be a 2D matrix, got a {C.ndim}D array instead.")
        if C.shape[0] != C.shape[1]:
            raise ValueError(f"Matrix must be square (n x n), got shape {C.shape}.")
        V.check_finite(C, "the correlation matrix")
        if not np.allclose(C, C.T, rtol=1e-5, atol=1e-5):
            raise ValueError("Matrix must be symmetric; C_ij must equal C_ji")
        if np.any(np.abs(C) > 1.05):
            raise ValueError(
                "Values are significantly outside the valid correlation bounds [-1,1]. "
                "Ensure you are passing a correlation matrix, not a covariance or raw data matrix."
            )
        if np.any(np.abs(C) > 1.0):
            warnings.warn(
                "Some values are slightly outside the valid correlation bounds [-1,1]; they have been clipped.",
                RuntimeWarning,
            )
        if not np.allclose(np.diag(C), 1.0, atol=1e-3):
            warnings.warn(
                "The matrix diagonal elements deviate from 1.0. Ensure this is a correlation matrix.",
                RuntimeWarning,
            )
    D = np.sqrt(2.0 * (1.0 - np.clip(C, -1.0, 1.0)))
    if D.ndim == 2 and D.shape[0] == D.shape[1]:
        np.fill_diagonal(D, 0.0)
    return D


class Rips:
    """scikit-learn style interface to `ripser` (same arguments as ripser.py's ``Rips``).

    It follows scikit-learn's estimator protocol (``get_params``/``set_params``,
    ``fit``/``transform``/``fit_transform``), so it works in pipelines and with
    ``sklearn.base.clone``, without importing scikit-learn.

    Parameters
    ----------
    maxdim, thresh, coeff, do_cocycles, n_perm : as in `ripser`.
    verbose : print the parameters on construction (ripser.py's default).

    Attributes (after ``transform``/``fit``)
    ----------------------------------------
    dgms_, cocycles_, num_edges_, dperm2all_, idx_perm_, r_cover_, metric_
    """

    def __init__(self, maxdim=1, thresh=np.inf, coeff=2, do_cocycles=False, n_perm=None, verbose=True):
        self.maxdim = maxdim
        self.thresh = thresh
        self.coeff = coeff
        self.do_cocycles = do_cocycles
        self.n_perm = n_perm
        self.verbose = verbose
        self.dgms_ = None
        self.cocycles_ = None
        self.dperm2all_ = None
        self.metric_ = None
        self.num_edges_ = None
        self.idx_perm_ = None
        self.r_cover_ = 0.0
        if verbose:
            print(
                f"Rips(maxdim={maxdim}, thresh={thresh}, coeff={coeff}, do_cocycles={do_cocycles}, "
                f"n_perm = {n_perm}, verbose={verbose})"
            )

    _PARAMS = ("maxdim", "thresh", "coeff", "do_cocycles", "n_perm", "verbose")

    def get_params(self, deep=True):
        """The constructor's parameters (scikit-learn estimator protocol)."""
        return {name: getattr(self, name) for name in self._PARAMS}

    def set_params(self, **params):
        """Set constructor parameters by name; returns ``self``."""
        for name, value in params.items():
            if name not in self._PARAMS:
                raise ValueError(f"invalid parameter {name!r} for Rips; valid: {', '.join(self._PARAMS)}")
            setattr(self, name, value)
        return self

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"Rips({args})"

    def fit(self, X, y=None, distance_matrix=False, metric="euclidean"):
        """Compute the diagrams of ``X`` and return ``self`` (for pipelines)."""
        self.transform(X, distance_matrix=distance_matrix, metric=metric)
        return self

    def transform(self, X, distance_matrix=False, metric="euclidean"):
        """Compute and return the persistence diagrams of ``X`` (see `ripser`)."""
        result = ripser(
            X,
            maxdim=self.maxdim,
            thresh=self.thresh,
            coeff=self.coeff,
            do_cocycles=self.do_cocycles,
            distance_matrix=distance_matrix,
            metric=metric,
            n_perm=self.n_perm,
        )
        self.dgms_ = result["dgms"]
        self.num_edges_ = result["num_edges"]
        self.dperm2all_ = result["dperm2all"]
        self.idx_perm_ = result["idx_perm"]
        self.cocycles_ = result["cocycles"]
        self.r_cover_ = result["r_cover"]
        self.metric_ = metric
        return self.dgms_

    def fit_transform(self, X, y=None, distance_matrix=False, metric="euclidean"):
        """Compute and return the persistence diagrams of ``X``.

        ``y`` is ignored (scikit-learn convention). ripser.py's signature is
        ``fit_transform(X, distance_matrix=False, metric="euclidean")``, so a
        boolean passed positionally second is taken as ``distance_matrix``.
        """
        if isinstance(y, (bool, np.bool_)):
            distance_matrix, y = bool(y), None
        return self.transform(X, distance_matrix=distance_matrix, metric=metric)

    def plot(self, diagrams=None, *args, **kwargs):
        """Plot diagrams (default: the last computed ones) with ``persim.plot_diagrams``."""
        try:
            import persim
        except ImportError as exc:
            raise ImportError("Rips.plot needs persim (pip install persim)") from exc
        if diagrams is None:
            diagrams = self.dgms_
        persim.plot_diagrams(diagrams, *args, **kwargs)
