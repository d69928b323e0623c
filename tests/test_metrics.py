"""Metrics and diagram distances against hand-derived values and independent libraries."""
import warnings

import numpy as np
import pytest
from scipy.sparse.csgraph import minimum_spanning_tree
from scipy.spatial.distance import pdist, squareform

import toposcope as ts
from toposcope import metrics as M
from toposcope.diagram_distances import bottleneck, diagram_distance_matrix, wasserstein

# bars [0,1), [0.5,2), [1,1.5) and one essential class
D = np.array([[0.0, 1.0], [0.5, 2.0], [1.0, 1.5], [0.0, np.inf]])


def test_hand_derived_scalars():
    assert M.bar_count(D) == 3
    assert M.bar_count(D, infinite="cap", cap=3.0) == 4
    assert M.total_persistence(D) == pytest.approx(1 + 1.5 + 0.5)
    assert M.total_persistence(D, p=2) == pytest.approx(1 + 2.25 + 0.25)
    assert M.persistence_norm(D, p=2) == pytest.approx(np.sqrt(3.5))
    assert M.total_persistence(D, infinite="cap", cap=3.0) == pytest.approx(6.0)
    assert M.max_lifetime(D) == 1.5 and M.mean_lifetime(D) == pytest.approx(1.0)
    assert M.betti_number(D, 0.5) == 3  # [0,1), [0.5,2), [0,inf)
    assert M.betti_number(D, 1.0) == 3  # [1,1.5), [0.5,2), [0,inf): [0,1) is dead at 1
    assert M.betti_number(D, 1.0, infinite="drop") == 2
    assert M.betti_number(D, 2.0) == 1
    q = np.array([1, 1.5, 0.5]) / 3
    assert M.persistence_entropy(D) == pytest.approx(-(q * np.log(q)).sum())
    assert M.persistence_entropy(D, base=2) == pytest.approx(-(q * np.log2(q)).sum())
    assert M.persistence_entropy(D, normalized=True) == pytest.approx(-(q * np.log(q)).sum() / np.log(3))
    with pytest.raises(ValueError, match="cap"):
        M.total_persistence(D, infinite="cap")
    empty = np.zeros((0, 2))
    assert M.total_persistence(empty) == 0 and M.max_lifetime(empty) == 0 and M.persistence_entropy(empty) == 0


def test_entropy_and_betti_curve_match_gudhi():
    R = pytest.importorskip("gudhi.representations")
    rng = np.random.default_rng(0)
    b = rng.uniform(0, 1, 30)
    dg = np.c_[b, b + rng.uniform(0.01, 1, 30)]
    ent = R.Entropy(mode="scalar", normalized=False).fit_transform([dg])[0, 0]
    assert M.persistence_entropy(dg) == pytest.approx(ent, rel=1e-12)
    grid = np.linspace(0, 2, 41)
    bc = R.BettiCurve(predefined_grid=grid).fit_transform([dg])[0]
    np.testing.assert_array_equal(M.betti_curve(dg, grid), bc)
    np.testing.assert_array_equal(M.betti_curve(D, [0, 0.5, 1, 1.5, 2]), [2, 3, 3, 2, 1])


def test_landscape_matches_gudhi_and_brute_force():
    R = pytest.importorskip("gudhi.representations")
    dg = D[:3]
    grid = np.linspace(0, 2, 9)
    L = M.landscape(dg, grid, k=3)
    gl = R.Landscape(num_landscapes=3, resolution=9, sample_range=[0, 2]).fit_transform([dg])[0].reshape(3, 9)
    np.testing.assert_allclose(L, gl / np.sqrt(2), atol=1e-12)  # gudhi scales tents by sqrt(2)
    # hand values: at t = 1, tents are 0, 0.5, 0 -> lambda_1 = 0.5; at t = 0.75: 0.25, 0.25, 0
    i = list(grid).index(1.0)
    assert L[:, i].tolist() == [0.5, 0.0, 0.0]
    assert L[:, list(grid).index(0.75)].tolist() == [0.25, 0.25, 0.0]


