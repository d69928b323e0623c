"""Worked example: beta_0 of an MLP's layers on scikit-learn's digits.

A small MLP is trained on 70% of ``sklearn.datasets.load_digits``; the layer
study then measures, on the held-out 30% (and on the training images), how
many connected components each layer's representation has at a fixed scale.
Run from the repository root:

    python docs/examples/digits_betti0.py [--out docs/figures] [--save-study runs/digits]

Everything is seeded; the numbers printed are the ones quoted in
docs/activations.md.
"""
import argparse
import json
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import toposcope as ts

LAYERS = {"input": "input", "hidden1": "1", "hidden2": "3", "hidden3": "5"}
SCALES = [0.2, 0.3, 0.4]  # in units of the 0.9-quantile of the layer's pairwise distances


def train_mlp(X, y, epochs=600, seed=0):
    """64-64-32-16-10 ReLU MLP, full-batch AdamW with weight decay and label smoothing
    (both tighten the class clusters of the last hidden layer)."""
    torch.manual_seed(seed)
    nn = torch.nn
    model = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(),
                          nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-2)
    xt, yt = torch.tensor(X), torch.tensor(y)
    for _ in range(epochs):
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(xt), yt, label_smoothing=0.1)
        loss.backward()
        opt.step()
    return model.eval()


def plateau(dgm0, target):
    """The scales at which beta_0 equals ``target``: [death_(target), death_(target-1))."""
    deaths = np.sort(dgm0[np.isfinite(dgm0[:, 1]), 1])[::-1]
    hi = deaths[target - 2] if target >= 2 else np.inf
    return float(deaths[target - 1]), float(hi)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/figures")
    ap.add_argument("--save-study", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    t0 = time.perf_counter()
    model = train_mlp(Xtr, ytr)
    train_s = time.perf_counter() - t0
    with torch.no_grad():
        acc = float((model(torch.tensor(Xte)).argmax(1).numpy() == yte).mean())

    config = ts.LayerStudyConfig(layers=LAYERS, pool="mean", maxdim=1, scales=SCALES,
                                 prep=ts.PrepConfig(n_samples=None, pca=None, normalize="quantile", quantile=0.9))
    report = {"test_accuracy": acc, "train_s": train_s}
    for split, data in (("test", Xte), ("train", Xtr)):
        study = ts.LayerTopology(config).run(model, torch.tensor(data))
        betti = {f"{s:g}": study.metric(f"betti@{s:g}", 0).astype(int).to_dict() for s in SCALES}
        report[split] = {
            "n": len(data),
            "beta0": betti,
            "plateau_10_last_hidden": plateau(study.diagrams["hidden3"][0], 10),
            "plateau_10_input": plateau(study.diagrams["input"][0], 10),
            "h1_bars": study.metric("n_bars", 1).astype(int).to_dict(),
            "twonn": {k: round(v, 2) for k, v in study.metric("twonn_dimension", -1).to_dict().items()},
            "expansion_ratio": study.summary["expansion_ratio"],
            "expansion_ratio_raw": study.summary["expansion_ratio_raw"],
            "timings": {k: v for k, v in study.timings.items() if k.endswith("_s")},
        }
        study.plot_betti_curves(f"{args.out}/digits_betti0_{split}.png", dim=0, reference=10, logy=True)
        if split == "test":
            study.plot_trajectories(f"{args.out}/digits_trajectories.png",
                                    metrics=("betti@0.3", "total_persistence", "total_persistence_raw"))
            if args.save_study:
                study.save(args.save_study, figures=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
