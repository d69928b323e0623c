"""Randomized comparisons of `toposcope.rips` / `toposcope.ripser` against gudhi
(float64: equal up to 1e-9 relative) and ripser.py (float32: equal up to
float32 rounding), plus structural checks of cocycles and critical simplices.

Every test is seeded, so a failure names its seed and reproduces exactly.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import pdist, squareform

import toposcope as ts
from conftest import assert_diagrams_close, assert_diagrams_match_float32

gudhi = pytest.importorskip("gudhi")
ripserpy = pytest.importorskip("ripser")
hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings, strategies as st  # noqa: E402

PRIMES = (2, 3, 5)
DIMS = (2, 3, 5, 10, 50)


# --------------------------------------------------------------------------- references
def gudhi_diagrams(simplex_tree, maxdim: int, coeff: int):
    simplex_tree.compute_persistence(homology_coeff_field=coeff, min_persistence=0.0, persistence_dim_max=True)
    return [simplex_tree.persistence_intervals_in_dimension(d).reshape(-1, 2) for d in range(maxdim + 1)]


def gudhi_rips(D: np.ndarray, maxdim: int, coeff: int, threshold: float = np.inf):
    """gudhi's Rips persistence of a square float64 distance matrix."""
    rc = gudhi.RipsComplex(distance_matrix=D, max_edge_length=threshold)
    return gudhi_diagrams(rc.create_simplex_tree(max_dimension=maxdim + 1), maxdim, coeff)


def gudhi_flag(n: int, rows, cols, weights, births, maxdim: int, coeff: int):
    """gudhi's persistence of the clique complex of a weighted graph built by hand."""
    tree = gudhi.SimplexTree()
    for v in range(n):
        tree.insert([v], filtration=0.0 if births is None else float(births[v]))
    for i, j, w in zip(rows, cols, weights):
        tree.insert([int(i), int(j)], filtration=float(w))
    tree.make_filtration_non_decreasing()
    tree.expansion(maxdim + 1)
    return gudhi_diagrams(tree, maxdim, coeff)