def test_persistence_image_matches_persim():
    persim = pytest.importorskip("persim")
    rng = np.random.default_rng(1)
    b = rng.uniform(0, 1, 25)
    dg = np.c_[b, b + rng.uniform(0.05, 1, 25)]
    pimgr = persim.PersistenceImager(birth_range=(0, 1), pers_range=(0, 1), pixel_size=0.1,
                                     weight_params={"n": 1.0}, kernel_params={"sigma": [[0.02, 0], [0, 0.02]]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = pimgr.transform(dg)
    # persim's default weight is persistence ** n; ours "linear" is persistence / weight_max
    got = M.persistence_image(dg, (0, 1), (0, 1), 0.1, sigma=np.sqrt(0.02), weight="linear", weight_max=1.0)
    assert got.shape == want.shape == (10, 10)
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-10)
    # without weights the image integrates to the number of bars (all mass inside the box)
    flat = M.persistence_image(dg, (-2, 3), (-2, 3), 0.1, sigma=0.05, weight=None)
    assert flat.sum() == pytest.approx(25, rel=1e-6)


def test_diagram_distances_match_persim_and_hand_values():
    persim = pytest.importorskip("persim")
    A = np.array([[0.0, 1.0], [0.2, 0.5]])
    B = np.array([[0.0, 1.2]])
    # hand: match (0,1)-(0,1.2) costs 0.2 (L-inf); (0.2,0.5) to the diagonal costs 0.15
    assert bottleneck(A, B) == pytest.approx(0.2)
    assert wasserstein(A, B) == pytest.approx(0.35)
    assert wasserstein(A, B, order=2) == pytest.approx(np.sqrt(0.2 ** 2 + 0.15 ** 2))
    # persim: order 1, Euclidean ground metric
    assert wasserstein(A, B, internal_p=2) == pytest.approx(persim.wasserstein(A, B))
    rng = np.random.default_rng(3)
    for _ in range(5):
        b1, b2 = rng.uniform(0, 1, 12), rng.uniform(0, 1, 9)
        P = np.c_[b1, b1 + rng.uniform(0, 1, 12)]
        Q = np.c_[b2, b2 + rng.uniform(0, 1, 9)]
        assert bottleneck(P, Q) == pytest.approx(persim.bottleneck(P, Q), rel=1e-9)
        assert wasserstein(P, Q, internal_p=2) == pytest.approx(persim.wasserstein(P, Q), rel=1e-6)


def test_infinite_bars_policies():
    A = np.array([[0.0, 1.0], [0.0, np.inf]])
    B = np.array([[0.0, 1.0], [0.3, np.inf]])
    C = np.array([[0.0, 1.0]])
    assert bottleneck(A, B) == 0.0  # dropped
    assert bottleneck(A, B, infinite="match") == pytest.approx(0.3)
    assert bottleneck(A, C, infinite="match") == np.inf
    assert bottleneck(A, B, infinite="cap", cap=2.0) == pytest.approx(0.3)
    assert wasserstein(A, B, infinite="match") == pytest.approx(0.3)
    assert wasserstein(A, C, infinite="cap", cap=2.0) == pytest.approx(1.0)  # (0,2) to the diagonal
    M3 = diagram_distance_matrix([A, B, C], "bottleneck", infinite="match")
    assert M3[0, 1] == pytest.approx(0.3) and M3[0, 2] == np.inf and np.allclose(M3, M3.T)


def test_todacomm_set_and_expansion_ratio():
    dgms = [np.array([[0, 1.0], [0, 2.0], [0, np.inf]]), np.array([[1.0, 1.5]])]
    m = M.todacomm_metrics(dgms)
    assert m == {"h0_total_persistence": 3.0, "h1_total_persistence": 0.5, "h0_max_lifetime": 2.0, "h1_count": 1}
    assert M.expansion_ratio([2.0, 5.0, 3.0]) == 2.5
    assert M.expansion_ratio([2.0, 1.0]) == 1.0


def test_h0_total_persistence_is_mst_length():
    X = np.random.default_rng(0).normal(size=(200, 3))
    mst = minimum_spanning_tree(squareform(pdist(X))).data.sum()
    assert M.total_persistence(ts.rips(X, maxdim=0).dgms[0]) == pytest.approx(mst, rel=1e-12)


def test_intrinsic_dimensions_on_known_manifolds():
    rng = np.random.default_rng(0)
    square = rng.uniform(size=(2000, 2))
    cube = rng.uniform(size=(2000, 3))
    plane_in_r10 = np.c_[rng.uniform(size=(2000, 2)) @ rng.normal(size=(2, 10))]
    assert M.ph_dimension(square, seed=0) == pytest.approx(2.0, abs=0.25)
    assert M.ph_dimension(cube, seed=0) == pytest.approx(3.0, abs=0.4)
    assert M.twonn_dimension(square) == pytest.approx(2.0, abs=0.2)
    assert M.twonn_dimension(cube) == pytest.approx(3.0, abs=0.3)
    assert M.twonn_dimension(plane_in_r10) == pytest.approx(2.0, abs=0.2)
    d, fit = M.ph_dimension(square, return_fit=True)
    # the fit: E(n) ~ n^((d-1)/d) -> slope 1/2 for d = 2
    assert fit["slope"] == pytest.approx(0.5, abs=0.06)


def test_bootstrap_ci():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 1))
    res = M.bootstrap_ci(x, lambda s: float(s.mean()), n_boot=400, seed=1)
    se = x.std() / np.sqrt(400)
    assert res["low"] < x.mean() < res["high"]
    assert res["high"] - res["low"] == pytest.approx(2 * 1.96 * se, rel=0.2)
    # percentile convention: recompute from the returned samples
    assert res["low"] == pytest.approx(np.quantile(res["samples"], 0.025))
    again = M.bootstrap_ci(x, lambda s: float(s.mean()), n_boot=400, seed=1)
    np.testing.assert_array_equal(res["samples"], again["samples"])
    # a persistence statistic over m-out-of-n subsamples
    circle = np.c_[np.cos(np.linspace(0, 2 * np.pi, 300)), np.sin(np.linspace(0, 2 * np.pi, 300))]
    r = M.bootstrap_ci(circle, lambda s: M.max_lifetime(ts.rips(s, maxdim=1).dgms[1]), n_boot=20,
                       sample_size=100, replace=False)
    assert 1.2 < r["low"] <= r["estimate"] <= r["high"] < 1.8  # the circle's H1 bar: ~ [0.06, 1.73)


