"""Point clouds with a finite threshold run on the graph of their pairs within
it (cpp/include/toposcope/radius_graph.hpp), never on the n x n matrix: the
graph must hold exactly the dense matrix's edges and values, and the diagrams
must be those of the dense path and of gudhi."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

import toposcope as ts
from toposcope import _core, _engine
from conftest import assert_diagrams_close

gudhi = pytest.importorskip("gudhi")


def dense_pairs_within(X: np.ndarray, r: float) -> set:
    """Pairs i < j within r, each distance summed as the C++ kernel does
    (coordinate differences squared, added in coordinate order, in float64)."""
    X64 = X.astype(np.float64)
    out = set()
    for i in range(len(X)):
        diff = X64[i] - X64[i + 1:]
        s = np.zeros(len(diff))
        for a in range(X.shape[1]):
            s = s + diff[:, a] * diff[:, a]
        v = np.sqrt(s).astype(X.dtype)
        for k in np.nonzero(v <= X.dtype.type(r))[0]:
            out.add((i, i + 1 + int(k), float(v[k])))
    return out


@pytest.mark.parametrize("seed", range(40))
def test_radius_edges_are_the_dense_matrix_edges(seed):
    rng = np.random.default_rng(seed)
    n, d = int(rng.integers(1, 150)), int(rng.integers(1, 9))
    X = rng.normal(size=(n, d))
    if seed % 3 == 0:
        X = np.round(X)  # ties, duplicate points, distances exactly at the radius
    if seed % 4 == 0:
        X = X.astype(np.float32)
    r = float(rng.choice([0.0, 1.0, rng.uniform(0, 3)]))
    rows, cols, vals = _core.radius_edges(np.ascontiguousarray(X), r, 2)
    assert (rows < cols).all()
    assert set(zip(rows.tolist(), cols.tolist(), vals.tolist())) == dense_pairs_within(X, r)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("d", [1, 3, 9, 50])
def test_square_matrix_is_the_same_sums_bit_for_bit(dtype, d):
    # The square matrix is measured in vector tiles (rows four at a time,
    # columns eight at a time, remainders one by one): every entry must still
    # be the sequential sum the radius graph uses, whatever n and the threads.
    rng = np.random.default_rng(d)
    for n in (1, 2, 3, 5, 8, 9, 12, 17, 31, 64, 101):
        X = (rng.normal(size=(n, d)) * 10.0 ** rng.integers(-3, 4)).astype(dtype)
        X64 = X.astype(np.float64)
        ref = np.zeros((n, n))
        for a in range(d):
            diff = X64[:, None, a] - X64[None, :, a]
            ref = ref + diff * diff
        ref = np.sqrt(ref).astype(dtype)
        for threads in (1, 2):
            D = _core.euclidean_distances(np.ascontiguousarray(X), threads)
            assert D.dtype == dtype
            assert np.array_equal(D, ref), (n, threads)


def test_radius_edges_of_a_widely_spread_cloud():
    # Far more cells than the grid has per axis: cells grow, pairs are still all found.
    rng = np.random.default_rng(1)
    X = np.r_[rng.uniform(0, 1e6, size=(300, 3)), rng.uniform(0, 1, size=(300, 3))]
    rows, cols, vals = _core.radius_edges(X, 0.3, 1)
    assert set(zip(rows.tolist(), cols.tolist(), vals.tolist())) == dense_pairs_within(X, 0.3)


@pytest.mark.parametrize("seed", range(24))
def test_thresholded_point_clouds_run_on_the_radius_graph(seed, monkeypatch):
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(40, 160))
    d = int(rng.choice([2, 3, 4, 8]))
    X = rng.normal(size=(n, d))
    if seed % 4 == 1:
        X = np.round(X * 2) / 2  # ties
    maxdim = int(rng.integers(1, 4)) if d > 2 else 1
    coeff = int(rng.choice([2, 3]))
    D = squareform(pdist(X))
    threshold = float(np.quantile(D[np.triu_indices(n, 1)], rng.uniform(0.03, 0.3)))
    assert _engine._kept_fraction(X, threshold) < _engine.SPARSE_BELOW
    with monkeypatch.context() as m:
        m.setattr(_core, "rips_points", None)  # the n x n path must not run
        ours = ts.rips(X, maxdim=maxdim, coeff=coeff, threshold=threshold)
    assert ours.threshold == threshold
    dense = ts.rips(D, distance_matrix=True, maxdim=maxdim, coeff=coeff, threshold=threshold)
    assert_diagrams_close(ours.dgms, dense.dgms, rtol=0, atol=0, context=f"seed={seed}")
    assert ours.num_edges == int((D[np.triu_indices(n, 1)] <= threshold).sum())
    rc = gudhi.RipsComplex(distance_matrix=D, max_edge_length=threshold)
    st = rc.create_simplex_tree(max_dimension=maxdim + 1)
    st.compute_persistence(homology_coeff_field=coeff, min_persistence=0.0, persistence_dim_max=True)
    theirs = [st.persistence_intervals_in_dimension(k).reshape(-1, 2) for k in range(maxdim + 1)]
    assert_diagrams_close(ours.dgms, theirs, rtol=1e-9, atol=1e-12, context=f"seed={seed}")


def test_float32_cloud_on_the_radius_graph_matches_the_dense_path():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 3)).astype(np.float32)
    # Over Z/3 with and without the collapse (Z/2 would run the forward sweep).
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_core, "rips_points", None)  # the n x n path must not run
        collapsed = ts.rips(X, maxdim=2, coeff=3, threshold=0.5)
        plain = ts.rips(X, maxdim=2, coeff=3, threshold=0.5, collapse=False)
    assert collapsed.threshold == plain.threshold == np.float32(0.5)
    full = ts.rips(squareform(pdist(X.astype(np.float64))).astype(np.float32), distance_matrix=True,
                   maxdim=2, coeff=3, threshold=0.5)
    assert_diagrams_close(collapsed.dgms, full.dgms, rtol=0, atol=0)
    assert_diagrams_close(plain.dgms, full.dgms, rtol=0, atol=0)


def test_a_cloud_too_large_for_its_matrix_runs_within_the_threshold():
    # 100,000 points: the n x n matrix would need 80 GB; the graph needs a few MB.
    rng = np.random.default_rng(3)
    t = rng.uniform(0, 2 * np.pi, 100_000)
    X = np.c_[np.cos(t), np.sin(t)] * 100 + rng.normal(scale=0.01, size=(100_000, 2))
    result = ts.rips(X, maxdim=1, threshold=0.15)
    assert len(result.dgms[0]) == 100_000
    # Connected well below the threshold: one essential H0 class, and the circle's H1 class.
    assert np.isinf(result.dgms[0][:, 1]).sum() == 1
    assert (np.isinf(result.dgms[1][:, 1])).sum() == 1
