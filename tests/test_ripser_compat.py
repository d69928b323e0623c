"""`toposcope.ripser` and friends behave as ripser.py's public surface: same
signatures, output structure, warnings and errors; same diagrams up to
float32 rounding (ripser.py's precision); and the documented improvements."""
from __future__ import annotations

import importlib
import inspect
import warnings

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import pdist, squareform

import toposcope as ts
from toposcope._ripser_compat import _greedy_permutation
from conftest import assert_diagrams_close, assert_diagrams_match_float32, bottleneck_at_most

ripserpy = pytest.importorskip("ripser")
ripserpy_module = importlib.import_module("ripser.ripser")  # the submodule, not the function

RNG = np.random.default_rng(42)
X = RNG.normal(size=(50, 3))
SCALE = float(pdist(X).max())


def no_warnings(f, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return f(*args, **kw)


# --------------------------------------------------------------------------- signatures and structure
@pytest.mark.parametrize("name", ["ripser", "lower_star_img", "correlation_to_distance"])
def test_function_signatures_match_ripserpy(name):
    ours, theirs = inspect.signature(getattr(ts, name)), inspect.signature(getattr(ripserpy, name))
    assert [(p.name, p.default) for p in ours.parameters.values()] == \
        [(p.name, p.default) for p in theirs.parameters.values()]


def test_rips_class_signatures_match_ripserpy():
    for method in ("__init__", "transform", "plot"):
        ours = inspect.signature(getattr(ts.Rips, method))
        theirs = inspect.signature(getattr(ripserpy.Rips, method))
        assert [(p.name, p.default) for p in ours.parameters.values()] == \
            [(p.name, p.default) for p in theirs.parameters.values()], method


def test_output_structure_matches_ripserpy():
    ours = no_warnings(ts.ripser, X, maxdim=2, do_cocycles=True)
    theirs = ripserpy.ripser(X, maxdim=2, do_cocycles=True)
    assert set(ours) == set(theirs) == {"dgms", "cocycles", "num_edges", "dperm2all", "idx_perm", "r_cover"}
    assert isinstance(ours["dgms"], list) and len(ours["dgms"]) == 3
    for dgm in ours["dgms"]:
        assert dgm.dtype == np.float64 and dgm.ndim == 2 and dgm.shape[1] == 2
    assert isinstance(ours["cocycles"], list) and len(ours["cocycles"]) == 3 and ours["cocycles"][0] == []
    for dim in (1, 2):
        assert len(ours["cocycles"][dim]) == len(ours["dgms"][dim])
        for c in ours["cocycles"][dim]:
            assert c.dtype == np.int64 and c.shape[1] == dim + 2
    assert isinstance(ours["num_edges"], int) and ours["num_edges"] == theirs["num_edges"]
    np.testing.assert_allclose(ours["dperm2all"], theirs["dperm2all"], atol=1e-12)
    assert ours["idx_perm"].dtype == np.int64
    np.testing.assert_array_equal(ours["idx_perm"], np.arange(len(X)))
    assert ours["r_cover"] == 0.0
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], SCALE)


def test_without_cocycles_lists_are_empty():
    ours = ts.ripser(X, maxdim=2)
    assert ours["cocycles"] == ripserpy.ripser(X, maxdim=2)["cocycles"] == [[], [], []]


def test_drop_in_equals_rips_in_float64_and_float32():
    for data in (X, X.astype(np.float32)):
        assert_diagrams_close(ts.ripser(data, maxdim=2)["dgms"], ts.rips(data, maxdim=2).dgms, rtol=0, atol=0)


@pytest.mark.parametrize("quantile", [0.0, 0.1, 0.5, 1.0])
def test_num_edges_and_thresholds_match_ripserpy(quantile):
    d = np.unique(pdist(X))
    k = min(int(quantile * len(d)), len(d) - 2)
    thresh = float((d[k] + d[k + 1]) / 2)
    ours, theirs = ts.ripser(X, thresh=thresh), ripserpy.ripser(X, thresh=thresh)
    assert ours["num_edges"] == theirs["num_edges"]
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], SCALE)


# --------------------------------------------------------------------------- warnings
def test_square_input_without_distance_matrix_warns_like_ripserpy():
    D = squareform(pdist(X[:10]))
    with pytest.warns(UserWarning, match="distance_matrix flag is off"):
        ours = ts.ripser(D)
    with pytest.warns(UserWarning, match="distance_matrix flag is off"):
        theirs = ripserpy.ripser(D)
    # Both then take the rows as points.
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], float(pdist(D).max()))


