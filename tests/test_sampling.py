"""Farthest-point sampling: ripser.py's conventions, ties, every engine."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist, squareform

import toposcope as ts
from toposcope.sampling import insertion_radii

ripser_mod = pytest.importorskip("ripser.ripser")
torch = pytest.importorskip("torch")


def reference_fps(D: np.ndarray, k: int, start: int = 0):
    """Greedy loop on a full distance matrix, ties to the lowest unpicked index."""
    n = D.shape[0]
    nearest = D[start].astype(np.float64).copy()
    picked = np.zeros(n, bool)
    picked[start] = True
    order, radii = [start], []
    for _ in range(k):
        masked = np.where(picked, -1.0, nearest)
        nxt = int(np.argmax(masked))
        radii.append(max(masked[nxt], 0.0))
        if len(order) == k:
            break
        order.append(nxt)
        picked[nxt] = True
        nearest = np.minimum(nearest, D[nxt])
    return np.array(order), np.array(radii)


def grid(m: int, dim: int = 2) -> np.ndarray:
    axes = np.meshgrid(*[np.arange(m)] * dim, indexing="ij")
    return np.stack([a.ravel() for a in axes], axis=1).astype(np.float64)


def test_matches_ripser_get_greedy_perm_random():
    X = np.random.default_rng(0).normal(size=(600, 5))
    idx, radii = ts.farthest_point_sampling(X, k=80)
    ref_idx, ref_lambdas, _ = ripser_mod.get_greedy_perm(X, n_perm=80)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(radii, ref_lambdas, rtol=1e-12)


@pytest.mark.parametrize("dim,m", [(2, 12), (3, 6)])
def test_matches_ripser_exactly_on_ties(dim, m):
    # Integer grids: every distance is exact in every implementation, and
    # nearly every pick is a tie; the lowest index must win each time.
    X = grid(m, dim)
    k = len(X) // 2
    ref_idx, ref_lambdas, _ = ripser_mod.get_greedy_perm(X, n_perm=k)
    for engine in (
        lambda: ts.farthest_point_sampling(X, k=k),
        lambda: ts.farthest_point_sampling(X, k=k, n_threads=1),
        lambda: ts.farthest_point_sampling(X, k=k, device="cpu"),
        lambda: ts.farthest_point_sampling(squareform(pdist(X)), k=k, distance_matrix=True),
        lambda: ts.farthest_point_sampling(pdist(X), k=k, distance_matrix=True),
        lambda: ts.farthest_point_sampling(squareform(pdist(X)), k=k, distance_matrix=True, device="cpu"),
    ):
        idx, radii = engine()
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_array_equal(radii, ref_lambdas)


def test_start_and_full_permutation():
    X = np.random.default_rng(1).uniform(size=(300, 3))
    D = squareform(pdist(X))
    idx, radii = ts.farthest_point_sampling(X, start=17)
    ref_idx, ref_radii = reference_fps(D, len(X), start=17)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(radii, ref_radii, rtol=1e-12, atol=0)
    assert idx[0] == 17 and sorted(idx) == list(range(len(X)))
    assert radii[-1] == 0 and np.all(np.diff(radii) <= 0)
    # radii[i] is the covering radius of the first i + 1 picks.
    for i in (0, 5, 50, 299):
        assert radii[i] == pytest.approx(cdist(X, X[idx[: i + 1]]).min(axis=1).max(), rel=1e-12, abs=0)


def test_eps_stops_at_covering_radius():
    X = np.random.default_rng(2).normal(size=(500, 2))
    full_idx, full_radii = ts.farthest_point_sampling(X)
    eps = 0.3
    idx, radii = ts.farthest_point_sampling(X, eps=eps)
    assert radii[-1] <= eps < radii[-2]
    np.testing.assert_array_equal(idx, full_idx[: len(idx)])
    idx_t, radii_t = ts.farthest_point_sampling(X, eps=eps, device="cpu")
    np.testing.assert_array_equal(idx_t, idx)
    # k and eps together: whichever comes first.
    assert len(ts.farthest_point_sampling(X, k=3, eps=eps)[0]) == 3


def test_duplicates_never_picked_twice():
    base = np.random.default_rng(3).normal(size=(20, 3))
    X = np.concatenate([base, base, base[:5]])
    for kwargs in ({}, {"device": "cpu"}, {"metric": "cityblock"}):
        idx, radii = ts.farthest_point_sampling(X, **kwargs)
        assert sorted(idx) == list(range(len(X)))
        assert np.all(radii[19:] == 0) and radii[18] > 0


def test_float32_is_computed_from_its_own_values():
    X = np.random.default_rng(4).normal(size=(400, 16)).astype(np.float32)
    a = ts.farthest_point_sampling(X, k=50)
    b = ts.farthest_point_sampling(X.astype(np.float64), k=50)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_pruned_cpp_matches_brute_force_on_clustered_data():
    # Well-separated clusters: the triangle-inequality skip is active.
    rng = np.random.default_rng(5)
    centres = rng.normal(scale=20, size=(8, 10))
    X = (centres[rng.integers(0, 8, 3000)] + rng.normal(size=(3000, 10))).astype(np.float64)
    D = squareform(pdist(X))
    for threads in (1, 2):
        idx, radii = ts.farthest_point_sampling(X, k=400, n_threads=threads)
        ref_idx, ref_radii = reference_fps(D, 400)
        np.testing.assert_array_equal(idx, ref_idx)
        np.testing.assert_allclose(radii, ref_radii, rtol=1e-12)


@pytest.mark.parametrize("metric", ["cosine", "cityblock", "chebyshev"])
def test_other_metrics_match_ripser(metric):
    X = np.random.default_rng(6).normal(size=(300, 4))
    idx, radii = ts.farthest_point_sampling(X, k=40, metric=metric)
    ref_idx, ref_lambdas, _ = ripser_mod.get_greedy_perm(X, n_perm=40, metric=metric)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_allclose(radii, ref_lambdas, rtol=1e-9)
    if metric == "cosine":
        idx_t, radii_t = ts.farthest_point_sampling(X, k=40, metric=metric, device="cpu")
        np.testing.assert_array_equal(idx_t, ref_idx)
        np.testing.assert_allclose(radii_t, ref_lambdas, rtol=1e-9)


def test_torch_cpu_matches_cpp_and_accepts_tensors():
    X = np.random.default_rng(7).normal(size=(1000, 12))
    a = ts.farthest_point_sampling(X, k=200)
    b = ts.farthest_point_sampling(torch.from_numpy(X), k=200, device="cpu")
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12)
    c = ts.farthest_point_sampling(torch.from_numpy(X), k=200)  # tensor, C++ path
    np.testing.assert_array_equal(a[0], c[0])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the torch CUDA path is tested on GPU hosts")
def test_cuda_matches_cpp():
    X = np.random.default_rng(8).normal(size=(20000, 64)).astype(np.float32)
    a = ts.farthest_point_sampling(X, k=300)
    b = ts.farthest_point_sampling(X, k=300, device="cuda")
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_allclose(a[1], b[1], rtol=1e-12)
    G = grid(10, 3)
    np.testing.assert_array_equal(ts.farthest_point_sampling(G, k=500)[0],
                                  ts.farthest_point_sampling(G, k=500, device="cuda")[0])


def test_insertion_radii():
    X = np.random.default_rng(9).normal(size=(50, 2))
    idx, radii = ts.farthest_point_sampling(X)
    lam = insertion_radii(idx, radii)
    D = squareform(pdist(X))
    assert lam[idx[0]] == np.inf
    for t in range(1, 50):
        assert lam[idx[t]] == pytest.approx(D[idx[t], idx[:t]].min(), rel=1e-12)


@pytest.mark.parametrize(
    "kwargs,error",
    [
        ({"k": 0}, ValueError),
        ({"k": 11}, ValueError),
        ({"k": 2.5}, TypeError),
        ({"start": 10}, ValueError),
        ({"eps": -1.0}, ValueError),
        ({"n_threads": -3}, ValueError),
    ],
)
def test_bad_arguments(kwargs, error):
    X = np.random.default_rng(10).normal(size=(10, 2))
    with pytest.raises(error):
        ts.farthest_point_sampling(X, **kwargs)


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        ts.farthest_point_sampling(np.array([[0.0, 1.0], [np.nan, 0.0]]))
    with pytest.raises(ValueError, match="square"):
        ts.farthest_point_sampling(np.zeros((3, 4)), distance_matrix=True)
    with pytest.raises(ValueError, match="zero"):
        ts.farthest_point_sampling(np.zeros((3, 4)), metric="cosine")
    with pytest.raises(ValueError, match="2-D"):
        ts.farthest_point_sampling(np.zeros(5))
