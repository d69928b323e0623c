"""`toposcope bench`: time toposcope against the persistent-homology packages
installed here.

From a source checkout it runs the full comparison table
(`benchmarks/table.py`: every case and peer in its own process, peak memory,
diagram checks); any extra arguments go to it. Without the source tree (an
installed wheel) it times one activation-like cloud in this process against
ripser.py, gudhi and giotto-ph when they are installed, and checks that their
diagrams agree with toposcope's.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional

import numpy as np

from ._common import CLIError, HelpFormatter, UsageError, common_options


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "bench", parents=[common_options()], formatter_class=HelpFormatter,
        help="time toposcope against the installed peers",
        description=__doc__.split("\n\n", 1)[1],
        epilog="examples:\n  toposcope bench --quick\n  toposcope bench --builtin --points 1500\n"
               "  toposcope bench -- --cases act_4000 --engines toposcope gudhi")
    p.add_argument("--quick", action="store_true", help="small cases only (passed to the table)")
    p.add_argument("--builtin", action="store_true",
                   help="use the built-in timing even when the source tree's table is present")
    p.add_argument("--points", type=int, default=1000, help="built-in timing: points in R^50 (default 1000)")
    p.add_argument("--maxdim", type=int, default=1, help="built-in timing: highest dimension (default 1)")
    p.add_argument("table_args", nargs=argparse.REMAINDER,
                   help="arguments after `--` go to benchmarks/table.py")
    p.set_defaults(func=run_bench)


def find_table() -> Optional[Path]:
    """benchmarks/table.py of the checkout toposcope was installed from, or of the cwd."""
    import toposcope

    candidates = [Path(toposcope.__file__).resolve().parents[2], Path.cwd()]
    for root in candidates:
        table = root / "benchmarks" / "table.py"
        if table.is_file() and (root / "benchmarks" / "__init__.py").is_file():
            return table
    return None


def activation_like(n: int, dim: int = 50, classes: int = 10, seed: int = 0) -> np.ndarray:
    """`classes` noisy loops in random 2-planes of R^dim, as in the mission's table."""
    rng = np.random.default_rng(seed)
    per = np.array_split(np.arange(n), classes)
    X = np.empty((n, dim))
    for idx in per:
        basis, _ = np.linalg.qr(rng.normal(size=(dim, 2)))
        angle = rng.uniform(0, 2 * np.pi, size=len(idx))
        loop = np.c_[np.cos(angle), np.sin(angle)] @ basis.T
        X[idx] = 3 * rng.normal(size=dim) + loop + 0.1 * rng.normal(size=(len(idx), dim))
    return X


def _peers(maxdim: int) -> Dict[str, Callable[[np.ndarray], List[np.ndarray]]]:
    """Installed peers, each returning finite-death diagrams per dimension."""
    out: Dict[str, Callable] = {}
    if importlib.util.find_spec("ripser"):
        def ripser_py(X):
            import ripser
            return ripser.ripser(X, maxdim=maxdim)["dgms"]
        out["ripser.py"] = ripser_py
    if importlib.util.find_spec("gudhi"):
        def gudhi_rips(X):
            import gudhi
            st = gudhi.RipsComplex(points=X).create_simplex_tree(max_dimension=maxdim + 1)
            st.compute_persistence(homology_coeff_field=2, persistence_dim_max=True)
            return [st.persistence_intervals_in_dimension(d) for d in range(maxdim + 1)]
        out["gudhi"] = gudhi_rips
    if importlib.util.find_spec("gph"):
        def giotto(X):
            import gph
            return gph.ripser_parallel(X, maxdim=maxdim, n_threads=os.cpu_count() or 1)["dgms"]
        out["giotto-ph"] = giotto
    return out


def _signature(dgms) -> List[tuple]:
    """Bars per dimension, sorted and rounded, for an equality check across engines."""
    sig = []
    for d in dgms:
        d = np.asarray(d, dtype=float).reshape(-1, 2)
        d = d[d[:, 1] - d[:, 0] > 1e-9]
        sig.append(np.round(np.sort(d, axis=0), 5).tolist())
    return sig


def builtin_timing(points: int, maxdim: int, quiet: bool) -> int:
    import toposcope as ts

    if points < 2:
        raise UsageError("--points must be at least 2")
    X = activation_like(points)
    engines = {"toposcope": lambda A: ts.rips(A, maxdim=maxdim).dgms}
    engines.update(_peers(maxdim))
    print(f"built-in timing: {points} activation-like points in R^50, H0..H{maxdim}, one call each")
    print(f"{'engine':<12} {'seconds':>9}  diagrams")
    reference = None
    for name, fn in engines.items():
        start = time.perf_counter()
        try:
            dgms = fn(X)
        except Exception as exc:  # a peer failing is a row of the table, not a crash
            print(f"{name:<12} {'failed':>9}  {type(exc).__name__}: {exc}")
            continue
        seconds = time.perf_counter() - start
        sig = _signature(dgms)
        if reference is None:
            reference, verdict = sig, "reference"
        else:
            verdict = "same as toposcope" if sig == reference else "DIFFER from toposcope"
        print(f"{name:<12} {seconds:>9.3f}  {verdict}")
    if len(engines) == 1:
        print("no peer installed (pip install ripser gudhi giotto-ph to compare)")
    return 0


def run_bench(args: argparse.Namespace) -> int:
    extra = [a for a in args.table_args if a != "--"]
    table = None if args.builtin else find_table()
    if table is None:
        if extra:
            raise UsageError("extra arguments are for benchmarks/table.py, which is not in this installation")
        return builtin_timing(args.points, args.maxdim, args.quiet)
    cmd = [sys.executable, "-m", "benchmarks.table"] + (["--quick"] if args.quick else []) + extra
    if not args.quiet:
        print(f"running {' '.join(cmd[1:])} in {table.parents[1]}", file=sys.stderr)
    try:
        return subprocess.call(cmd, cwd=str(table.parents[1]))
    except OSError as exc:
        raise CLIError(f"cannot run the benchmark table: {exc}") from None