def test_more_columns_than_rows_warns_like_ripserpy():
    wide = RNG.normal(size=(5, 8))
    with pytest.warns(UserWarning, match="more columns than rows"):
        ts.ripser(wide)
    with pytest.warns(UserWarning, match="more columns than rows"):
        ripserpy.ripser(wide)


def test_ordinary_inputs_do_not_warn():
    no_warnings(ts.ripser, X)
    no_warnings(ts.ripser, squareform(pdist(X)), distance_matrix=True)
    no_warnings(ts.ripser, sparse.csr_matrix(squareform(pdist(X))), distance_matrix=True)


def test_non_square_distance_matrix_is_a_value_error_like_ripserpy():
    for f in (ts.ripser, ripserpy.ripser):
        with pytest.raises(ValueError, match="not square"):
            f(np.zeros((3, 4)), distance_matrix=True)


# --------------------------------------------------------------------------- inputs
@pytest.mark.parametrize("metric", ["manhattan", "cosine", "l1", "chebyshev", "minkowski"])
def test_named_metrics_match_ripserpy(metric):
    ours, theirs = ts.ripser(X, metric=metric, maxdim=1), ripserpy.ripser(X, metric=metric, maxdim=1)
    np.testing.assert_allclose(ours["dperm2all"], theirs["dperm2all"], atol=1e-12)
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], float(theirs["dperm2all"].max()))


def test_callable_metric_matches_ripserpy_and_named_metric():
    def manhattan(a, b):
        return float(np.abs(a - b).sum())

    ours = ts.ripser(X[:25], metric=manhattan)
    theirs = ripserpy.ripser(X[:25], metric=manhattan)
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], SCALE)
    assert_diagrams_close(ours["dgms"], ts.ripser(X[:25], metric="manhattan")["dgms"], rtol=1e-12)


def test_sparse_feature_matrix_is_points_like_ripserpy():
    """A scipy.sparse X without distance_matrix=True is a sparse point cloud."""
    F = sparse.random(40, 6, density=0.5, random_state=1, format="csr")
    ours, theirs = ts.ripser(F), ripserpy.ripser(F)
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], float(theirs["dperm2all"].max()))


def test_distance_matrix_inputs_match_ripserpy():
    D = squareform(pdist(X))
    for form in (D, sparse.coo_matrix(D), sparse.csr_matrix(D), D.astype(np.float32)):
        theirs = ripserpy.ripser(form, distance_matrix=True, maxdim=2)
        ours = ts.ripser(form, distance_matrix=True, maxdim=2)
        assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], SCALE)
        assert ours["num_edges"] == theirs["num_edges"]
        assert ours["dperm2all"] is form  # ripser.py hands back the input itself
    # An extension: condensed (pdist) vectors are accepted as well.
    assert_diagrams_close(ts.ripser(pdist(X), distance_matrix=True, maxdim=2)["dgms"],
                          ts.ripser(D, distance_matrix=True, maxdim=2)["dgms"], rtol=0, atol=0)


def test_nonzero_diagonal_gives_vertex_births_like_ripserpy():
    values = RNG.uniform(0, 1, size=30)
    D = np.maximum(squareform(pdist(X[:30])), np.maximum.outer(values, values))
    np.fill_diagonal(D, values)
    ours, theirs = ts.ripser(D, distance_matrix=True), ripserpy.ripser(D, distance_matrix=True)
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], float(D.max()))
    assert ours["num_edges"] == theirs["num_edges"]
    assert sorted(ours["dgms"][0][:, 0]) == pytest.approx(sorted(theirs["dgms"][0][:, 0]), rel=1e-6)


def test_zero_distances_with_births_stay_edges():
    """Improvement over ripser.py: duplicate points (distance 0) in a matrix
    with vertex births keep their edge; ripser.py's conversion to
    scipy.sparse drops it and reports two components."""
    D = np.array([[0.5, 0.0, 2.0], [0.0, 0.5, 2.0], [2.0, 2.0, 0.5]])
    ours = ts.ripser(D, distance_matrix=True)["dgms"][0]
    assert len(ours) == 2  # {0, 1} born at 0.5 forever; 2 born at 0.5, merges at 2
    np.testing.assert_array_equal(ours[np.isfinite(ours[:, 1])], [[0.5, 2.0]])
    theirs = ripserpy.ripser(D, distance_matrix=True)["dgms"][0]
    assert len(theirs) == 3  # the ripser.py behaviour this improves on


