"""Shared helpers for comparing persistence diagrams."""
from __future__ import annotations

import numpy as np


def split_diagram(dgm, min_length: float = 0.0):
    """(sorted finite pairs longer than ``min_length``, sorted births of essential bars)."""
    dgm = np.asarray(dgm, dtype=np.float64).reshape(-1, 2)
    essential = np.isinf(dgm[:, 1])
    finite = dgm[~essential]
    finite = finite[finite[:, 1] - finite[:, 0] > min_length]
    # Sort on values rounded to ~1e-10 relative: two engines may differ in the last
    # bit of a tied birth, which must not swap the rows being compared.
    key = np.round(finite, 10 - np.floor(np.log10(np.abs(finite).max() + 1.0)).astype(int)) if len(finite) else finite
    order = np.lexsort((key[:, 1], key[:, 0])) if len(finite) else np.zeros(0, dtype=int)
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


def bottleneck_at_most(a, b, tol: float) -> bool:
    """Whether the bottleneck distance between the finite parts of two
    diagrams is at most ``tol``: a perfect matching exists between the points
    of each plus diagonal copies of the other's, along pairs within ``tol``
    in the sup norm (a point may go to the diagonal if half its length is
    within ``tol``). Exact, and independent of gudhi's bottleneck code, which
    returns wrong values on diagrams with several tiny bars (gudhi 3.13)."""
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import maximum_bipartite_matching

    fa, _ = split_diagram(a)
    fb, _ = split_diagram(b)
    na, nb = len(fa), len(fb)
    if na + nb == 0:
        return True
    # Left: A's points, then diagonal copies of B's. Right: B's points, then diagonal copies of A's.
    allowed = np.zeros((na + nb, nb + na), dtype=bool)
    allowed[:na, :nb] = np.max(np.abs(fa[:, None, :] - fb[None, :, :]), axis=2) <= tol
    allowed[np.arange(na), nb + np.arange(na)] = (fa[:, 1] - fa[:, 0]) / 2 <= tol
    allowed[na + np.arange(nb), np.arange(nb)] = (fb[:, 1] - fb[:, 0]) / 2 <= tol
    allowed[na:, nb:] = True
    matching = maximum_bipartite_matching(csr_matrix(allowed), perm_type="column")
    return bool(np.all(matching >= 0))


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
        assert bottleneck_at_most(a, b, tol), f"{context} H{dim}: bottleneck distance > {tol}\n{a}\n{b}"
