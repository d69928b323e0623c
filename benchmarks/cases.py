"""Benchmark cases: seeded point clouds that are the same on every run.

Each :class:`Case` names its data, the homology dimensions to compute, the
Rips threshold and a size class, so that quick runs can skip the big ones:

* ``small``  -- every installed peer finishes in well under a minute;
* ``medium`` -- some peers need minutes and gigabytes (the MISSION anchors);
* ``large``  -- opt-in, harder rows that most peers cannot do at all.

The Ripser paper's data sets are read from the shared data folder when it is
present (``$TOPOSCOPE_BENCH_DATA``, ``<repo>/../shared/data`` or
``/work/shared/data``); otherwise an equivalent cloud is generated and the
case's ``source`` says so.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import numpy as np

SIZE_CLASSES = ("small", "medium", "large")

_REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------
# generators (every one takes an explicit seed)
# --------------------------------------------------------------------------

def activation_like(n: int, dim: int = 50, n_classes: int = 10, seed: int = 0) -> np.ndarray:
    """Points shaped like a classifier's activations: one noisy loop per class.

    Class centres are N(0, 3^2) in R^dim; each class is a circle of radius 1.5
    in a random 2-plane through its centre; every point gets N(0, 0.3^2) noise.
    """
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=3.0, size=(n_classes, dim))
    labels = np.arange(n) % n_classes
    angles = rng.uniform(0.0, 2.0 * math.pi, size=n)
    points = np.empty((n, dim))
    for c in range(n_classes):
        # An orthonormal pair spanning a random 2-plane.
        plane, _ = np.linalg.qr(rng.normal(size=(dim, 2)))
        members = labels == c
        circle = np.stack([np.cos(angles[members]), np.sin(angles[members])], axis=1)
        points[members] = centres[c] + 1.5 * circle @ plane.T
    points += rng.normal(scale=0.3, size=points.shape)
    return points


def torus(n: int, major: float = 2.0, minor: float = 1.0, seed: int = 0) -> np.ndarray:
    """``n`` points on a torus of radii (major, minor) in R^3, uniform in angles."""
    rng = np.random.default_rng(seed)
    u, v = rng.uniform(0.0, 2.0 * math.pi, size=(2, n))
    ring = major + minor * np.cos(v)
    return np.stack([ring * np.cos(u), ring * np.sin(u), minor * np.sin(v)], axis=1)


def uniform_cube(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """``n`` points uniform in [0, 1]^dim."""
    return np.random.default_rng(seed).uniform(size=(n, dim))


def sphere(n: int, dim: int = 2, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """``n`` points uniform on the unit sphere S^dim in R^(dim+1), optionally noisy."""
    rng = np.random.default_rng(seed)
    points = rng.normal(size=(n, dim + 1))
    points /= np.linalg.norm(points, axis=1, keepdims=True)
    if noise:
        points += rng.normal(scale=noise, size=points.shape)
    return points


def random_orthogonal(n: int, seed: int = 0) -> np.ndarray:
    """``n`` Haar-random O(3) matrices flattened to points in R^9."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(n, 3, 3)))
    # Fixing the signs of R's diagonal makes Q Haar-distributed on O(3).
    q *= np.sign(np.diagonal(r, axis1=1, axis2=2))[:, None, :]
    return q.reshape(n, 9)


def clifford_torus(n: int, seed: int = 0) -> np.ndarray:
    """``n`` points on the Clifford torus S^1 x S^1 in R^4."""
    rng = np.random.default_rng(seed)
    u, v = rng.uniform(0.0, 2.0 * math.pi, size=(2, n))
    return np.stack([np.cos(u), np.sin(u), np.cos(v), np.sin(v)], axis=1)


# --------------------------------------------------------------------------
# shared data files
# --------------------------------------------------------------------------

