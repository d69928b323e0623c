"""One runner per engine, all returning diagrams in a common form.

A runner takes the prepared input and a :class:`~benchmarks.cases.Case` and
returns ``maxdim + 1`` float64 arrays of shape (k, 2), essential bars with
death ``inf``.  :meth:`Engine.prepare` does the untimed input conversion an
engine's documented call needs (``tda`` takes float32 points); everything
from points to diagrams, distance computation included, is in
:meth:`Engine.compute` and is what the benchmarks time.

Only the public entry points are used: ``toposcope.rips``,
``ripser.ripser``, gudhi's ``RipsPersistence``, ``gph.ripser_parallel``,
``redzed_tda.rips``, ``holos_tda.rips_points`` and
``tda.persistent_homology``.

Some engines cannot do some cases on this machine (a dense n x n matrix that
does not fit): :meth:`Engine.infeasible` says why, from each engine's
measured memory per n^2 (MISSION anchors), so no run is sent into swap.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

from .cases import Case

Diagrams = List[np.ndarray]


def memory_budget_bytes() -> int:
    """Memory a single run may use: $TOPOSCOPE_BENCH_MEM_GB or 75% of RAM."""
    if os.environ.get("TOPOSCOPE_BENCH_MEM_GB"):
        return int(float(os.environ["TOPOSCOPE_BENCH_MEM_GB"]) * 2**30)
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(int(line.split()[1]) * 1024 * 0.75)
    except OSError:
        pass
    return 8 * 2**30


def _as_diagrams(per_dim: List[Any], maxdim: int) -> Diagrams:
    """Pad/convert to ``maxdim + 1`` float64 (k, 2) arrays."""
    out = []
    for dim in range(maxdim + 1):
        bars = per_dim[dim] if dim < len(per_dim) else []
        out.append(np.asarray(bars, dtype=np.float64).reshape(-1, 2))
    return out


# --------------------------------------------------------------------------
# runners
# --------------------------------------------------------------------------

def _toposcope(X: np.ndarray, case: Case) -> Diagrams:
    import toposcope
    return _as_diagrams(toposcope.rips(X, maxdim=case.maxdim, threshold=case.threshold).dgms,
                        case.maxdim)


def _ripser_py(X: np.ndarray, case: Case) -> Diagrams:
    import ripser
    return _as_diagrams(ripser.ripser(X, maxdim=case.maxdim, thresh=case.threshold)["dgms"],
                        case.maxdim)


def _gudhi(X: np.ndarray, case: Case) -> Diagrams:
    from gudhi.sklearn.rips_persistence import RipsPersistence
    # Default num_collapses="auto": gudhi collapses edges itself when maxdim >= 2.
    rips = RipsPersistence(homology_dimensions=list(range(case.maxdim + 1)),
                           threshold=case.threshold, homology_coeff_field=2)
    return _as_diagrams(rips.fit_transform([X])[0], case.maxdim)


def _giotto(n_threads: int, collapse_edges: bool = False) -> Callable[[np.ndarray, Case], Diagrams]:
    def run(X: np.ndarray, case: Case) -> Diagrams:
        import gph
        result = gph.ripser_parallel(X, maxdim=case.maxdim, thresh=case.threshold,
                                     n_threads=n_threads, collapse_edges=collapse_edges)
        return _as_diagrams(result["dgms"], case.maxdim)
    return run


def _redzed(X: np.ndarray, case: Case) -> Diagrams:
    import redzed_tda
    from scipy.spatial.distance import pdist
    # redzed-tda takes distances only; computing them is part of its cost.
    return _as_diagrams(redzed_tda.rips(pdist(X), maxdim=case.maxdim, threshold=case.threshold),
                        case.maxdim)


def _holos(threads: int) -> Callable[[np.ndarray, Case], Diagrams]:
    def run(X: np.ndarray, case: Case) -> Diagrams:
        import holos_tda
        threshold = None if math.isinf(case.threshold) else case.threshold
        bars = holos_tda.rips_points(X, max_dim=case.maxdim, threshold=threshold,
                                     modulus=2, threads=threads)
        per_dim: List[List[Any]] = [[] for _ in range(case.maxdim + 1)]
        for dim, birth, death in bars:  # a flat list of (dim, birth, death)
            per_dim[dim].append((birth, death))
        return _as_diagrams(per_dim, case.maxdim)
    return run


def _tda(X: np.ndarray, case: Case) -> Diagrams:
    import tda
    threshold = None if math.isinf(case.threshold) else case.threshold
    return _as_diagrams(tda.persistent_homology(X, max_dim=case.maxdim, threshold=threshold,
                                                peel=True), case.maxdim)


# --------------------------------------------------------------------------
# engines
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Engine:
    """A persistence engine as the benchmarks see it."""

    name: str
    module: str                          # import name, to tell whether it is installed
    dist: str                            # distribution name, for its version
    compute: Callable[[np.ndarray, Case], Diagrams]
    precision: str = "float64"           # the precision its diagrams are computed in
    input_dtype: Any = np.float64
    # Estimated peak bytes per n^2 for an unthresholded run (None: no dense n^2
    # structure), and whether a finite threshold avoids the dense matrix.
    dense_bytes_per_n2: Optional[float] = None
    sparse_when_thresholded: bool = True
    default: bool = True                 # part of the default engine list
    extra_imports: Tuple[str, ...] = ()  # modules the runner imports lazily

    def import_modules(self) -> None:
        """Import everything the runner needs, so the timed call excludes imports."""
        for module in (self.module, *self.extra_imports):
            importlib.import_module(module)

    def available(self) -> bool:
        return importlib.util.find_spec(self.module) is not None

    def version(self) -> str:
        try:
            return importlib.metadata.version(self.dist)
        except importlib.metadata.PackageNotFoundError:
            return "n/a"

    def prepare(self, X: np.ndarray) -> np.ndarray:
        """The untimed input conversion the engine's documented call needs."""
        return np.array(X, dtype=self.input_dtype, order="C", copy=True)

    def infeasible(self, case: Case, n_points: int) -> Optional[str]:
        """Why this engine cannot run ``case`` here, or None when it can."""
        if self.dense_bytes_per_n2 is None:
            return None
        if self.sparse_when_thresholded and math.isfinite(case.threshold):
            return None
        need = self.dense_bytes_per_n2 * float(n_points) ** 2
        budget = memory_budget_bytes()
        if need > budget:
            return (f"infeasible (dense n^2: ~{need / 2**30:.0f} GB needed, "
                    f"{budget / 2**30:.0f} GB budget)")
        return None


