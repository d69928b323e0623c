"""Are two engines' diagrams the same, up to the precision they compute in?

Equality is judged per dimension by the bottleneck distance: by the
stability theorem, two Rips diagrams of distance matrices that differ by at
most ``eps`` entrywise are at most ``eps`` apart, so rounding in the distances
(float64, or float32 for ripser.py, giotto-ph and tda) shows up as a
bottleneck distance of the order of that rounding and nothing more.  Bars
shorter than twice the tolerance may be matched to the diagonal, i.e. exist
on one side only -- bars below float32 resolution are allowed to do that.
Essential (infinite) bars must agree in number and, within tolerance, in
birth.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

# Tolerance relative to the diagrams' largest finite value.
RELATIVE_TOLERANCE = {"float64": 1e-9, "float32": 1e-5}


@dataclass
class Comparison:
    """Outcome of comparing two diagram lists."""

    equal: bool
    tolerance: float
    distances: List[float]  # per-dimension bottleneck distance (inf: essential bars differ)
    detail: str

    def __bool__(self) -> bool:
        return self.equal


def _scale(*diagram_lists: Sequence[np.ndarray]) -> float:
    largest = 1.0
    for dgms in diagram_lists:
        for dgm in dgms:
            finite = dgm[np.isfinite(dgm)]
            if finite.size:
                largest = max(largest, float(np.abs(finite).max()))
    return largest


def _essential_distance(a: np.ndarray, b: np.ndarray) -> float:
    births_a = np.sort(a[np.isinf(a[:, 1]), 0])
    births_b = np.sort(b[np.isinf(b[:, 1]), 0])
    if births_a.size != births_b.size:
        return float("inf")
    return float(np.abs(births_a - births_b).max()) if births_a.size else 0.0


def _finite_bottleneck(a: np.ndarray, b: np.ndarray, tolerance: float) -> float:
    """Bottleneck distance between the finite parts (gudhi when installed)."""
    a = a[np.isfinite(a[:, 1])]
    b = b[np.isfinite(b[:, 1])]
    try:
        import gudhi
        return float(gudhi.bottleneck_distance(a, b))
    except ImportError:
        return _sorted_distance(a, b, tolerance)


def _sorted_distance(a: np.ndarray, b: np.ndarray, tolerance: float) -> float:
    """Fallback without gudhi: drop bars that may sit on the diagonal, then
    compare sorted bars. An upper bound on the bottleneck distance when the
    sorted orders agree; inf when the counts differ."""
    a = a[a[:, 1] - a[:, 0] > 2 * tolerance]
    b = b[b[:, 1] - b[:, 0] > 2 * tolerance]
    if len(a) != len(b):
        return float("inf")
    if not len(a):
        return 0.0
    a = a[np.lexsort((a[:, 1], a[:, 0]))]
    b = b[np.lexsort((b[:, 1], b[:, 0]))]
    return float(np.abs(a - b).max())


def compare(candidate: Sequence[np.ndarray], reference: Sequence[np.ndarray],
            precision: str = "float64") -> Comparison:
    """Compare ``candidate`` diagrams with ``reference`` at ``precision``."""
    tolerance = RELATIVE_TOLERANCE[precision] * _scale(candidate, reference)
    if len(candidate) != len(reference):
        return Comparison(False, tolerance, [],
                          f"{len(candidate)} dimensions against {len(reference)}")
    distances = []
    for a, b in zip(candidate, reference):
        a = np.asarray(a, dtype=np.float64).reshape(-1, 2)
        b = np.asarray(b, dtype=np.float64).reshape(-1, 2)
        distances.append(max(_essential_distance(a, b), _finite_bottleneck(a, b, tolerance)))
    bad = [dim for dim, d in enumerate(distances) if not d <= tolerance]
    if not bad:
        return Comparison(True, tolerance, distances, "equal")
    detail = "; ".join(
        f"H{dim}: {len(candidate[dim])} vs {len(reference[dim])} bars, "
        f"bottleneck {distances[dim]:.3g} > tol {tolerance:.1g}" for dim in bad)
    return Comparison(False, tolerance, distances, detail)
