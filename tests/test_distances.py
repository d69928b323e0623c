"""Block distances with torch: scipy's pdist to 1e-6 (float64) / 1e-4 (float32)
relative, thresholded sparse output, and the engine taking them directly."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import pdist, squareform

import toposcope as ts

torch = pytest.importorskip("torch")


def hard_cloud(n=400, dim=24, seed=0):
    """Far from the origin, with near-duplicate pairs: where the Gram
    expansion alone loses all precision."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, dim)) + 1000.0
    X[1] = X[0] + 1e-6
    X[3] = X[2] + 1e-3 * rng.normal(size=dim)
    X[5] = X[4] * (1 + 1e-9)
    return X


@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-6), (np.float32, 1e-4)])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_condensed_matches_pdist(dtype, rtol, metric):
    X = hard_cloud().astype(dtype)
    ref = pdist(X.astype(np.float64), metric)
    d = ts.distances(X, metric=metric, chunk=37, device="cpu")
    assert d.dtype == dtype and d.shape == ref.shape
    if metric == "cosine":
        # scipy's own cosine cancels below ~1e-16 absolute; compare above it.
        np.testing.assert_allclose(d, ref, rtol=rtol, atol=1e-12 if dtype == np.float64 else 1e-7)
    else:
        np.testing.assert_allclose(d, ref, rtol=rtol, atol=0)


def test_near_pairs_are_exact_not_gram():
    X = hard_cloud()
    d = ts.distances(X, device="cpu")
    # pair (0, 1) is 1e-6 * sqrt(24) apart at norm ~5000: Gram alone gives 0 or noise.
    assert d[0] == pytest.approx(1e-6 * np.sqrt(24), rel=1e-6)


@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_square_and_chunks_agree(metric):
    X = np.random.default_rng(1).normal(size=(150, 7))
    ref = squareform(pdist(X, metric))
    for chunk in (1, 16, 1000, None):
        D = ts.distances(X, metric=metric, output="square", chunk=chunk, device="cpu")
        np.testing.assert_allclose(D, ref, rtol=1e-10, atol=1e-14)
        assert np.all(np.diag(D) == 0) and np.array_equal(D, D.T)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("metric", ["euclidean", "cosine"])
def test_threshold_keeps_exactly_the_near_pairs(dtype, metric):
    X = hard_cloud(300, 6, seed=2).astype(dtype)
    ref = squareform(pdist(X.astype(np.float64), metric))
    thr = float(np.quantile(ref[np.triu_indices(300, 1)], 0.03))
    for output in ("sparse", "csr", "coo"):
        S = ts.distances(X, metric=metric, threshold=thr, output=output, chunk=50, device="cpu")
        assert sparse.issparse(S) and S.shape == (300, 300)
        coo = sparse.coo_matrix(S)
        assert np.all(coo.row < coo.col)
        expected = set(zip(*np.nonzero(np.triu(ref <= thr, 1))))
        assert set(zip(coo.row.tolist(), coo.col.tolist())) == expected
        np.testing.assert_allclose(coo.data, ref[coo.row, coo.col], rtol=1e-5 if dtype == np.float32 else 1e-12,
                                   atol=1e-12)
        assert coo.data.dtype == dtype


def test_sparse_keeps_zero_distances():
    X = np.array([[0.0, 0.0], [0.0, 0.0], [3.0, 0.0]])
    S = sparse.coo_matrix(ts.distances(X, threshold=1.0, device="cpu"))
    assert S.nnz == 1 and S.data[0] == 0.0


def test_engine_takes_the_outputs_directly():
    X = np.random.default_rng(3).normal(size=(120, 3))
    exact = ts.rips(X, maxdim=1)
    cond = ts.rips(ts.distances(X, device="cpu"), distance_matrix=True, maxdim=1)
    square = ts.rips(ts.distances(X, output="square", device="cpu"), distance_matrix=True, maxdim=1)
    for res in (cond, square):
        for a, b in zip(res.dgms, exact.dgms):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    thr = 0.8
    sparse_res = ts.rips(ts.distances(X, threshold=thr, device="cpu"), maxdim=1)
    ref = ts.rips(X, maxdim=1, threshold=thr)
    for a, b in zip(sparse_res.dgms, ref.dgms):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_torch_tensor_input_and_default_device():
    X = np.random.default_rng(4).normal(size=(60, 5)).astype(np.float32)
    a = ts.distances(torch.from_numpy(X))
    b = ts.distances(X, dtype=np.float64)
    assert a.dtype == np.float32 and b.dtype == np.float64
    np.testing.assert_allclose(a, pdist(X.astype(np.float64)), rtol=1e-5)
    np.testing.assert_allclose(b, pdist(X.astype(np.float64)), rtol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device: the CUDA path is tested on GPU hosts")
def test_cuda_matches_cpu():
    X = hard_cloud(3000, 64).astype(np.float32)
    a = ts.distances(X, device="cuda")
    np.testing.assert_allclose(a, pdist(X.astype(np.float64)), rtol=1e-4)
    thr = float(np.quantile(a, 0.01))
    S = sparse.coo_matrix(ts.distances(X, device="cuda", threshold=thr))
    R = sparse.coo_matrix(ts.distances(X, device="cpu", threshold=thr))
    assert set(zip(S.row.tolist(), S.col.tolist())) == set(zip(R.row.tolist(), R.col.tolist()))


def test_bad_arguments():
    X = np.random.default_rng(5).normal(size=(10, 2))
    with pytest.raises(ValueError, match="metric"):
        ts.distances(X, metric="cityblock")
    with pytest.raises(ValueError, match="sparse"):
        ts.distances(X, threshold=1.0, output="condensed")
    with pytest.raises(ValueError, match="output"):
        ts.distances(X, output="dense")
    with pytest.raises(ValueError, match="NaN"):
        ts.distances(np.array([[0.0, np.nan], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="zero"):
        ts.distances(np.zeros((3, 2)), metric="cosine")
    with pytest.raises(ValueError, match="two points"):
        ts.distances(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="chunk"):
        ts.distances(X, chunk=0)
    with pytest.raises(TypeError):
        ts.distances(X, dtype=np.int32)
