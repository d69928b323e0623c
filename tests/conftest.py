"""Shared helpers for comparing persistence diagrams."""
from __future__ import annotations

import numpy as np


def split_diagram(dgm, min_length: float = 0.0):
    """(sorted finite pairs longer than ``min_length``, sorted births of essential bars)."""
    dgm = np.asarray(dgm, dtype=np.float64).reshape(-1, 2)
    essential = np.isinf(dgm[:, 1])
    finite = dgm[~essential]
    finite = finite[finite[:, 1] - finite[:, 0] > min_length]
    order = np.lexsort((finite[:, 1], finite[:, 0]))
    return finite[order], np.sort(dgm[essential, 0])


def assert_diagrams_close(ours, theirs, rtol: float = 1e-9, atol: float = 1e-12, context: str = ""):
    """Equal diagrams, dimension by dimension: same essential bars, same finite
    pairs (zero-length bars dropped on both sides) up to ``rtol``/``atol``."""
    assert len(ours) == len(theirs), f"{context}: {len(ours)} vs {len(theirs)} dimensions"
    for dim, (a, b) in enumerate(zip(ours, theirs)):
        fa, ea = split_diagram(a)
        fb, eb = split_diagram(b)
        where = f"{context} H{dim}"
        assert len(ea) == len(eb), f"{where}: {len(ea)} vs {len(eb)} essential bars"
        np.testing.assert_allclose(ea, eb, rtol=rtol, atol=atol, err_msg=f"{where}: essential births")
        assert fa.shape == fb.shape, f"{where}: {len(fa)} vs {len(fb)} finite bars\n{fa}\n{fb}"
        np.testing.assert_allclose(fa, fb, rtol=rtol, atol=atol, err_msg=f"{where}: finite pairs")


def bottleneck(a, b) -> float:
    """Exact bottleneck distance between the finite parts of two diagrams."""
    import gudhi

    fa, _ = split_diagram(a)
    fb, _ = split_diagram(b)
    return gudhi.bottleneck_distance(fa, fb, 0.0)


def assert_diagrams_match_float32(ours, theirs, scale: float, rtol: float = 1e-5, context: str = ""):
    """Diagrams equal up to float32 rounding: same essential bars, and finite
    parts within ``rtol * scale`` in bottleneck distance (so bars shorter than
    float32 resolution may appear on one side only)."""
    assert len(ours) == len(theirs), f"{context}: {len(ours)} vs {len(theirs)} dimensions"
    tol = rtol * scale + 1e-30
    for dim, (a, b) in enumerate(zip(ours, theirs)):
        _, ea = split_diagram(a)
        _, eb = split_diagram(b)
        assert len(ea) == len(eb), f"{context} H{dim}: {len(ea)} vs {len(eb)} essential bars"
        np.testing.assert_allclose(ea, eb, rtol=0, atol=tol, err_msg=f"{context} H{dim}: essential births")
        d = bottleneck(a, b)
        assert d <= tol, f"{context} H{dim}: bottleneck distance {d} > {tol}"
