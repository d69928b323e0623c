"""Input checks shared by the public entry points.

Everything that could crash the engine, hang it, or silently give a wrong
answer is rejected here with a ValueError or TypeError that names the problem.
"""
from __future__ import annotations

import numbers
import os

import numpy as np

MAX_PRIME = 1 << 15


def check_maxdim(maxdim) -> int:
    if isinstance(maxdim, bool) or not isinstance(maxdim, numbers.Integral):
        raise TypeError(f"maxdim must be an integer, got {maxdim!r}")
    if maxdim < 0:
        raise ValueError(f"maxdim must be >= 0, got {maxdim}")
    return int(maxdim)


def is_prime(p: int) -> bool:
    if p < 2:
        return False
    d = 2
    while d * d <= p:
        if p % d == 0:
            return False
        d += 1
    return True


def check_coeff(coeff) -> int:
    if isinstance(coeff, bool) or not isinstance(coeff, numbers.Integral):
        raise TypeError(f"coeff must be a prime integer, got {coeff!r}")
    if not is_prime(int(coeff)) or coeff >= MAX_PRIME:
        raise ValueError(f"coeff must be a prime below {MAX_PRIME}, got {coeff}")
    return int(coeff)


def check_threshold(threshold) -> float:
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        raise TypeError(f"threshold must be a number, got {threshold!r}") from None
    if np.isnan(t):
        raise ValueError("threshold must not be NaN")
    if t < 0:
        raise ValueError(f"threshold must be >= 0, got {t}")
    return t


def check_n_threads(n_threads) -> int:
    if n_threads is None:
        return 0
    if isinstance(n_threads, bool) or not isinstance(n_threads, numbers.Integral):
        raise TypeError(f"n_threads must be an integer, got {n_threads!r}")
    if n_threads < -1:
        raise ValueError(f"n_threads must be -1 (all cores), 0 (all cores) or positive, got {n_threads}")
    return 0 if n_threads in (-1, 0) else int(n_threads)


def float_dtype(arr: np.ndarray, dtype=None) -> np.dtype:
    """float32 stays float32 (the engine then computes in float32); everything else is float64."""
    if dtype is not None:
        dt = np.dtype(dtype)
        if dt not in (np.float32, np.float64):
            raise TypeError(f"dtype must be float32 or float64, got {dt}")
        return dt
    if arr.dtype == np.float32:
        return np.dtype(np.float32)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"expected a numeric array, got dtype {arr.dtype}")
    return np.dtype(np.float64)


def check_finite(arr: np.ndarray, what: str) -> None:
    if arr.size and not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "infinite"
        raise ValueError(f"{what} contains {bad} values")


def available_memory() -> int:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 1 << 62


def check_memory(n_bytes: float, what: str) -> None:
    avail = available_memory()
    if n_bytes > avail:
        raise MemoryError(
            f"{what} needs about {n_bytes / 2**30:.1f} GiB but only {avail / 2**30:.1f} GiB is available; "
            "use a threshold with a sparse input, subsample (n_perm / farthest_point_sampling), "
            "or the approximate filtration"
        )
