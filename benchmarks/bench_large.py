"""Large-sample benchmarks: farthest-point sampling and sparse approximate Rips.

Each case runs in its own process so that its peak memory (max RSS, which
sees the C++ allocations too) is its own. Run from the repository root:

    python -m benchmarks.bench_large                     # default cases
    python -m benchmarks.bench_large --cases fps approx  # pick some
    python -m benchmarks.bench_large --million           # add the 1,000,000-point cases (opt-in)
    python -m benchmarks.bench_large --json out.json

Cases
-----
fps       1,000,000 x 768 float32 activation-like points to 2,000 landmarks:
          toposcope (C++) against a numpy reference loop (one BLAS mat-vec per
          pick, the usual vectorised implementation). The reference's cost per
          pick is constant, so it is timed on its first ``--ref-picks`` picks
          and extrapolated; its picks are checked against ours.
fps-gauss the same on i.i.d. Gaussian points (no cluster structure: the
          triangle-inequality skip cannot help; the worst case).
approx    100,000 activation-like points in R^50 (10 classes, noisy circles),
          H0-H1 with eps = 0.5 and 0.1: the sparse filtration on the greedy
          landmarks (``n_perm``), plus the full sparse filtration's size
          measured on 5,000-20,000 points (see NOTES.md for why).
approx-1m (opt-in) the same on 1,000,000 points.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

import numpy as np


def activation_like_f32(n: int, dim: int, n_classes: int = 10, seed: int = 0) -> np.ndarray:
    """benchmarks.cases.activation_like, generated class by class in float32
    (the float64 original needs 2x the memory at 768 dimensions)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(n_classes, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    labels = np.arange(n) % n_classes
    for c in range(n_classes):
        plane, _ = np.linalg.qr(rng.normal(size=(dim, 2)))
        rows = np.nonzero(labels == c)[0]
        for a in range(0, len(rows), 50_000):
            r = rows[a : a + 50_000]
            t = rng.uniform(0.0, 2.0 * math.pi, size=len(r))
            circle = np.stack([np.cos(t), np.sin(t)], axis=1) @ plane.T * 1.5
            noise = rng.standard_normal(size=(len(r), dim), dtype=np.float32) * np.float32(0.3)
            out[r] = centres[c] + circle.astype(np.float32) + noise
    return out


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def numpy_fps_reference(X: np.ndarray, k: int):
    """Farthest-point sampling as usually vectorised in numpy: distances of each
    pick to all points from the Gram expansion (one mat-vec), running minimum."""
    sq = np.einsum("ij,ij->i", X, X)
    order = [0]
    nearest = np.sqrt(np.maximum(sq + sq[0] - 2.0 * (X @ X[0]), 0))
    for _ in range(1, k):
        i = int(np.argmax(nearest))
        order.append(i)
        np.minimum(nearest, np.sqrt(np.maximum(sq + sq[i] - 2.0 * (X @ X[i]), 0)), out=nearest)
    return np.array(order)


def case_fps(n: int, dim: int, k: int, ref_picks: int, data: str) -> dict:
    import toposcope as ts

    t0 = time.perf_counter()
    if data == "gauss":
        X = np.random.default_rng(0).standard_normal(size=(n, dim), dtype=np.float32)
    else:
        X = activation_like_f32(n, dim)
    gen_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    idx, radii = ts.farthest_point_sampling(X, k=k)
    ours_s, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    ref = numpy_fps_reference(X, ref_picks)
    ref_s, ref_cpu = time.perf_counter() - t0, time.process_time() - c0
    ref_total = ref_s / ref_picks * k
    return {
        "case": f"fps-{data}", "n": n, "dim": dim, "k": k, "generate_s": round(gen_s, 1),
        "toposcope_s": round(ours_s, 2), "toposcope_cpu_s": round(ours_cpu, 2),
        "numpy_ref_s_extrapolated": round(ref_total, 1),
        "numpy_ref_cpu_s_extrapolated": round(ref_cpu / ref_picks * k, 1),
        "numpy_ref_picks_timed": ref_picks, "speedup": round(ref_total / ours_s, 1),
        "picks_agree": int(np.sum(idx[:ref_picks] == ref)), "r_cover": float(radii[-1]),
        "peak_rss_gib": round(peak_rss_gib(), 2),
    }


def case_approx(n: int, eps: float, n_perm: int) -> dict:
    import toposcope as ts
    from benchmarks.cases import activation_like

    X = activation_like(n, 50)
    t0, c0 = time.perf_counter(), time.process_time()
    res = ts.rips(X, maxdim=1, approximate=eps, n_perm=n_perm)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    h1 = res.dgms[1]
    top = np.sort(h1[:, 1] - h1[:, 0])[::-1][:12] if len(h1) else np.zeros(0)
    return {
        "case": "approx", "n": n, "eps": eps, "n_perm": n_perm, "seconds": round(seconds, 2), "cpu_s": round(cpu, 2),
        "num_edges": res.num_edges, "r_cover": round(res.r_cover, 4), "h1_bars": len(h1),
        "h1_bars_longer_than_0.3": int(np.sum(h1[:, 1] - h1[:, 0] > 0.3)),
        "top_h1_lengths": [round(float(x), 3) for x in top[:10]],
        "peak_rss_gib": round(peak_rss_gib(), 2),
    }


def case_exact_landmarks(n: int, n_perm: int) -> dict:
    import toposcope as ts
    from benchmarks.cases import activation_like

    X = activation_like(n, 50)
    t0, c0 = time.perf_counter(), time.process_time()
    res = ts.rips(X, maxdim=1, n_perm=n_perm)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    h1 = res.dgms[1]
    return {
        "case": "exact-landmarks", "n": n, "n_perm": n_perm, "seconds": round(seconds, 2), "cpu_s": round(cpu, 2),
        "num_edges": res.num_edges, "r_cover": round(res.r_cover, 4), "h1_bars": len(h1),
        "h1_bars_longer_than_0.3": int(np.sum(h1[:, 1] - h1[:, 0] > 0.3)),
        "peak_rss_gib": round(peak_rss_gib(), 2),
    }


def case_sparse_size(n: int, eps: float) -> dict:
    """Size of the full sparse filtration (no landmarks) on n points."""
    import toposcope as ts
    from benchmarks.cases import activation_like
    from toposcope.approximate import sparse_rips_graph

    X = activation_like(n, 50)
    t0 = time.perf_counter()
    idx, radii = ts.farthest_point_sampling(X)
    fps_s = time.perf_counter() - t0
    lam = np.concatenate([[np.inf], radii[:-1]])
    t0 = time.perf_counter()
    graph = sparse_rips_graph(X[idx], lam, eps)
    graph_s = time.perf_counter() - t0
    return {
        "case": "sparse-size", "n": n, "eps": eps, "fps_s": round(fps_s, 2), "graph_s": round(graph_s, 2),
        "edges": int(graph.nnz), "edges_per_point": round(graph.nnz / n, 1),
        "fraction_of_all_pairs": round(graph.nnz / (n * (n - 1) / 2), 4),
        "peak_rss_gib": round(peak_rss_gib(), 2),
    }


CASES = {
    "fps": lambda a: [("case_fps", dict(n=a.fps_n, dim=768, k=2000, ref_picks=a.ref_picks, data="activation"))],
    "fps-gauss": lambda a: [("case_fps", dict(n=a.fps_n, dim=768, k=2000, ref_picks=a.ref_picks, data="gauss"))],
    "approx": lambda a: [("case_approx", dict(n=100_000, eps=e, n_perm=p)) for p in a.n_perm for e in (0.5, 0.1)]
    + [("case_exact_landmarks", dict(n=100_000, n_perm=p)) for p in a.n_perm]
    + [("case_sparse_size", dict(n=m, eps=0.5)) for m in (5_000, 10_000)],
    "approx-1m": lambda a: [("case_approx", dict(n=1_000_000, eps=e, n_perm=a.n_perm[0])) for e in (0.5, 0.1)],
}


def run_in_subprocess(func: str, kwargs: dict) -> dict:
    code = (
        "import json, sys; from benchmarks import bench_large as b; "
        f"print('RESULT ' + json.dumps(b.{func}(**json.loads(sys.argv[1]))))"
    )
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(kwargs)], capture_output=True, text=True)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"case": func, **kwargs, "error": (proc.stderr or proc.stdout).strip().splitlines()[-1:]}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", nargs="+", default=["fps", "approx"], choices=sorted(CASES))
    p.add_argument("--million", action="store_true", help="also run the 1,000,000-point approximate case")
    p.add_argument("--fps-n", type=int, default=1_000_000)
    p.add_argument("--ref-picks", type=int, default=50, help="picks of the numpy reference actually timed")
    p.add_argument("--n-perm", type=int, nargs="+", default=[2000])
    p.add_argument("--json", help="write the results here")
    a = p.parse_args(argv)
    cases = list(a.cases) + (["approx-1m"] if a.million else [])
    results = []
    print(f"# {time.strftime('%Y-%m-%d %H:%M')} | {os.cpu_count()} cores | load {os.getloadavg()[0]:.1f}", flush=True)
    for name in cases:
        for func, kwargs in CASES[name](a):
            r = run_in_subprocess(func, kwargs)
            results.append(r)
            print(json.dumps(r), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