# Memory factors come from the MISSION anchors at n = 10,000, H1 (bytes / n^2):
# ripser.py 6986 MB -> ~73, gudhi 4251 MB -> ~45, giotto-ph 2959 MB -> ~31,
# redzed-tda 1070 MB -> ~11 (the condensed float64 vector alone is 4 n^2).
ENGINES: List[Engine] = [
    Engine("toposcope", "toposcope", "toposcope", _toposcope),
    Engine("ripser.py", "ripser", "ripser", _ripser_py, precision="float32",
           dense_bytes_per_n2=75, sparse_when_thresholded=False),
    Engine("gudhi", "gudhi", "gudhi", _gudhi, dense_bytes_per_n2=45,
           extra_imports=("gudhi.sklearn.rips_persistence",)),
    Engine("giotto-ph-1t", "gph", "giotto-ph", _giotto(1), precision="float32", dense_bytes_per_n2=32),
    Engine("giotto-ph-2t", "gph", "giotto-ph", _giotto(2), precision="float32", dense_bytes_per_n2=32),
    # redzed-tda's bars agree with float64 engines only to float32 rounding.
    Engine("redzed-tda", "redzed_tda", "redzed-tda", _redzed, precision="float32",
           dense_bytes_per_n2=12, extra_imports=("scipy.spatial.distance",),
           sparse_when_thresholded=False),
    Engine("holos-tda", "holos_tda", "holos-tda", _holos(1)),
    Engine("tda", "tda", "tda", _tda, precision="float32", input_dtype=np.float32),
    # Opt-in variants (name them with --engines).
    Engine("giotto-ph-2t-collapse", "gph", "giotto-ph", _giotto(2, collapse_edges=True), precision="float32",
           dense_bytes_per_n2=32, default=False),
    Engine("holos-tda-2t", "holos_tda", "holos-tda", _holos(2), default=False),
]

ENGINES_BY_NAME: Dict[str, Engine] = {engine.name: engine for engine in ENGINES}
REFERENCE = "toposcope"
# Float64 peers that stand in as the reference when toposcope does not finish.
FALLBACK_REFERENCES = ("gudhi", "holos-tda")


def select(names: Optional[List[str]] = None) -> List[Engine]:
    """Engines by name, or the default list (installed or not)."""
    if names:
        unknown = [n for n in names if n not in ENGINES_BY_NAME]
        if unknown:
            raise ValueError(f"unknown engine(s) {unknown}; known: {sorted(ENGINES_BY_NAME)}")
        return [ENGINES_BY_NAME[n] for n in names]
    return [engine for engine in ENGINES if engine.default]