def test_lower_triangular_sparse_matrix_is_read():
    """Improvement over ripser.py: edges stored below the diagonal count
    (ripser.py reads only entries with row < col)."""
    D = squareform(pdist(X[:20]))
    lower = sparse.coo_matrix(np.tril(D))
    full = ts.ripser(sparse.coo_matrix(D), distance_matrix=True)
    ours = ts.ripser(lower, distance_matrix=True)
    assert_diagrams_close(ours["dgms"], full["dgms"], rtol=0, atol=0)
    assert ours["num_edges"] == full["num_edges"] == 190
    assert ripserpy.ripser(lower, distance_matrix=True)["num_edges"] == 0


def test_float64_is_more_precise_than_ripserpy():
    """Points 1e-9 apart at distance ~1e4: float32 cannot resolve the short
    bars; float64 gives them exactly."""
    base = RNG.normal(size=(20, 2)) * 1e4
    P = np.vstack([base, base + [1e-9 * 1e4, 0]])
    deaths = np.sort(ts.ripser(P)["dgms"][0][:, 1])[:20]
    np.testing.assert_allclose(deaths, 1e-5, rtol=1e-3)


# --------------------------------------------------------------------------- greedy permutation
def brute_force_greedy(D: np.ndarray, k: int):
    chosen = [0]
    for _ in range(1, k):
        nearest = D[chosen].min(axis=0)
        chosen.append(int(np.argmax(nearest)))
    return np.array(chosen), D[chosen].min(axis=0).max()


@pytest.mark.parametrize("n_perm", [1, 2, 7, 30, 49])
def test_greedy_permutation_is_farthest_point_sampling(n_perm):
    D = squareform(pdist(X))
    idx, radii, dperm2all = _greedy_permutation(X, n_perm)
    expected_idx, expected_radius = brute_force_greedy(D, n_perm)
    np.testing.assert_array_equal(idx, expected_idx)
    assert radii[-1] == pytest.approx(expected_radius, rel=1e-12)
    assert np.all(np.diff(radii) <= 0)
    np.testing.assert_allclose(dperm2all, D[idx], rtol=1e-12, atol=1e-12)
    # Same permutation from a distance matrix, and as ripser.py computes it.
    np.testing.assert_array_equal(_greedy_permutation(D, n_perm, distance_matrix=True)[0], idx)
    their_idx, their_radii, _ = ripserpy_module.get_greedy_perm(X, n_perm=n_perm)
    np.testing.assert_array_equal(idx, their_idx)
    np.testing.assert_allclose(radii, their_radii, rtol=1e-9)


def test_n_perm_matches_ripserpy():
    big = RNG.normal(size=(200, 2))
    ours = ts.ripser(big, n_perm=40, do_cocycles=True)
    theirs = ripserpy.ripser(big, n_perm=40, do_cocycles=True)
    np.testing.assert_array_equal(ours["idx_perm"], theirs["idx_perm"])
    assert ours["r_cover"] == pytest.approx(theirs["r_cover"], rel=1e-9)
    assert ours["dperm2all"].shape == theirs["dperm2all"].shape == (40, 200)
    np.testing.assert_allclose(ours["dperm2all"], theirs["dperm2all"], atol=1e-12)
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], float(pdist(big).max()))
    # The subsample's diagrams, exactly; cocycles use original point indices.
    sub = big[ours["idx_perm"]]
    assert_diagrams_close(ours["dgms"], ts.rips(sub).dgms, rtol=1e-12)
    used = set(ours["idx_perm"].tolist())
    assert all(set(c[:, :-1].ravel().tolist()) <= used for c in ours["cocycles"][1])
    # Subsampling error is bounded by the covering radius (stability theorem).
    full = ts.ripser(big)["dgms"]
    for dim in (0, 1):
        assert bottleneck_at_most(full[dim], ours["dgms"][dim], 2 * ours["r_cover"] + 1e-12)


def test_n_perm_on_distance_matrix_and_edge_values():
    D = squareform(pdist(X))
    ours, theirs = ts.ripser(D, distance_matrix=True, n_perm=20), ripserpy.ripser(D, distance_matrix=True, n_perm=20)
    np.testing.assert_array_equal(ours["idx_perm"], theirs["idx_perm"])
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], SCALE)
    for n_perm in (None, 0, len(X)):  # no subsampling at all
        r = ts.ripser(X, n_perm=n_perm)
        assert r["r_cover"] == 0.0 and r["dperm2all"].shape == (len(X), len(X))
        np.testing.assert_array_equal(r["idx_perm"], np.arange(len(X)))


