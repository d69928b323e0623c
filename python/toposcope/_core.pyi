"""Type stubs for toposcope's compiled core (``toposcope._core``).

The module is private: the package's public functions validate their input
and call these. Each engine entry point has a float32 and a float64 overload
(chosen by the dtype of the distance/point array, which is never converted);
the computation runs in that precision. ``tests/test_typing.py`` checks that
these stubs name exactly the functions and parameters the module exports.
"""
from typing import Any, Optional, SupportsFloat, SupportsIndex, SupportsInt, Union, overload

import numpy as np
import numpy.typing as npt

_Int = Union[SupportsInt, SupportsIndex]
_Float = Union[SupportsFloat, SupportsIndex]
_Float32Array = npt.NDArray[np.float32]
_Float64Array = npt.NDArray[np.float64]
# Vertex birth times (one per vertex, same dtype as the distances) or None.
_Births = Optional[npt.NDArray[Any]]

# Every ``rips_*`` function returns a plain dict with these keys (one list
# entry per dimension 0..maxdim): "dgms" (k, 2) float64 birth/death pairs;
# "birth_simplices" (k, d+1) and "death_simplices" (k, d+2) int64 vertices
# (-1 rows for essential bars); "cocycles" per bar an (m, d+2) int64 array of
# vertices plus the coefficient; "stats" dicts of column counts; "num_edges",
# "threshold", "n_vertices" and "collapsed" (whether edge collapse ran; the
# critical simplices then belong to the collapsed filtration).
_RawResult = dict[str, Any]

@overload
def rips_condensed(
    dist: _Float32Array,
    n: _Int,
    births: _Births,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    sparse_below: _Float,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult:
    """Persistence of a condensed (scipy pdist layout) distance vector of n points."""

@overload
def rips_condensed(
    dist: _Float64Array,
    n: _Int,
    births: _Births,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    sparse_below: _Float,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult: ...
@overload
def rips_square(
    dist: _Float32Array,
    births: _Births,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    sparse_below: _Float,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult:
    """Persistence of a symmetric square distance matrix (borrowed, not copied)."""

@overload
def rips_square(
    dist: _Float64Array,
    births: _Births,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    sparse_below: _Float,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult: ...
@overload
def rips_points(
    points: _Float32Array,
    births: _Births,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    sparse_below: _Float,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult:
    """Persistence of the Euclidean Rips filtration of an (n, d) point cloud."""

@overload
def rips_points(
    points: _Float64Array,
    births: _Births,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    sparse_below: _Float,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult: ...
@overload
def rips_sparse(
    n: _Int,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    values: _Float32Array,
    births: _Births,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult:
    """Persistence of a graph given as an edge list (i, j, value) on n vertices."""

@overload
def rips_sparse(
    n: _Int,
    rows: npt.ArrayLike,
    cols: npt.ArrayLike,
    values: _Float64Array,
    births: _Births,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult: ...
def rips_radius(
    points: _Float32Array | _Float64Array,
    maxdim: _Int,
    threshold: _Float,
    coeff: _Int,
    cocycles: bool,
    n_threads: _Int,
    collapse: bool,
    forward_max_edges: _Int,
) -> _RawResult:
    """Persistence of a point cloud's graph of pairs within a finite threshold (no n x n matrix)."""

@overload
def radius_edges(
    points: _Float32Array, radius: _Float, n_threads: _Int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], _Float32Array]:
    """Pairs i < j of points within a radius and their distances: (rows, cols, values)."""

@overload
def radius_edges(
    points: _Float64Array, radius: _Float, n_threads: _Int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], _Float64Array]: ...
@overload
def euclidean_distances(points: _Float32Array, n_threads: _Int) -> _Float32Array:
    """The (n, n) Euclidean distance matrix of an (n, d) point cloud, as the engine computes it."""

@overload
def euclidean_distances(points: _Float64Array, n_threads: _Int) -> _Float64Array: ...
@overload
def enclosing_radius(dist: _Float32Array) -> float:
    """Enclosing radius of a square distance matrix: the smallest over i of max_j d(i, j)."""

@overload
def enclosing_radius(dist: _Float64Array) -> float: ...
def is_prime(p: _Int) -> bool:
    """Whether p is a prime (the coefficient field Z/p needs one)."""
@overload
def farthest_points(points: _Float32Array, k: _Int, eps: _Float, start: _Int, n_threads: _Int) -> tuple[npt.NDArray[np.int64], _Float64Array]:
    """Farthest-point sampling of an (n, d) point cloud under the Euclidean distance: (indices int64, covering radii float64)."""

@overload
def farthest_points(points: _Float64Array, k: _Int, eps: _Float, start: _Int, n_threads: _Int) -> tuple[npt.NDArray[np.int64], _Float64Array]: ...
@overload
def farthest_points_precomputed(dist: _Float32Array, k: _Int, eps: _Float, start: _Int, n_threads: _Int) -> tuple[npt.NDArray[np.int64], _Float64Array]:
    """Farthest-point sampling from a square distance matrix (rows read) or a condensed vector: (indices int64, covering radii float64)."""

@overload
def farthest_points_precomputed(dist: _Float64Array, k: _Int, eps: _Float, start: _Int, n_threads: _Int) -> tuple[npt.NDArray[np.int64], _Float64Array]: ...