def data_dir() -> Optional[Path]:
    """The folder holding the Ripser paper's data sets, or None."""
    candidates = [os.environ.get("TOPOSCOPE_BENCH_DATA"),
                  _REPO_ROOT.parent / "shared" / "data",
                  "/work/shared/data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def _data_file(name: str) -> Optional[Path]:
    folder = data_dir()
    if folder is not None and (folder / name).is_file():
        return folder / name
    return None


def _from_file_or(name: str, generate: Callable[[], np.ndarray]) -> Callable[[], np.ndarray]:
    """A loader that reads whitespace-separated rows from ``name`` when present."""
    def load() -> np.ndarray:
        path = _data_file(name)
        return np.loadtxt(path, dtype=np.float64, ndmin=2) if path else generate()
    return load


# --------------------------------------------------------------------------
# the cases
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """One benchmark row: data, dimensions, threshold and size class."""

    name: str
    description: str
    maxdim: int
    threshold: float
    size: str
    make: Callable[[], np.ndarray] = field(repr=False, compare=False)
    data_file: Optional[str] = None  # a shared data file used when present

    @property
    def source(self) -> str:
        if self.data_file is None:
            return "generated"
        return "file" if _data_file(self.data_file) else "generated (file absent)"

    def points(self) -> np.ndarray:
        """The (n, d) float64 point cloud, cached per process."""
        return _points(self.name)


def _activation_case(name: str, n: int, size: str, dim: int = 50, maxdim: int = 1,
                     threshold: float = math.inf) -> Case:
    where = f"R^{dim}"
    return Case(name, f"{n:,} activation-like points in {where}, H0-H{maxdim}",
                maxdim, threshold, size, lambda: activation_like(n, dim=dim, seed=n))


CASES: List[Case] = [
    # --- small -------------------------------------------------------------
    _activation_case("act_1000", 1000, "small"),
    Case("torus_2000", "torus (R=2, r=1), 2,000 points in R^3, H0-H1", 1, math.inf, "small",
         lambda: torus(2000, seed=1)),
    Case("cube_2000", "uniform cube, 2,000 points in [0,1]^50, H0-H1", 1, math.inf, "small",
         lambda: uniform_cube(2000, 50, seed=2)),
    Case("o3_1024", "o3: 1,024 random O(3) matrices in R^9, H0-H3, threshold 1.8", 3, 1.8, "small",
         _from_file_or("o3_1024.txt", lambda: random_orthogonal(1024, seed=3)), "o3_1024.txt"),
    Case("sphere_300", "sphere S^2, 300 points, H0-H2", 2, math.inf, "small",
         lambda: sphere(300, seed=4)),
    Case("sphere_3_192", "sphere_3_192 (Ripser paper data), H0-H2", 2, math.inf, "small",
         _from_file_or("sphere_3_192_points.dat", lambda: sphere(192, seed=5)),
         "sphere_3_192_points.dat"),
    # --- medium ------------------------------------------------------------
    _activation_case("act_4000", 4000, "medium"),
    _activation_case("act_10000", 10000, "medium"),
    Case("o3_4096", "o3_4096 (Ripser paper data), H0-H3, threshold 1.4", 3, 1.4, "medium",
         _from_file_or("o3_4096.txt", lambda: random_orthogonal(4096, seed=6)), "o3_4096.txt"),
    Case("clifford_50000", "clifford_torus_50000 (Ripser paper data), H0-H2, threshold 0.15",
         2, 0.15, "medium",
         _from_file_or("clifford_torus_50000.points.txt", lambda: clifford_torus(50000, seed=7)),
         "clifford_torus_50000.points.txt"),
    # --- large (opt-in) ----------------------------------------------------
    _activation_case("act_20000", 20000, "large"),
    _activation_case("act768_2000", 2000, "large", dim=768),
    Case("sphere_1000_h2", "noisy sphere S^2, 1,000 points in R^3, H0-H2, threshold 0.6",
         2, 0.6, "large", lambda: sphere(1000, noise=0.02, seed=8)),
]

CASES_BY_NAME: Dict[str, Case] = {case.name: case for case in CASES}


@lru_cache(maxsize=4)
def _points(name: str) -> np.ndarray:
    return np.ascontiguousarray(CASES_BY_NAME[name].make(), dtype=np.float64)


def select(names: Optional[Sequence[str]] = None, sizes: Sequence[str] = SIZE_CLASSES) -> List[Case]:
    """Cases by name (any size) or, without names, every case of the given sizes."""
    if names:
        unknown = [n for n in names if n not in CASES_BY_NAME]
        if unknown:
            raise ValueError(f"unknown case(s) {unknown}; known: {sorted(CASES_BY_NAME)}")
        return [CASES_BY_NAME[n] for n in names]
    return [case for case in CASES if case.size in sizes]