def test_rtd_zero_for_isometric_and_matches_an_independent_cross_barcode():
    ripser = pytest.importorskip("ripser")
    rng = np.random.default_rng(0)
    A = rng.normal(size=(40, 5))
    Q, _ = np.linalg.qr(rng.normal(size=(5, 5)))
    assert M.rtd(A, A @ Q * 3.0) == pytest.approx(0.0, abs=1e-9)  # same distances up to scale
    t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    circle = np.c_[np.cos(t), np.sin(t)]
    line = np.c_[t, np.zeros_like(t)]
    # independent: build the cross-barcode matrix by hand and run ripser.py on it
    Da, Db = squareform(pdist(circle)), squareform(pdist(line))
    Da, Db = Da / np.quantile(pdist(circle), 0.9), Db / np.quantile(pdist(line), 0.9)
    n = 40
    big = np.block([[np.zeros((n, n)), Da], [Da, np.minimum(Da, Db)]])
    np.fill_diagonal(big, 0)
    h1 = ripser.ripser(big, distance_matrix=True, maxdim=1)["dgms"][1]
    ours = M.cross_barcode(circle, line)[1]
    np.testing.assert_allclose(np.sort(ours, axis=0), np.sort(h1, axis=0), atol=1e-9)
    assert M.rtd(circle, line, symmetric=False) == pytest.approx((h1[:, 1] - h1[:, 0]).sum())
    assert M.rtd(circle, line) > 0.1
