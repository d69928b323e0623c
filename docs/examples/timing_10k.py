"""Timing: capture and analyse 10,000 samples through 6 layers on CPU.

Data: sklearn's digits augmented to 10,000 images with Gaussian pixel noise.
Model: an MLP with 6 hidden ReLU layers (256-256-128-128-64-32), briefly trained.
Study: every hidden layer, mean pooling, PCA to 50 components, H0 and H1 of
all 10,000 points per layer (``--n-samples`` to subsample instead).

    python docs/examples/timing_10k.py [--n-samples 10000] [--maxdim 1] [--n-jobs 1]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
from sklearn.datasets import load_digits

import toposcope as ts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--n-samples", type=int, default=None, help="points per layer (default: all)")
    ap.add_argument("--maxdim", type=int, default=1)
    ap.add_argument("--pca", type=int, default=50)
    ap.add_argument("--n-jobs", type=int, default=1)
    ap.add_argument("--out", default=None, help="stream the capture to this folder")
    args = ap.parse_args()
    torch.set_num_threads(1)  # tiny layers: extra threads only contend

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(X), args.n)
    Xa = (X[idx] + rng.normal(0, 0.1, (args.n, 64))).astype(np.float32)
    ya = y[idx]

    torch.manual_seed(0)
    nn = torch.nn
    widths = [64, 256, 256, 128, 128, 64, 32]
    mods = []
    for a, b in zip(widths[:-1], widths[1:]):
        mods += [nn.Linear(a, b), nn.ReLU()]
    model = nn.Sequential(*mods, nn.Linear(32, 10))
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    xt, yt = torch.tensor(Xa), torch.tensor(ya)
    t = time.perf_counter()
    for epoch in range(3):
        for i in range(0, args.n, 256):
            opt.zero_grad()
            nn.functional.cross_entropy(model(xt[i:i + 256]), yt[i:i + 256]).backward()
            opt.step()
    train_s = time.perf_counter() - t

    layers = {f"relu{k + 1}": str(2 * k + 1) for k in range(6)}
    cfg = ts.LayerStudyConfig(layers=layers, pool="mean", maxdim=args.maxdim, n_jobs=args.n_jobs, out=args.out,
                              prep=ts.PrepConfig(n_samples=args.n_samples, pca=args.pca, normalize="quantile"))
    t = time.perf_counter()
    study = ts.LayerTopology(cfg).run(model, xt)
    total_s = time.perf_counter() - t
    report = {
        "n": args.n, "points_per_layer": study.prep_records["relu1"]["n_kept"], "maxdim": args.maxdim,
        "pca": args.pca, "n_jobs": args.n_jobs, "train_s": round(train_s, 2),
        "capture_s": round(study.timings["capture_s"], 3),
        "prepare_s": {k: round(v, 2) for k, v in study.timings["prepare_s_per_layer"].items()},
        "rips_s": {k: round(v, 2) for k, v in study.timings["rips_s_per_layer"].items()},
        "analyse_s": round(study.timings["analyse_s"], 2), "capture_and_analyse_s": round(total_s, 2),
        "h1_bars": study.metric("n_bars", 1).astype(int).to_dict() if args.maxdim >= 1 else None,
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