# --------------------------------------------------------------------------- generators
def random_points(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Points of one of several kinds, some with many tied distances or duplicates."""
    kind = rng.integers(7)
    if kind == 0:  # generic
        return rng.normal(size=(n, d))
    if kind == 1:  # rounded coordinates: many equal distances
        return np.round(rng.normal(size=(n, d)), 1)
    if kind == 2:  # integer grid points: massive ties
        return rng.integers(0, 4, size=(n, d)).astype(np.float64)
    if kind == 3:  # duplicates
        base = rng.normal(size=(max(2, n // 2), d))
        return base[rng.integers(len(base), size=n)]
    X = np.zeros((n, d))
    if kind == 4 or d < 3:  # noisy circle embedded in R^d (a long H1 bar)
        t = rng.uniform(0, 2 * np.pi, n)
        X[:, 0], X[:, 1] = np.cos(t), np.sin(t)
    elif kind == 5:  # noisy 2-sphere (an H2 bar)
        s = rng.normal(size=(n, 3))
        X[:, :3] = s / np.linalg.norm(s, axis=1, keepdims=True)
    else:  # 3-sphere, or its surface-like cross-section for d == 3 (H3 / H2 bars)
        k = min(d, 4)
        s = rng.normal(size=(n, k))
        X[:, :k] = s / np.linalg.norm(s, axis=1, keepdims=True)
    return X + 0.05 * rng.normal(size=(n, d))


def safe_threshold(dists: np.ndarray, quantile: float, rel_gap: float = 0.0) -> float:
    """A threshold halfway between two distinct distances near ``quantile``,
    so no edge sits on it and rounding cannot move an edge across it; the
    two distances differ by more than ``rel_gap`` relative."""
    values = np.unique(dists)
    if len(values) < 2:
        return float(values[0]) + 1.0
    gaps = np.flatnonzero(values[1:] - values[:-1] > rel_gap * values[1:])
    if len(gaps) == 0:
        return float(values[-1]) * (1 + 2 * rel_gap) + 1.0
    k = gaps[np.argmin(np.abs(gaps - quantile * len(values)))]
    return float((values[k] + values[k + 1]) / 2)


def random_config(seed: int):
    """(points, maxdim, coeff, threshold) sized so gudhi stays fast."""
    rng = np.random.default_rng(seed)
    maxdim = int(rng.choice([0, 1, 1, 2, 3]))
    n_max = {0: 300, 1: 100, 2: 36, 3: 16}[maxdim]
    n = int(rng.integers(3, n_max + 1))
    d = int(rng.choice(DIMS))
    X = random_points(rng, n, d)
    coeff = int(rng.choice(PRIMES))
    threshold = np.inf if rng.random() < 0.5 else safe_threshold(pdist(X), rng.uniform(0.05, 0.6))
    return X, maxdim, coeff, threshold


# --------------------------------------------------------------------------- gudhi, float64
@pytest.mark.parametrize("seed", range(150))
def test_point_clouds_match_gudhi(seed):
    X, maxdim, coeff, threshold = random_config(seed)
    D = squareform(pdist(X))
    expected = gudhi_rips(D, maxdim, coeff, threshold)
    ctx = f"seed={seed} n={len(X)} d={X.shape[1]} maxdim={maxdim} coeff={coeff} thresh={threshold}"

    ours = ts.rips(X, maxdim=maxdim, threshold=threshold, coeff=coeff)
    assert_diagrams_close(ours.dgms, expected, context=ctx + " points")
    # The same filtration given as a square and as a condensed distance matrix.
    for form, M in (("square", D), ("condensed", pdist(X))):
        again = ts.rips(M, distance_matrix=True, maxdim=maxdim, threshold=threshold, coeff=coeff)
        assert_diagrams_close(again.dgms, expected, context=f"{ctx} {form}")


@pytest.mark.parametrize("seed", range(12))
def test_larger_point_clouds_match_gudhi(seed):
    """Hundreds of points, with a threshold so gudhi's complex stays small."""
    rng = np.random.default_rng(1000 + seed)
    maxdim = 1 if seed % 3 else 2
    n, d = int(rng.integers(200, 301)) // maxdim, int(rng.choice([2, 3, 10]))
    X = random_points(rng, n, d)
    threshold = safe_threshold(pdist(X), 0.1 if maxdim == 1 else 0.08)
    coeff = int(rng.choice(PRIMES))
    expected = gudhi_rips(squareform(pdist(X)), maxdim, coeff, threshold)
    ours = ts.rips(X, maxdim=maxdim, threshold=threshold, coeff=coeff)
    assert_diagrams_close(ours.dgms, expected, context=f"seed={seed} n={n} d={d}")


@pytest.mark.parametrize("seed", range(6))
def test_long_neighbour_lists_match_gudhi(seed):
    """600-900 points on the dense cohomology path (Z/3, or Z/2 with cocycles:
    no forward sweep), where each vertex's sorted neighbours are selected from
    its row in chunks rather than sorted whole; from 2,048 points (the last
    seeds) a chunk's first bound is estimated from a sample of the row (lists
    of 1,024 entries or more), and Prim runs on two lanes."""
    from gudhi.sklearn.rips_persistence import RipsPersistence

    rng = np.random.default_rng(7000 + seed)
    n = int(rng.integers(600, 901)) if seed < 4 else int(rng.integers(2048, 2300))
    d = int(rng.choice([2, 3, 10]))
    X = random_points(rng, n, d)
    coeff, cocycles = (3, False) if seed % 2 == 0 else (2, True)
    threshold = np.inf if seed % 3 else safe_threshold(pdist(X), 0.7)
    ours = ts.rips(X, maxdim=1, threshold=threshold, coeff=coeff, cocycles=cocycles)
    assert ours.engine == "cohomology"
    expected = RipsPersistence(homology_dimensions=[0, 1], threshold=threshold,
                               homology_coeff_field=coeff).fit_transform([X])[0]
    assert_diagrams_close(ours.dgms, [np.asarray(e).reshape(-1, 2) for e in expected],
                          context=f"seed={seed} n={n} d={d}")


@pytest.mark.parametrize("seed", range(12))
def test_cross_polytopes_match_gudhi(seed):
    """Perturbed boundaries of cross-polytopes are spheres: a guaranteed H2
    (octahedron) or H3 (16-cell) bar, so the top dimensions are exercised."""
    rng = np.random.default_rng(1500 + seed)
    k = 3 + seed % 2  # sphere dimension k - 1
    d = k + int(rng.integers(0, 3))
    vertices = np.vstack([np.eye(k), -np.eye(k)]) * rng.uniform(0.9, 1.1, size=(2 * k, 1))
    X = np.zeros((2 * k, d))
    X[:, :k] = vertices
    X += 0.02 * rng.normal(size=X.shape)
    maxdim, coeff = k - 1, int(rng.choice(PRIMES))
    expected = gudhi_rips(squareform(pdist(X)), maxdim, coeff)
    ours = ts.rips(X, maxdim=maxdim, coeff=coeff)
    assert len(ours.dgms[maxdim]) == 1
    assert_diagrams_close(ours.dgms, expected, context=f"seed={seed} k={k}")


def random_graph(rng: np.random.Generator, n: int, p: float, integer_weights: bool):
    """Edges (i < j) of an Erdos-Renyi graph with random (possibly tied) weights."""
    i, j = np.triu_indices(n, 1)
    keep = rng.random(len(i)) < p
    i, j = i[keep], j[keep]
    w = rng.integers(1, 6, size=len(i)).astype(np.float64) if integer_weights else rng.uniform(0.1, 2, len(i))
    return i, j, w


@pytest.mark.parametrize("seed", range(60))
def test_sparse_graphs_match_gudhi(seed):
    rng = np.random.default_rng(2000 + seed)
    maxdim = int(rng.choice([0, 1, 2]))
    n = int(rng.integers(3, {0: 200, 1: 80, 2: 30}[maxdim]))
    i, j, w = random_graph(rng, n, float(rng.uniform(0.05, 0.7)), bool(rng.integers(2)))
    coeff = int(rng.choice(PRIMES))
    # Store each edge in the upper triangle, the lower one, or both.
    layout = rng.integers(3)
    if layout == 0:
        S = sparse.coo_matrix((w, (i, j)), shape=(n, n))
    elif layout == 1:
        S = sparse.coo_matrix((w, (j, i)), shape=(n, n)).tocsr()
    else:
        S = sparse.coo_matrix((np.r_[w, w], (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    expected = gudhi_flag(n, i, j, w, None, maxdim, coeff)
    ours = ts.rips(S, maxdim=maxdim, coeff=coeff)
    ctx = f"seed={seed} n={n} edges={len(w)} layout={layout}"
    assert_diagrams_close(ours.dgms, expected, context=ctx)
    assert ours.num_edges == len(w)
    assert_diagrams_close(ts.ripser(S, maxdim=maxdim, coeff=coeff, distance_matrix=True)["dgms"], expected,
                          context=ctx + " ripser()")


# Seeds 20009 and 20024 once gave a wrong H1 and a runaway to std::bad_alloc
# (negative values; see test_negative_filtration_values_match_gudhi).
@pytest.mark.parametrize("seed", [*range(60), 20009, 20024])
def test_lower_star_graphs_match_gudhi(seed):
    """Sparse graphs with vertex values on the diagonal and edges born at the
    larger endpoint value (a lower-star filtration), plus extra later edges."""
    rng = np.random.default_rng(3000 + seed)
    maxdim = int(rng.choice([0, 1, 2]))
    n = int(rng.integers(3, {0: 200, 1: 80, 2: 30}[maxdim]))
    i, j, _ = random_graph(rng, n, float(rng.uniform(0.05, 0.6)), False)
    values = np.round(rng.normal(size=n), int(rng.integers(1, 4)))
    w = np.maximum(values[i], values[j]) + rng.choice([0.0, 0.0, 0.5], size=len(i))
    coeff = int(rng.choice(PRIMES))
    S = sparse.coo_matrix((np.r_[w, values], (np.r_[i, np.arange(n)], np.r_[j, np.arange(n)])), shape=(n, n))
    expected = gudhi_flag(n, i, j, w, values, maxdim, coeff)
    ours = ts.rips(S, maxdim=maxdim, coeff=coeff)
    assert_diagrams_close(ours.dgms, expected, context=f"seed={seed} n={n}")


@pytest.mark.parametrize("seed", range(15))
def test_dense_lower_star_matches_gudhi(seed):
    """A dense matrix with a nonzero diagonal (vertex births) and ties."""
    rng = np.random.default_rng(4000 + seed)
    maxdim = int(rng.choice([0, 1, 2]))
    n = int(rng.integers(3, {0: 100, 1: 50, 2: 20}[maxdim]))
    values = rng.integers(0, 5, size=n).astype(np.float64)
    W = np.round(rng.uniform(0, 6, size=(n, n)), 0)
    D = np.maximum(np.maximum.outer(values, values), np.triu(W, 1) + np.triu(W, 1).T)
    np.fill_diagonal(D, values)
    i, j = np.triu_indices(n, 1)
    coeff = int(rng.choice(PRIMES))
    expected = gudhi_flag(n, i, j, D[i, j], values, maxdim, coeff)
    ours = ts.rips(D, distance_matrix=True, maxdim=maxdim, coeff=coeff)
    assert_diagrams_close(ours.dgms, expected, context=f"seed={seed} n={n}")
    assert_diagrams_close(ts.ripser(D, distance_matrix=True, maxdim=maxdim, coeff=coeff)["dgms"], expected,
                          context=f"seed={seed} n={n} ripser()")


def gudhi_lower_star_image(img: np.ndarray):
    """H0 of the 8-neighbour lower-star filtration of an image, by hand in gudhi."""
    m, n = img.shape
    ids = np.arange(m * n).reshape(m, n)
    tree = gudhi.SimplexTree()
    for v, value in enumerate(img.ravel()):
        tree.insert([v], filtration=float(value))
    for di, dj in ((0, 1), (1, 0), (1, 1), (1, -1)):
        for r, c in itertools.product(range(m), range(n)):
            r2, c2 = r + di, c + dj
            if 0 <= r2 < m and 0 <= c2 < n:
                tree.insert([ids[r, c], ids[r2, c2]], filtration=float(max(img[r, c], img[r2, c2])))
    return gudhi_diagrams(tree, 0, 2)


@pytest.mark.parametrize("seed", range(10))
def test_lower_star_img_matches_gudhi_and_ripserpy(seed):
    rng = np.random.default_rng(5000 + seed)
    m, n = (int(x) for x in rng.integers(2, 25, size=2))
    img = rng.normal(size=(m, n))
    if seed % 2:
        img = np.round(img, 1)  # plateaus: ties between pixels
    ours = ts.lower_star_img(img)
    assert_diagrams_close([ours], gudhi_lower_star_image(img), context=f"seed={seed}")
    # float32 images: both compute in float32 on values that are exact, so equal.
    img32 = img.astype(np.float32)
    assert_diagrams_close([ts.lower_star_img(img32)], [ripserpy.lower_star_img(img32)], rtol=0, atol=0,
                          context=f"seed={seed} float32")


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(0, 2)), min_size=2, max_size=14),
    st.integers(0, 2),
    st.sampled_from(PRIMES),
)
def test_integer_points_with_ties_match_gudhi(points, maxdim, coeff):
    """Small integer point sets: many equal distances and duplicate points."""
    X = np.array(points, dtype=np.float64)
    assert_diagrams_close(ts.rips(X, maxdim=maxdim, coeff=coeff).dgms,
                          gudhi_rips(squareform(pdist(X)), maxdim, coeff), context=f"X={points}")


@pytest.mark.parametrize("seed", range(40))
def test_ties_in_high_dimensions_match_gudhi(seed):
    """H2 and H3 with many equal diameters, dense and thresholded (sparse): the
    apparent pairs of the top dimensions are found from vertex lists there."""
    rng = np.random.default_rng(9000 + seed)
    n = int(rng.integers(8, 22))
    X = rng.integers(0, 3, size=(n, int(rng.integers(2, 5)))).astype(np.float64)
    maxdim, coeff = int(rng.integers(2, 4)), int(rng.choice(PRIMES))
    threshold = np.inf if seed % 2 else float(rng.choice([1.0, 1.5, 2.0]))
    expected = gudhi_rips(squareform(pdist(X)), maxdim, coeff, threshold)
    ours = ts.rips(X, maxdim=maxdim, coeff=coeff, threshold=threshold)
    assert_diagrams_close(ours.dgms, expected, context=f"seed={seed} n={n} maxdim={maxdim} thr={threshold}")


# --------------------------------------------------------------------------- ripser.py, float32
def ripserpy_config(seed: int):
    rng = np.random.default_rng(6000 + seed)
    maxdim = int(rng.choice([0, 1, 1, 2, 3]))
    n = int(rng.integers(3, {0: 300, 1: 200, 2: 60, 3: 25}[maxdim]))
    X = random_points(rng, n, int(rng.choice(DIMS)))
    threshold = np.inf if rng.random() < 0.5 else safe_threshold(pdist(X), rng.uniform(0.05, 0.6), 1e-4)
    return X, maxdim, int(rng.choice(PRIMES)), threshold


@pytest.mark.filterwarnings("ignore:The input point cloud has more columns")
@pytest.mark.parametrize("seed", range(100))
def test_points_match_ripserpy(seed):
    X, maxdim, coeff, threshold = ripserpy_config(seed)
    kw = dict(maxdim=maxdim, coeff=coeff, thresh=threshold)
    theirs = ripserpy.ripser(X, **kw)["dgms"]
    scale = float(pdist(X).max()) or 1.0
    ctx = f"seed={seed} n={len(X)} d={X.shape[1]} maxdim={maxdim} coeff={coeff} thresh={threshold}"
    assert_diagrams_match_float32(ts.ripser(X, **kw)["dgms"], theirs, scale, context=ctx)
    assert_diagrams_match_float32(ts.ripser(X.astype(np.float32), **kw)["dgms"], theirs, scale,
                                  context=ctx + " float32")


@pytest.mark.parametrize("seed", range(40))
def test_sparse_and_lower_star_match_ripserpy(seed):
    rng = np.random.default_rng(7000 + seed)
    maxdim = int(rng.choice([0, 1, 2]))
    n = int(rng.integers(3, {0: 200, 1: 80, 2: 30}[maxdim]))
    i, j, w = random_graph(rng, n, float(rng.uniform(0.05, 0.6)), bool(rng.integers(2)))
    rows, cols, vals = i, j, w
    if seed % 2:  # lower-star: vertex values on the diagonal
        values = np.round(rng.uniform(0, 1, size=n), 2)
        vals = np.maximum(w, np.maximum(values[i], values[j]))
        rows, cols, vals = np.r_[i, np.arange(n)], np.r_[j, np.arange(n)], np.r_[vals, values]
    # Upper-triangle storage: the only one ripser.py reads.
    S = sparse.coo_matrix((vals, (rows, cols)), shape=(n, n))
    coeff = int(rng.choice(PRIMES))
    theirs = ripserpy.ripser(S, maxdim=maxdim, coeff=coeff, distance_matrix=True)
    ours = ts.ripser(S, maxdim=maxdim, coeff=coeff, distance_matrix=True)
    scale = float(vals.max()) if len(vals) else 1.0
    assert_diagrams_match_float32(ours["dgms"], theirs["dgms"], scale, context=f"seed={seed}")
    assert ours["num_edges"] == theirs["num_edges"]


@pytest.mark.parametrize("metric", ["manhattan", "cosine", "chebyshev"])
def test_metrics_match_ripserpy(metric):
    rng = np.random.default_rng(8000)
    X = rng.normal(size=(60, 4))
    D = squareform(pdist(X, {"manhattan": "cityblock"}.get(metric, metric)))
    theirs = ripserpy.ripser(X, maxdim=2, metric=metric)["dgms"]
    ours = ts.ripser(X, maxdim=2, metric=metric)["dgms"]
    assert_diagrams_match_float32(ours, theirs, float(D.max()), context=metric)
    assert_diagrams_close(ours, gudhi_rips(D, 2, 2), rtol=1e-9, context=metric + " vs gudhi")


def test_float32_input_is_computed_in_float32():
    """float32 points give float32 filtration values; float64 ones do not."""
    rng = np.random.default_rng(8100)
    X = rng.normal(size=(80, 3))
    d64 = ts.rips(X, maxdim=1).dgms
    d32 = ts.rips(X.astype(np.float32), maxdim=1).dgms
    for a in d32:
        finite = a[np.isfinite(a)]
        np.testing.assert_array_equal(finite, finite.astype(np.float32).astype(np.float64))
    assert any(np.any(a[np.isfinite(a)] != a[np.isfinite(a)].astype(np.float32)) for a in d64)
    assert_diagrams_match_float32(d32, d64, float(pdist(X).max()))


# --------------------------------------------------------------------------- cocycles
def simplex_diameter(D: np.ndarray, simplex) -> float:
    simplex = list(simplex)
    return float(D[np.ix_(simplex, simplex)].max())


def assert_is_cocycle(cocycle: np.ndarray, dim: int, D: np.ndarray, below: float, coeff: int, context: str):
    """The coboundary of ``cocycle`` vanishes mod ``coeff`` on every
    (dim+1)-simplex of diameter < ``below``."""
    values = {}
    for row in cocycle:
        key = tuple(sorted(int(v) for v in row[:-1]))
        values[key] = (values.get(key, 0) + int(row[-1])) % coeff
    assert all(0 <= int(v) < coeff for v in cocycle[:, -1]), f"{context}: values outside Z/{coeff}"
    # Only (dim+1)-simplices having a face in the support can see a nonzero coboundary.
    n = D.shape[0]
    checked = set()
    for face in values:
        for v in range(n):
            if v in face:
                continue
            cofacet = tuple(sorted(face + (v,)))
            if cofacet in checked or simplex_diameter(D, cofacet) >= below:
                continue
            checked.add(cofacet)
            total = sum((-1) ** k * values.get(cofacet[:k] + cofacet[k + 1:], 0) for k in range(dim + 2))
            assert total % coeff == 0, f"{context}: coboundary {total % coeff} on {cofacet}"


@pytest.mark.parametrize("seed", range(40))
def test_cocycles_are_cocycles(seed):
    rng = np.random.default_rng(9000 + seed)
    maxdim = 1 if seed % 3 else 2
    n = int(rng.integers(8, 40 if maxdim == 1 else 20))
    X = random_points(rng, n, int(rng.choice([2, 3, 4])))
    D = squareform(pdist(X))
    coeff = int(rng.choice(PRIMES))
    threshold = np.inf if seed % 2 else safe_threshold(pdist(X), 0.3)
    res = ts.rips(pdist(X), distance_matrix=True, maxdim=maxdim, coeff=coeff, threshold=threshold, cocycles=True)
    dropin = ts.ripser(X, maxdim=maxdim, coeff=coeff, thresh=threshold, do_cocycles=True)
    assert res.cocycles[0] == [] and dropin["cocycles"][0] == []
    for dim in range(1, maxdim + 1):
        assert len(res.cocycles[dim]) == len(res.dgms[dim]) == len(dropin["cocycles"][dim])
        for k, ((birth, death), cocycle) in enumerate(zip(res.dgms[dim], res.cocycles[dim])):
            ctx = f"seed={seed} H{dim} bar {k} [{birth}, {death}) coeff={coeff}"
            assert cocycle.ndim == 2 and cocycle.shape[1] == dim + 2 and len(cocycle), ctx
            below = death if np.isfinite(death) else np.nextafter(res.threshold, np.inf)
            assert_is_cocycle(cocycle, dim, D, below, coeff, ctx)
            # Supported on simplices present at the bar's birth or later, one
            # of them born exactly then.
            diam = [simplex_diameter(D, row[:-1]) for row in cocycle]
            assert min(diam) <= birth + 1e-12, ctx


def graph_as_matrix(n: int, i, j, w, births=None) -> np.ndarray:
    """Square matrix of a weighted graph: absent edges inf, births on the diagonal."""
    D = np.full((n, n), np.inf)
    D[i, j] = D[j, i] = w
    np.fill_diagonal(D, 0.0 if births is None else births)
    return D


@pytest.mark.parametrize("seed", range(30))
def test_cocycles_and_critical_simplices_on_graphs(seed):
    """Sparse graphs, half of them with vertex births (lower-star)."""
    rng = np.random.default_rng(9500 + seed)
    maxdim = 1 if seed % 3 else 2
    n = int(rng.integers(6, 40 if maxdim == 1 else 18))
    i, j, w = random_graph(rng, n, float(rng.uniform(0.2, 0.7)), bool(rng.integers(2)))
    births = None
    rows, cols, vals = i, j, w
    if seed % 2:
        births = np.round(rng.uniform(0, 1, size=n), 1)
        w = np.maximum(w, np.maximum(births[i], births[j]))
        rows, cols, vals = np.r_[i, np.arange(n)], np.r_[j, np.arange(n)], np.r_[w, births]
    D = graph_as_matrix(n, i, j, w, births)
    coeff = int(rng.choice(PRIMES))
    res = ts.rips(sparse.coo_matrix((vals, (rows, cols)), shape=(n, n)), maxdim=maxdim, coeff=coeff, cocycles=True)
    for dim in range(maxdim + 1):
        for k, (birth, death) in enumerate(res.dgms[dim]):
            ctx = f"seed={seed} H{dim} bar {k} [{birth}, {death})"
            assert simplex_diameter(D, res.birth_simplices[dim][k]) == birth, ctx
            if np.isfinite(death):
                assert simplex_diameter(D, res.death_simplices[dim][k]) == death, ctx
            if dim:
                below = death if np.isfinite(death) else np.inf
                assert_is_cocycle(res.cocycles[dim][k], dim, D, below, coeff, ctx)


def test_cocycle_of_a_circle_matches_ripserpy():
    """One dominant class: both programs give a cocycle that winds once
    (its sum along the circle's consecutive edges is +-1 mod p)."""
    n, coeff = 24, 3
    t = 2 * np.pi * np.arange(n) / n
    X = np.c_[np.cos(t), np.sin(t)] * (1 + 0.01 * np.sin(7 * t))[:, None]
    for name, result in (("toposcope", ts.ripser(X, coeff=coeff, do_cocycles=True)),
                         ("ripser.py", ripserpy.ripser(X, coeff=coeff, do_cocycles=True))):
        dgm = result["dgms"][1]
        k = int(np.argmax(dgm[:, 1] - dgm[:, 0]))
        values = {}
        for a, b, v in result["cocycles"][1][k]:
            values[(int(a), int(b))] = int(v)
            values[(int(b), int(a))] = -int(v)
        winding = sum(values.get((i, (i + 1) % n), 0) for i in range(n)) % coeff
        assert winding in (1, coeff - 1), f"{name}: winding {winding}"


# --------------------------------------------------------------------------- critical simplices
@pytest.mark.parametrize("seed", range(40))
def test_critical_simplices_have_the_bar_values(seed):
    rng = np.random.default_rng(10000 + seed)
    maxdim = int(rng.choice([1, 2, 3]))
    n = int(rng.integers(4, {1: 80, 2: 30, 3: 14}[maxdim]))
    X = random_points(rng, n, int(rng.choice([2, 3, 5])))
    d = pdist(X)
    D = squareform(d)
    threshold = np.inf if seed % 2 else safe_threshold(d, 0.4)
    # cocycles=True: critical simplices are reported only for the uncollapsed filtration
    res = ts.rips(d, distance_matrix=True, maxdim=maxdim, threshold=threshold, cocycles=True)
    for dim in range(maxdim + 1):
        dgm, births, deaths = res.dgms[dim], res.birth_simplices[dim], res.death_simplices[dim]
        assert births.shape == (len(dgm), dim + 1) and deaths.shape == (len(dgm), dim + 2)
        for (b, e), bs, ds in zip(dgm, births, deaths):
            assert list(bs) == sorted(bs, reverse=True) and len(set(bs)) == dim + 1
            assert simplex_diameter(D, bs) == b if dim else b == 0.0
            if np.isinf(e):
                assert np.all(ds == -1)
            else:
                assert list(ds) == sorted(ds, reverse=True) and len(set(ds)) == dim + 2
                assert simplex_diameter(D, ds) == e


# --------------------------------------------------------------------------- regressions
def test_negative_filtration_values_match_gudhi():
    """A triangle with vertex values (-1.4, -1.9, -0.5) and edges (-0.9, 0, 0)
    is filled at 0: no H1 bar at all. The engine once clamped simplex
    diameters at 0 and reported an essential H1 bar born at 0 (on larger
    graphs of this kind it could also run away to std::bad_alloc)."""
    values = np.array([-1.4, -1.9, -0.5])
    i, j, w = np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([-0.9, 0.0, 0.0])
    S = sparse.coo_matrix((np.r_[w, values], (np.r_[i, np.arange(3)], np.r_[j, np.arange(3)])), shape=(3, 3))
    expected = gudhi_flag(3, i, j, w, values, 1, 2)
    assert len(expected[1]) == 0
    assert_diagrams_close(ts.rips(S, maxdim=1).dgms, expected)


@pytest.mark.parametrize("seed", range(40))
def test_edge_collapse_keeps_every_diagram(seed):
    """Collapsed and uncollapsed filtrations give the same diagrams, with heavy
    ties (integer grids), on clouds and on lower-star sparse graphs."""
    rng = np.random.default_rng(12000 + seed)
    coeff = PRIMES[seed % 3]
    if seed % 4 == 3:
        n = int(rng.integers(10, 30))
        m = sparse.random(n, n, density=0.3, random_state=seed).tocoo()
        births = rng.random(n)
        w = np.maximum(np.maximum(births[m.row], births[m.col]), m.data)
        A = sparse.coo_matrix((np.r_[w, births], (np.r_[m.row, np.arange(n)], np.r_[m.col, np.arange(n)])),
                              shape=(n, n)).tocsr()
        X, maxdim = A.maximum(A.T), 2
    else:
        n = int(rng.integers(5, 40))
        maxdim = int(rng.integers(2, 4)) if n < 22 else 2
        dim = int(rng.integers(2, 4))
        X = rng.integers(0, 4, size=(n, dim)).astype(float) if seed % 2 else rng.normal(size=(n, dim))
    collapsed = ts.rips(X, maxdim=maxdim, coeff=coeff, collapse=True)
    full = ts.rips(X, maxdim=maxdim, coeff=coeff, collapse=False)
    assert_diagrams_close(collapsed.dgms, full.dgms, rtol=0, atol=0, context=f"seed={seed}")


@pytest.mark.parametrize("seed", range(4))
def test_edge_collapse_of_sparse_and_dense_graphs_keeps_every_diagram(seed):
    """The collapse keeps neighbour lists only on graphs of average degree
    below n / 64 and adds adjacency bits above: 1,500 points under a small
    threshold (degree ~10) take the lists, 300 points under a large one (degree
    ~100) the bits, each with ties (a rounded grid) or without."""
    rng = np.random.default_rng(15000 + seed)
    n, degree = (1500, 10) if seed < 2 else (300, 100)
    X = rng.uniform(size=(n, 3))
    if seed % 2:
        X = np.round(X * 8) / 8 + 0.01 * rng.integers(0, 2, size=(n, 3))
    threshold = float(np.quantile(pdist(X[:400]), degree / n))
    mean_degree = 2 * np.count_nonzero(pdist(X) <= threshold) / n
    assert (mean_degree < n / 64) == (seed < 2), mean_degree
    kw = dict(maxdim=3, coeff=3, threshold=threshold)
    collapsed = ts.rips(X, collapse=True, **kw)
    full = ts.rips(X, collapse=False, **kw)
    assert_diagrams_close(collapsed.dgms, full.dgms, rtol=0, atol=0, context=f"seed={seed}")


@pytest.mark.parametrize("k, seed", [(6, 10), (6, 11), (6, 23), (7, 17), (7, 18), (8, 21), (9, 2), (9, 5)])
def test_edge_collapse_of_jittered_grids_keeps_every_diagram(k, seed):
    """Grid points moved by half steps: few distinct distances, so long runs of
    edges with one value, where links kept at a value must stop counting as
    present as soon as the edges in process are earlier. A wave that ran
    across a change of value (adjacency bits, edge_collapse.hpp) got H2 wrong
    on these grids, about one in ten of those tried."""
    rng = np.random.default_rng(seed)
    X = np.array(list(itertools.product(range(k), repeat=3)), float) + 0.5 * rng.integers(0, 2, size=(k**3, 3))
    kw = dict(maxdim=3, coeff=3, threshold=2.0)
    full = ts.rips(X, collapse=False, **kw)
    for threads in (1, 2):
        collapsed = ts.rips(X, collapse=True, n_threads=threads, **kw)
        assert_diagrams_close(collapsed.dgms, full.dgms, rtol=0, atol=0, context=f"seed={seed} threads={threads}")


def test_collapse_given_up_on_a_sphere_keeps_the_diagrams():
    """150 points on a sphere, no threshold: the collapse costs thousands of
    steps an edge for almost nothing and is abandoned (dense input then goes
    to the dense engine); the diagrams agree with ripser.py and with the
    collapse turned off."""
    rng = np.random.default_rng(13000)
    X = rng.normal(size=(150, 3))
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    theirs = ripserpy.ripser(X, maxdim=2)["dgms"]
    off = ts.rips(X, maxdim=2, collapse=False)
    on = ts.rips(X, maxdim=2, collapse=True)
    assert_diagrams_close(on.dgms, off.dgms, rtol=0, atol=0)
    assert_diagrams_match_float32(on.dgms, theirs, 2.0)
    assert len(on.dgms[2]) == 1


@pytest.mark.parametrize("seed", range(16))
def test_thread_count_does_not_change_anything(seed):
    """The reduction runs on several threads with the sequential result: bars,
    critical simplices and cocycles are identical for 1, 2 and 4 threads, on
    inputs large enough (hundreds of columns) for the threads to overlap."""
    rng = np.random.default_rng(14000 + seed)
    n = int(rng.integers(200, 420))
    kind = seed % 4
    if kind == 0:
        X = rng.integers(0, 6, size=(n, 3)).astype(np.float64)  # ties
    elif kind == 1:
        X = rng.normal(size=(n, 5))
    elif kind == 2:
        t = rng.uniform(0, 2 * np.pi, n)
        X = np.c_[np.cos(t), np.sin(t), 0.3 * rng.normal(size=n)] + 0.05 * rng.normal(size=(n, 3))
    else:
        X = np.round(rng.uniform(size=(n, 2)), 2)
    coeff = int(rng.choice(PRIMES))
    threshold = np.inf if seed % 2 else float(np.quantile(pdist(X[:60]), 0.4))
    maxdim = 2 if seed % 5 == 0 else 1
    kw = dict(maxdim=maxdim, coeff=coeff, threshold=threshold, cocycles=seed % 3 == 0, collapse=False)
    ref = ts.rips(X, n_threads=1, **kw)
    for threads in (2, 4):
        got = ts.rips(X, n_threads=threads, **kw)
        ctx = f"seed={seed} threads={threads}"
        for d in range(maxdim + 1):
            np.testing.assert_array_equal(got.dgms[d], ref.dgms[d], err_msg=ctx)
            np.testing.assert_array_equal(got.birth_simplices[d], ref.birth_simplices[d], err_msg=ctx)
            np.testing.assert_array_equal(got.death_simplices[d], ref.death_simplices[d], err_msg=ctx)
        if kw["cocycles"]:
            for a, b in zip(got.cocycles, ref.cocycles):
                assert len(a) == len(b)
                for x, y in zip(a, b):
                    np.testing.assert_array_equal(x, y, err_msg=ctx)


def test_thread_count_on_grids_with_many_equal_pivots():
    """Integer grids under a threshold, over Z/7: many columns reach their
    pivots at the same moment, which is where a column claiming a pivot in
    its turn must see the claims of the columns just before it. Repeated,
    since thread timing varies from run to run (a reduction that looked its
    pivot up before its turn began failed about one run in six here)."""
    kw = dict(maxdim=1, coeff=7, threshold=float(np.sqrt(17)), collapse=False)
    for seed in range(3):
        X = np.random.default_rng(seed).integers(0, 6, size=(448, 3)).astype(np.float64)
        ref = ts.rips(X, n_threads=1, **kw)
        for _ in range(8):
            got = ts.rips(X, n_threads=2, **kw)
            np.testing.assert_array_equal(got.dgms[1], ref.dgms[1])
            np.testing.assert_array_equal(got.death_simplices[1], ref.death_simplices[1])


@pytest.mark.parametrize("seed", range(6))
def test_collapse_is_the_same_on_one_or_two_threads(seed):
    """The edge collapse runs in waves on two threads with the sequential
    result: the collapsed graph, and so every count of the reduction after it,
    must not depend on the thread count (the diagrams alone could not show a
    difference: any collapse keeps them)."""
    rng = np.random.default_rng(700 + seed)
    if seed % 2:
        X = rng.integers(0, 5, size=(400, 4)).astype(np.float64)  # ties everywhere
        threshold = 2.0
    else:
        X = rng.normal(size=(500, 4))
        threshold = float(np.quantile(pdist(X), 0.08))
    kw = dict(maxdim=3, coeff=3, threshold=threshold, collapse=True)
    ref = ts.rips(X, n_threads=1, **kw)
    for _ in range(3):
        got = ts.rips(X, n_threads=2, **kw)
        assert got.stats == ref.stats, f"seed={seed}"
        for d in range(4):
            np.testing.assert_array_equal(got.dgms[d], ref.dgms[d], err_msg=f"seed={seed}")


# --------------------------------------------------------------------------- forward sweep (H1 over Z/2)
def sorted_bars(dgm: np.ndarray) -> np.ndarray:
    return dgm[np.lexsort((dgm[:, 1], dgm[:, 0]))] if len(dgm) else dgm


@pytest.mark.parametrize("seed", range(60))
def test_forward_sweep_equals_cohomology(seed, monkeypatch):
    """H1 and H1-H2 over Z/2 of a dense matrix run the forward sweeps
    (forward_h1.hpp, forward_h2.hpp); with them turned off, the cohomology
    engine. Both give the same bars, exactly, on clouds with ties and
    duplicates, under thresholds, in float32, with vertex births and on tori
    whose classes live long (the case the sweeps are for); the sweeps'
    critical simplices carry the bar values."""
    import toposcope._engine as engine

    rng = np.random.default_rng(15000 + seed)
    kind = seed % 5
    maxdim = 1 if seed % 3 else 2
    n = int(rng.integers(20, 300 if maxdim == 1 else 120))
    births = None
    if kind == 0:
        X = random_points(rng, n, int(rng.choice([2, 3, 5])))
    elif kind == 1:  # a torus in R^3: two long-lived loops
        a, b = rng.uniform(0, 2 * np.pi, (2, n))
        X = np.c_[(2 + np.cos(a)) * np.cos(b), (2 + np.cos(a)) * np.sin(b), np.sin(a)]
    elif kind == 2:
        X = rng.integers(0, 5, size=(n, 3)).astype(np.float64)
    elif kind == 3:
        X = rng.normal(size=(n, 4)).astype(np.float32)
    else:
        X = rng.uniform(size=(n, 2))
        births = np.round(rng.uniform(0, 0.2, n), 2)
    D = squareform(pdist(X)).astype(X.dtype)
    if births is not None:
        D = np.maximum(D, np.maximum.outer(births, births))
        np.fill_diagonal(D, births)
    threshold = np.inf if seed % 3 else safe_threshold(pdist(X), 0.5)
    kw = dict(distance_matrix=True, maxdim=maxdim, threshold=threshold, collapse=False)
    forward = ts.rips(D, **kw)
    assert forward.engine == "forward"
    monkeypatch.setattr(engine, "FORWARD_MAX_EDGES", 0)
    cohomology = ts.rips(D, **kw)
    assert cohomology.engine == "cohomology"
    for d in range(maxdim + 1):
        np.testing.assert_array_equal(sorted_bars(forward.dgms[d]), sorted_bars(cohomology.dgms[d]),
                                      err_msg=f"seed={seed} H{d}")
    for d in range(1, maxdim + 1):
        for (b, e), bs, ds in zip(forward.dgms[d], forward.birth_simplices[d], forward.death_simplices[d]):
            assert list(bs) == sorted(bs, reverse=True) and len(set(bs)) == d + 1
            assert simplex_diameter(D, bs) == b
            assert np.all(ds == -1) if np.isinf(e) else simplex_diameter(D, ds) == e


def test_forward_sweep_limit_is_an_edge_count(monkeypatch):
    """Above FORWARD_MAX_EDGES edges the cohomology engine runs, with the
    same bars; Z/3, H3 and cocycles always run it."""
    import toposcope._engine as engine

    X = np.random.default_rng(3).normal(size=(120, 3))
    edges = ts.rips(X, maxdim=0).num_edges   # up to the enclosing radius
    monkeypatch.setattr(engine, "FORWARD_MAX_EDGES", edges)
    below = ts.rips(X, maxdim=1)
    monkeypatch.setattr(engine, "FORWARD_MAX_EDGES", edges - 1)
    above = ts.rips(X, maxdim=1)
    assert below.engine == "forward" and above.engine == "cohomology"
    np.testing.assert_array_equal(sorted_bars(below.dgms[1]), sorted_bars(above.dgms[1]))
    monkeypatch.setattr(engine, "FORWARD_MAX_EDGES", edges)
    assert ts.rips(X[:40], maxdim=2, collapse=False).engine == "forward"
    assert ts.rips(X[:40], maxdim=1, coeff=3).engine == "cohomology"
    assert ts.rips(X[:40], maxdim=3, collapse=False).engine == "cohomology"
    assert ts.rips(X[:40], maxdim=1, cocycles=True).engine == "cohomology"


@pytest.mark.parametrize("seed", range(10))
def test_forward_sweep_reports_bars_in_the_cohomology_order(seed, monkeypatch):
    """Generic points (no ties): the two engines give the bars in one order
    (birth simplices in reverse filtration order) with the same birth
    simplices, thresholded or not; a threshold keeping few edges no longer
    sends the sweep to sparse neighbourhoods, nor does the default collapse."""
    import toposcope._engine as engine

    rng = np.random.default_rng(16000 + seed)
    X = rng.normal(size=(int(rng.integers(30, 150)), 3))
    maxdim = 1 + seed % 2
    threshold = np.inf if seed < 5 else float(np.quantile(pdist(X), 0.15))
    forward = ts.rips(X, maxdim=maxdim, threshold=threshold)
    assert forward.engine == "forward" and forward.birth_simplices is not None
    monkeypatch.setattr(engine, "FORWARD_MAX_EDGES", 0)
    cohomology = ts.rips(X, maxdim=maxdim, threshold=threshold, collapse=False)
    for d in range(maxdim + 1):
        np.testing.assert_array_equal(forward.dgms[d], cohomology.dgms[d])
        np.testing.assert_array_equal(forward.birth_simplices[d], cohomology.birth_simplices[d])


@pytest.mark.parametrize("seed", range(30))
def test_forward_sweep_on_sparse_graphs_equals_cohomology(seed, monkeypatch):
    """scipy.sparse graphs (ties, missing edges, lower-star vertex values,
    negative ones included) run the forward sweep too, with the cohomology
    engine's bars."""
    import toposcope._engine as engine

    rng = np.random.default_rng(17000 + seed)
    maxdim = 1 if seed % 3 else 2
    n = int(rng.integers(6, 60 if maxdim == 1 else 30))
    i, j, w = random_graph(rng, n, float(rng.uniform(0.2, 0.8)), bool(seed % 2))
    rows, cols, vals = i, j, w
    if seed % 4 == 1:
        births = np.round(rng.uniform(-0.5, 0.5, size=n), 1)
        w = np.maximum(w, np.maximum(births[i], births[j]))
        rows, cols, vals = np.r_[i, np.arange(n)], np.r_[j, np.arange(n)], np.r_[w, births]
    S = sparse.coo_matrix((vals, (rows, cols)), shape=(n, n))
    forward = ts.rips(S, maxdim=maxdim)
    assert forward.engine == "forward"
    monkeypatch.setattr(engine, "FORWARD_MAX_EDGES", 0)
    cohomology = ts.rips(S, maxdim=maxdim, collapse=False)
    for d in range(maxdim + 1):
        np.testing.assert_array_equal(sorted_bars(forward.dgms[d]), sorted_bars(cohomology.dgms[d]),
                                      err_msg=f"seed={seed} H{d}")