@pytest.mark.parametrize("seed", range(10))
def test_native_farthest_point_sampling_agrees(seed):
    """`ripser(n_perm=...)` uses the C++ sampler for Euclidean points and
    distance matrices: it must pick what the numpy reference picks."""
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(int(rng.integers(5, 300)), int(rng.integers(1, 6))))
    if seed % 2:
        P = np.round(P, 1)  # ties: the lowest index wins in both
    P = np.unique(P, axis=0)  # distinct points: no zero covering radius before the end
    rng.shuffle(P)
    k = int(rng.integers(1, len(P) + 1))
    idx, radii, rows = _greedy_permutation(P, k)
    native_idx, native_radii = ts.farthest_point_sampling(P, k=k)
    np.testing.assert_array_equal(native_idx, idx)
    np.testing.assert_allclose(native_radii, radii, rtol=1e-12)
    D = squareform(pdist(P))
    native_idx, native_radii = ts.farthest_point_sampling(D, k=k, distance_matrix=True)
    np.testing.assert_array_equal(native_idx, idx)
    np.testing.assert_allclose(native_radii, radii, rtol=1e-12)
    r = ts.ripser(P, n_perm=k) if k < len(P) else None
    if r is not None:
        np.testing.assert_array_equal(r["idx_perm"], idx)
        np.testing.assert_allclose(r["dperm2all"], rows, rtol=1e-12, atol=1e-15)


# --------------------------------------------------------------------------- helpers
def test_lower_star_img_matches_ripserpy():
    img = RNG.normal(size=(30, 40))
    ours, theirs = ts.lower_star_img(img), ripserpy.lower_star_img(img)
    assert ours.shape[1] == 2 and ours.dtype == np.float64
    assert_diagrams_match_float32([ours], [theirs], float(np.ptp(img)))
    assert np.isinf(ours[:, 1]).sum() == 1 and ours[np.isinf(ours[:, 1]), 0] == img.min()


def test_correlation_to_distance_matches_ripserpy():
    C = np.corrcoef(RNG.normal(size=(8, 30)))
    ours, theirs = no_warnings(ts.correlation_to_distance, C), ripserpy.correlation_to_distance(C)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=1e-15)
    assert np.all(np.diag(ours) == 0)
    np.testing.assert_array_equal(ts.correlation_to_distance(C, check_input=False), ours)
    # Feeds straight into ripser().
    no_warnings(ts.ripser, ours, distance_matrix=True)


# --------------------------------------------------------------------------- Rips transformer
def test_rips_transformer_matches_ripserpy(capsys):
    ours = ts.Rips(maxdim=2, coeff=3)
    assert "Rips(maxdim=2" in capsys.readouterr().out  # verbose=True by default, as ripser.py
    theirs = ripserpy.Rips(maxdim=2, coeff=3, verbose=False)
    dgms = ours.transform(X)
    assert dgms is ours.dgms_
    assert_diagrams_match_float32(dgms, theirs.fit_transform(X), SCALE)
    assert ours.num_edges_ == theirs.num_edges_
    for attr in ("dperm2all_", "idx_perm_", "cocycles_", "r_cover_"):
        assert type(getattr(ours, attr)) is type(getattr(theirs, attr)), attr
    # ripser.py's positional call fit_transform(D, True) means distance_matrix=True.
    D = squareform(pdist(X))
    quiet = ts.Rips(verbose=False)
    assert_diagrams_close(quiet.fit_transform(D, True), ts.ripser(D, distance_matrix=True)["dgms"], rtol=0, atol=0)
    assert quiet.fit(X) is quiet and quiet.metric_ == "euclidean"


def test_rips_transformer_in_a_pipeline():
    pipeline = pytest.importorskip("sklearn.pipeline")
    preprocessing = pytest.importorskip("sklearn.preprocessing")
    pipe = pipeline.make_pipeline(preprocessing.StandardScaler(), ts.Rips(verbose=False))
    dgms = pipe.fit_transform(X)
    assert len(dgms) == 2 and len(dgms[0]) == len(X)


def test_rips_plot():
    pytest.importorskip("persim")
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    r = ts.Rips(verbose=False)
    r.fit_transform(X)
    r.plot(show=False)
    assert plt.gca().has_data()
    plt.close("all")


