"""Preparation: subsampling, standardisation, PCA, metric, scale normalisation."""
import numpy as np
import pytest
from scipy.spatial.distance import cdist, pdist

import toposcope as ts
from toposcope.preprocessing import PrepConfig, distance_scale, farthest_point_sample, pca_project, prepare


def cloud(n=300, d=20, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)) * np.linspace(5, 0.1, d) + 3.0


def test_random_subsample_is_seeded_and_recorded():
    X = cloud()
    a = prepare(X, n_samples=50, pca=None, normalize=None, seed=3)
    b = prepare(X, n_samples=50, pca=None, normalize=None, seed=3)
    c = prepare(X, n_samples=50, pca=None, normalize=None, seed=4)
    np.testing.assert_array_equal(a.indices, b.indices)
    assert not np.array_equal(a.indices, c.indices)
    np.testing.assert_array_equal(a.data, X[a.indices])
    assert a.record["config"]["seed"] == 3 and a.record["n_kept"] == 50 and a.record["n_input"] == 300
    assert PrepConfig.from_dict(a.record["config"]) == a.config


def test_farthest_point_sampling_against_brute_force():
    X = cloud(200, 5)
    idx = farthest_point_sample(X, 20, start=7)
    chosen = [7]
    for _ in range(19):  # brute force: max over points of the min distance to the chosen set
        d = cdist(X, X[chosen]).min(axis=1)
        chosen.append(int(np.argmax(d)))
    np.testing.assert_array_equal(idx, chosen)
    p = prepare(X, n_samples=20, sampling="farthest", pca=None, normalize=None, seed=1)
    assert len(set(p.indices)) == 20
    # covering radius of FPS is at most twice that of a random subset of the same size (usually far better)
    rnd = prepare(X, n_samples=20, sampling="random", pca=None, normalize=None, seed=1)
    assert cdist(X, p.data).min(1).max() < cdist(X, rnd.data).min(1).max()


def test_standardisation():
    X = cloud()
    z = prepare(X, n_samples=None, pca=None, normalize=None, standardize="zscore").data
    np.testing.assert_allclose(z.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(0), 1, atol=1e-12)
    c = prepare(X, n_samples=None, pca=None, normalize=None, standardize="center").data
    np.testing.assert_allclose(c, X - X.mean(0))


def test_pca_torch_matches_sklearn_and_preserves_distances_when_full_rank():
    pytest.importorskip("torch")
    X = cloud(120, 10)
    Ys, rs = pca_project(X, 4, "sklearn")
    Yt, rt = pca_project(X, 4, "torch")
    np.testing.assert_allclose(Ys, Yt, atol=1e-8)
    np.testing.assert_allclose(rs, rt, atol=1e-10)
    wide = cloud(30, 40)  # fewer samples than features: the SVD path
    np.testing.assert_allclose(pca_project(wide, 5, "sklearn")[0], pca_project(wide, 5, "torch")[0], atol=1e-8)
    full, _ = pca_project(X, 10, "sklearn")
    np.testing.assert_allclose(pdist(full), pdist(X), rtol=1e-9)  # a rotation: distances unchanged
    # independent check: the projection's variances are the top eigenvalues of the covariance
    ev = np.sort(np.linalg.eigvalsh(np.cov(X.T)))[::-1][:4]
    np.testing.assert_allclose(Ys.var(0, ddof=1), ev, rtol=1e-9)
    p = prepare(X, n_samples=None, pca=4, normalize=None)
    assert p.data.shape == (120, 4) and abs(p.record["pca_explained_variance"] - rs.sum()) < 1e-12


def test_cosine_metric_and_scale_normalisation():
    X = cloud(60, 8)
    p = prepare(X, n_samples=None, pca=None, metric="cosine", normalize=None)
    assert p.is_distance and p.n_points == 60
    np.testing.assert_allclose(p.data, pdist(X, "cosine"), atol=1e-12)
    q = prepare(X, n_samples=None, pca=None, normalize="quantile", quantile=0.9)
    assert q.scale == pytest.approx(np.quantile(pdist(X), 0.9))
    np.testing.assert_allclose(q.data * q.scale, X)
    assert np.quantile(pdist(q.data), 0.9) == pytest.approx(1.0)
    m = prepare(X, n_samples=None, pca=None, normalize="median")
    assert m.scale == pytest.approx(np.median(pdist(X)))
    # scale invariance: multiplying activations by 1000 leaves the normalised cloud unchanged
    big = prepare(1000 * X, n_samples=None, pca=None, normalize="median")
    np.testing.assert_allclose(big.data, m.data, rtol=1e-10)
    assert big.scale == pytest.approx(1000 * m.scale)
    assert distance_scale(X, False, None) == 1.0
    # Rips persistence is scale-equivariant, which the study relies on
    r_norm, r_raw = m.rips(maxdim=1), ts.rips(X, maxdim=1)
    np.testing.assert_allclose(r_norm.dgms[1] * m.scale, r_raw.dgms[1], rtol=1e-9)


def test_invalid_configs_raise():
    with pytest.raises(ValueError, match="sampling"):
        PrepConfig(sampling="kmeans")
    with pytest.raises(ValueError, match="metric"):
        PrepConfig(metric="manhattan")
    with pytest.raises(ValueError, match="unknown"):
        PrepConfig.from_dict({"foo": 1})
    with pytest.raises(ValueError, match="NaN"):
        prepare(np.array([[0.0, np.nan], [1.0, 2.0]]), pca=None)
    with pytest.raises(ValueError, match="at least 2"):
        prepare(np.zeros((1, 3)))


def test_prepare_reads_only_sampled_rows_from_hdf5(tmp_path):
    h5py = pytest.importorskip("h5py")
    X = cloud(500, 6)
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["x"] = X
    with h5py.File(tmp_path / "a.h5", "r") as f:
        p = prepare(f["x"], n_samples=40, pca=None, normalize=None, seed=2)
    np.testing.assert_array_equal(p.data, X[p.indices])


def test_toposcope_imports_without_torch_and_capture_names_the_install(tmp_path):
    """torch is optional: block it and check the package still imports and
    metrics/preparation work, while capture raises an ImportError with the hint."""
    import subprocess
    import sys

    code = r'''
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ImportError("torch blocked for this test")
sys.meta_path.insert(0, Block())
import numpy as np
import toposcope as ts
assert "torch" not in sys.modules
p = ts.prepare(np.random.default_rng(0).normal(size=(50, 5)), pca=2)
assert ts.metrics.total_persistence(p.rips(maxdim=0).dgms[0]) > 0
try:
    ts.capture(object(), None)
except ImportError as e:
    assert "pip install torch==2.13.0" in str(e), e
    print("OK")
'''
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("OK")
