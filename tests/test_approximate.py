"""Sparse approximate Rips: the stated (1 + eps) guarantee against exact
diagrams, linear size for low intrinsic dimension, and the rips() entry."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.distance import pdist, squareform

import toposcope as ts
from toposcope import approximate as A

gudhi = pytest.importorskip("gudhi")


def log_diagram(dgm, shift=0.0):
    """Finite bars in log scale; births at 0 (H0) go to a common floor."""
    d = np.asarray(dgm, dtype=np.float64).reshape(-1, 2)
    d = d[np.isfinite(d[:, 1])]
    born_later = d[:, 0] > 0
    births = np.where(born_later, np.log(np.where(born_later, d[:, 0], 1.0)) + shift, -100.0)
    return np.stack([births, np.log(d[:, 1]) + shift], axis=1)


def clouds():
    rng = np.random.default_rng(0)
    yield "gauss2", rng.normal(size=(120, 2))
    circle = rng.normal(size=(150, 2))
    yield "noisy-circle", circle / np.linalg.norm(circle, axis=1, keepdims=True) + 0.08 * rng.normal(size=(150, 2))
    yield "cube3", rng.uniform(size=(140, 3))
    sphere = rng.normal(size=(130, 3))
    yield "sphere", sphere / np.linalg.norm(sphere, axis=1, keepdims=True)


@pytest.mark.parametrize("name,X", list(clouds()))
def test_bound_against_exact(name, X):
    exact = ts.rips(X, maxdim=2 if name == "sphere" else 1)
    for eps in (0.05, 0.25, 1.0, 3.0):
        approx = ts.approximate_rips(X, eps, maxdim=exact.maxdim)
        c = np.log1p(eps)
        assert approx.factor == pytest.approx(1 + eps)
        for dim, (a, e) in enumerate(zip(approx.dgms, exact.dgms)):
            where = f"{name} eps={eps} H{dim}"
            assert np.isinf(a[:, 1]).sum() == np.isinf(e[:, 1]).sum(), where
            # The docstring's statement: log-scale bottleneck <= log(1 + eps) ...
            plain = gudhi.bottleneck_distance(log_diagram(a), log_diagram(e), 0.0)
            assert plain <= c + 1e-9, f"{where}: {plain} > {c}"
            # ... and the one-sided form: b <= b' <= (1 + eps) b, same for deaths.
            one_sided = gudhi.bottleneck_distance(log_diagram(a), log_diagram(e, shift=c / 2), 0.0)
            assert one_sided <= c / 2 + 1e-9, f"{where}: {one_sided} > {c / 2}"


def test_bound_is_not_vacuous():
    # With a small eps the approximation must actually be close: the most
    # persistent H1 bar of a noisy circle is found within the factor.
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 2 * np.pi, 300)
    X = np.stack([np.cos(t), np.sin(t)], 1) + 0.05 * rng.normal(size=(300, 2))
    exact = ts.rips(X, maxdim=1).dgms[1]
    approx = ts.approximate_rips(X, 0.1, maxdim=1)
    top_e = exact[np.argmax(exact[:, 1] - exact[:, 0])]
    top_a = approx.dgms[1][np.argmax(approx.dgms[1][:, 1] - approx.dgms[1][:, 0])]
    assert top_e[0] <= top_a[0] <= 1.1 * top_e[0] + 1e-12
    assert top_e[1] <= top_a[1] <= 1.1 * top_e[1] + 1e-12
    assert approx.num_edges < ts.rips(X, maxdim=1).num_edges


def test_edges_grow_linearly_for_low_intrinsic_dimension():
    # A noisy circle embedded in R^20 (block search) and a square in R^2
    # (KD-tree): edges per point stay about constant as n grows 8-fold.
    rng = np.random.default_rng(2)
    basis, _ = np.linalg.qr(rng.normal(size=(20, 2)))
    for make in (
        lambda n: rng.uniform(size=(n, 2)),
        lambda n: np.stack([np.cos(u := rng.uniform(0, 2 * np.pi, n)), np.sin(u)], 1) @ basis.T
        + 1e-5 * rng.normal(size=(n, 20)),
    ):
        per_point = []
        for n in (500, 1000, 2000, 4000):
            X = make(n)
            idx, radii = ts.farthest_point_sampling(X)
            lam = np.concatenate([[np.inf], radii[:-1]])
            graph = A.sparse_rips_graph(X[idx], lam, 0.5)
            per_point.append(graph.nnz / n)
        assert per_point[-1] < 1.35 * per_point[0], per_point
        assert per_point[-1] < 0.02 * 4000  # far from the n^2 / 2 of the full graph


def test_kdtree_and_block_search_agree(monkeypatch):
    X = np.random.default_rng(3).normal(size=(300, 3))
    idx, radii = ts.farthest_point_sampling(X)
    lam = np.concatenate([[np.inf], radii[:-1]])
    P = X[idx]
    kd = A.sparse_rips_graph(P, lam, 0.3).tocsr()
    monkeypatch.setattr(A, "KDTREE_MAX_DIM", 0)
    blocks = A.sparse_rips_graph(P, lam, 0.3).tocsr()
    D = squareform(pdist(P))
    dm = A.sparse_rips_graph(D, lam, 0.3, distance_matrix=True).tocsr()
    for other in (blocks, dm):
        assert (kd != 0).nnz == (other != 0).nnz
        np.testing.assert_allclose(kd.toarray(), other.toarray(), rtol=1e-12, atol=1e-15)


def test_precomputed_matches_points_and_maps_back_to_input_indices():
    X = np.random.default_rng(4).normal(size=(100, 2))
    a = ts.approximate_rips(X, 0.5, cocycles=True)
    b = ts.approximate_rips(squareform(pdist(X)), 0.5, distance_matrix=True, cocycles=True)
    c = ts.approximate_rips(pdist(X), 0.5, metric="precomputed")
    for res in (b, c):
        for x, y in zip(a.dgms, res.dgms):
            np.testing.assert_allclose(x, y, rtol=1e-12)
    # Critical edges are input indices at the (sparse) edge value.
    D = squareform(pdist(X))
    edges = a.death_simplices[0]
    finite = np.isfinite(a.dgms[0][:, 1])
    assert np.all(D[edges[finite, 0], edges[finite, 1]] <= a.dgms[0][finite, 1] + 1e-12)
    assert all(z.shape[1] == 3 for z in a.cocycles[1])


def test_rips_entry_points():
    X = np.random.default_rng(5).normal(size=(200, 3))
    via_rips = ts.rips(X, approximate=0.2)
    direct = ts.approximate_rips(X, 0.2)
    assert isinstance(via_rips, ts.ApproximateRipsResult)
    for x, y in zip(via_rips.dgms, direct.dgms):
        np.testing.assert_array_equal(x, y)
    assert via_rips.num_edges == direct.num_edges and via_rips.epsilon == 0.2


def test_n_perm_matches_ripser():
    ripser = pytest.importorskip("ripser")
    X = np.random.default_rng(6).normal(size=(400, 3))
    ours = ts.rips(X, n_perm=60, maxdim=1)
    theirs = ripser.ripser(X, n_perm=60, maxdim=1)
    np.testing.assert_array_equal(ours.idx_perm, theirs["idx_perm"])
    assert ours.r_cover == pytest.approx(theirs["r_cover"], rel=1e-12)
    for x, y in zip(ours.dgms, theirs["dgms"]):
        x = x[np.argsort(x[:, 1])]
        y = y[y[:, 1] > y[:, 0]]
        y = y[np.argsort(y[:, 1])]
        np.testing.assert_allclose(x, y, rtol=1e-5)
    # Landmarks and the approximation together.
    both = ts.rips(X, n_perm=60, approximate=0.5)
    assert both.r_cover == ours.r_cover and both.n_points == 60


def test_bad_arguments():
    X = np.random.default_rng(7).normal(size=(20, 2))
    with pytest.raises(ValueError, match="epsilon"):
        ts.approximate_rips(X, 0.0)
    with pytest.raises(TypeError):
        ts.approximate_rips(X, "0.1")
    with pytest.raises(ValueError, match="triangle"):
        ts.approximate_rips(X, 0.1, metric="cosine")
    with pytest.raises(ValueError, match="n_perm"):
        ts.approximate_rips(X, 0.1, n_perm=21)
    with pytest.raises(ValueError, match="epsilon"):
        ts.approximate_rips(X, None)
    with pytest.raises(MemoryError, match="edges"):
        ts.approximate_rips(X, 0.1, max_edges=10)


def test_result_says_which_engine_ran():
    """The approximate result carries the engine of the computation under it:
    the forward sweep over Z/2, cohomology over Z/3."""
    X = np.random.default_rng(21).normal(size=(300, 3))
    assert ts.rips(X, approximate=0.5, n_perm=150).engine == "forward"
    assert ts.rips(X, approximate=0.5, n_perm=150, coeff=3).engine == "cohomology"