def test_n_perm_with_other_metrics_matches_ripserpy():
    for metric in ("manhattan", "cosine"):
        ours = ts.ripser(X, n_perm=15, metric=metric)
        theirs = ripserpy.ripser(X, n_perm=15, metric=metric)
        np.testing.assert_array_equal(ours["idx_perm"], theirs["idx_perm"])
        assert ours["r_cover"] == pytest.approx(theirs["r_cover"], rel=1e-9)
        assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], float(theirs["dperm2all"].max()))


def test_n_perm_beyond_distinct_points_picks_distinct_indices():
    """Improvement over ripser.py: once the sample covers every point
    (covering radius 0), ripser.py repeats index 0; the picks here stay
    distinct. The diagrams agree."""
    base = RNG.normal(size=(6, 2))
    P = np.vstack([base, base])  # every point twice
    ours, theirs = ts.ripser(P, n_perm=9), ripserpy.ripser(P, n_perm=9)
    assert len(set(ours["idx_perm"].tolist())) == 9
    assert len(set(theirs["idx_perm"].tolist())) < 9
    assert ours["r_cover"] == theirs["r_cover"] == 0.0
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], float(pdist(P).max()))


def test_sparse_feature_matrix_with_n_perm():
    """ripser.py fails here (a COO matrix is not subscriptable); the result
    must equal that of the same points given densely."""
    F = sparse.random(40, 6, density=0.5, random_state=3, format="coo")
    ours, dense = ts.ripser(F, n_perm=10), ts.ripser(F.toarray(), n_perm=10)
    np.testing.assert_array_equal(ours["idx_perm"], dense["idx_perm"])
    assert ours["r_cover"] == pytest.approx(dense["r_cover"], rel=1e-12)
    assert_diagrams_close(ours["dgms"], dense["dgms"], rtol=1e-9)


def test_metric_precomputed_means_distance_matrix():
    D = squareform(pdist(X))
    ours = no_warnings(ts.ripser, D, metric="precomputed", maxdim=2)
    assert_diagrams_close(ours["dgms"], ts.ripser(D, distance_matrix=True, maxdim=2)["dgms"], rtol=0, atol=0)


def test_rips_estimator_protocol_and_clone():
    """Rips follows scikit-learn's estimator protocol without subclassing its classes."""
    sklearn_base = pytest.importorskip("sklearn.base")
    from toposcope import Rips

    est = Rips(maxdim=2, thresh=1.5, coeff=3, verbose=False)
    assert est.get_params() == {"maxdim": 2, "thresh": 1.5, "coeff": 3, "do_cocycles": False,
                                "n_perm": None, "verbose": False}
    copy = sklearn_base.clone(est)
    assert copy is not est and copy.get_params() == est.get_params()
    assert est.set_params(maxdim=1) is est and est.maxdim == 1
    with pytest.raises(ValueError, match="invalid parameter"):
        est.set_params(bogus=1)


def test_import_does_not_load_scikit_learn():
    import subprocess
    import sys

    code = "import sys, toposcope; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_import_and_point_cloud_run_do_not_load_scipy():
    """SciPy loads on first use only: a point cloud's persistence needs none of it."""
    import subprocess
    import sys

    code = ("import sys, numpy as np, toposcope as ts\n"
            "r = ts.rips(np.random.default_rng(0).normal(size=(40, 3)), maxdim=1)\n"
            "print(len(r.dgms[1]) > 0, any(m.startswith('scipy') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_sparse_input_still_recognised_after_lazy_scipy():
    from scipy import sparse

    D = sparse.coo_matrix(([1.0, 1.0, 1.5], ([0, 1, 0], [1, 2, 2])), shape=(3, 3))
    res = ts.rips(D, maxdim=1)
    assert res.dgms[0].shape == (3, 2)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_euclidean_matrix_is_computed_once_and_exactly(dtype):
    """ripser() of a Euclidean cloud returns the engine's own matrix: bit for
    bit scipy's pdist (summed in float64, then rounded to the input's
    precision), and the same diagrams as rips() on the cloud."""
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 7)).astype(dtype)
    out = ts.ripser(X, maxdim=1, thresh=2.5)
    expected = squareform(pdist(X.astype(np.float64))).astype(dtype)
    assert out["dperm2all"].dtype == dtype
    np.testing.assert_array_equal(out["dperm2all"], expected)
    for ours, theirs in zip(out["dgms"], ts.rips(X, maxdim=1, threshold=2.5).dgms):
        np.testing.assert_array_equal(ours, theirs)
    assert out["num_edges"] == int(np.count_nonzero(pdist(X.astype(np.float64)).astype(dtype) <= 2.5))
