"""LayerTopology: capture -> prepare -> diagrams -> table, save/load, plots, digits."""
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="torch is optional: pip install torch==2.13.0")
pytest.importorskip("pandas")
pytest.importorskip("matplotlib")
nn = torch.nn

import toposcope as ts  # noqa: E402
from toposcope import metrics as M  # noqa: E402
from toposcope.studies import LayerStudyConfig, LayerTopology  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def digits_model():
    """A 64-64-32-16-10 MLP trained briefly on all of sklearn's digits."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                          nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
    xt, yt = torch.tensor(X), torch.tensor(y)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny matrices: threads only add overhead on a busy machine
    try:
        for _ in range(300):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xt), yt, label_smoothing=0.1).backward()
            opt.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval(), X, y


LAYERS = {"input": "input", "hidden1": "1", "hidden2": "3", "hidden3": "5"}


def test_config_round_trip():
    cfg = LayerStudyConfig(layers=LAYERS, scales=[0.3], prep=ts.PrepConfig(n_samples=200, pca=8, seed=5))
    d = cfg.to_dict()
    assert json.loads(json.dumps(d)) == d  # JSON-serialisable (threshold inf -> "inf")
    assert LayerStudyConfig.from_dict(d) == cfg
    with pytest.raises(ValueError, match="unknown"):
        LayerStudyConfig.from_dict({"bogus": 1})
    assert LayerTopology(cfg, maxdim=0).config.maxdim == 0


def test_digits_last_hidden_beta0_near_ten_and_input_not(digits_model):
    model, X, y = digits_model
    cfg = LayerStudyConfig(layers=LAYERS, scales=[0.3], maxdim=0,
                           prep=ts.PrepConfig(n_samples=None, pca=None, normalize="quantile"))
    study = LayerTopology(cfg).run(model, torch.tensor(X))
    beta0 = study.metric("betti@0.3", 0)
    assert 8 <= beta0["hidden3"] <= 13, beta0
    assert beta0["input"] > 100, beta0
    # the same number by hand: H0 of the captured, normalised layer at scale 0.3
    acts = ts.capture(model, torch.tensor(X), layers={"hidden3": "5"})
    prepared = ts.prepare(acts["hidden3"], n_samples=None, pca=None, normalize="quantile")
    assert ts.rips(prepared.data, maxdim=0).betti(0.3)[0] == beta0["hidden3"]


def test_table_diagrams_units_and_parallel(digits_model, tmp_path):
    model, X, _ = digits_model
    cfg = LayerStudyConfig(layers=LAYERS, scales=[0.25, 0.5], maxdim=1,
                           prep=ts.PrepConfig(n_samples=200, pca=10, seed=1))
    study = LayerTopology(cfg).run(model, torch.tensor(X))
    t = study.table
    assert list(t.columns) == ["layer", "layer_index", "dim", "metric", "value"]
    assert list(dict.fromkeys(t["layer"])) == list(LAYERS)
    per_dim = {"n_bars", "n_infinite", "total_persistence", "total_persistence_raw", "max_lifetime",
               "max_lifetime_raw", "mean_lifetime", "entropy", "betti@0.25", "betti@0.5"}
    assert set(t[t.dim >= 0].metric) == per_dim
    assert set(t[t.dim < 0].metric) == {"scale", "n_points", "twonn_dimension", "expansion", "expansion_raw"}
    # diagrams equal an independent prepare + rips of the same capture
    acts = ts.capture(model, torch.tensor(X), layers=LAYERS)
    for name in LAYERS:
        p = ts.prepare(acts[name], cfg.prep)
        want = ts.rips(p.data, maxdim=1).dgms
        for d in range(2):
            np.testing.assert_allclose(study.diagrams[name][d], want[d])
        assert study.scales[name] == pytest.approx(p.scale)
        tp = study.metric("total_persistence", 1)[name]
        assert tp == pytest.approx(M.total_persistence(want[1]))
        assert study.metric("total_persistence_raw", 1)[name] == pytest.approx(tp * p.scale)
    h0 = study.metric("total_persistence", 0).to_numpy()
    h0_raw = study.metric("total_persistence_raw", 0).to_numpy()
    assert study.summary["expansion_ratio"] == pytest.approx(M.expansion_ratio(h0))
    assert study.summary["expansion_ratio_raw"] == pytest.approx(M.expansion_ratio(h0_raw))
    # several layers at once give the same result
    par = LayerTopology(cfg, n_jobs=2).analyse(acts)
    for name in LAYERS:
        for d in range(2):
            np.testing.assert_array_equal(par.diagrams[name][d], study.diagrams[name][d])
    assert study.wide().shape[0] == 4
    D = study.distances_between_layers(dim=0)
    assert D.shape == (4, 4) and np.allclose(D, D.T) and D[0, 1] > 0


def test_save_load_and_plots(digits_model, tmp_path):
    model, X, _ = digits_model
    cfg = LayerStudyConfig(layers=LAYERS, scales=[0.3], prep=ts.PrepConfig(n_samples=200, pca=None))
    study = LayerTopology(cfg).run(model, torch.tensor(X))
    path = study.save(tmp_path / "run", figures=True)
    for f in ("config.json", "study.json", "metrics.csv", "diagrams.npz", "trajectories.png", "diagrams.png",
              "betti_curves_H0.png"):
        assert (path / f).stat().st_size > 0, f
    back = LayerTopology.load(path)
    assert back.config == study.config and back.layers == study.layers
    for name in study.layers:
        for d in range(2):
            np.testing.assert_array_equal(back.diagrams[name][d], study.diagrams[name][d])
    assert back.scales == pytest.approx(study.scales)
    assert back.summary == pytest.approx(study.summary)
    np.testing.assert_allclose(back.table["value"].to_numpy(), study.table["value"].to_numpy())
    # PNGs start with the PNG signature
    assert (path / "diagrams.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curves = back.betti_curves()
    assert set(curves) == set(LAYERS) and curves["input"].shape == (2, cfg.grid_size)


def test_analyse_streamed_capture(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 4))
    X = torch.randn(400, 3)
    cfg = LayerStudyConfig(layers=["1", "2"], out=str(tmp_path / "acts"), memory_budget=4096,
                           prep=ts.PrepConfig(n_samples=100, pca=None))
    study = LayerTopology(cfg).run(model, X)
    assert (tmp_path / "acts" / "capture.json").exists()
    assert study.capture_meta["storage"] == "npy"
    mem = LayerTopology(cfg, out=None, memory_budget=None).run(model, X)
    for name in ("1", "2"):
        np.testing.assert_allclose(study.diagrams[name][1], mem.diagrams[name][1])
