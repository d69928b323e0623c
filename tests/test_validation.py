"""Bad input must raise a clear ValueError/TypeError (or MemoryError /
OverflowError for impossible sizes) quickly: never crash, hang or return
garbage. Every case runs through both `toposcope.rips` and the ripser.py
drop-in `toposcope.ripser`."""
from __future__ import annotations

import sys
import time
import tracemalloc
import warnings

import numpy as np
import pytest
from scipy import sparse

import toposcope as ts

POINTS = np.random.default_rng(0).normal(size=(12, 3))


def call_rips(X, distance_matrix=False, **kw):
    if "thresh" in kw:
        kw["threshold"] = kw.pop("thresh")
    return ts.rips(X, distance_matrix=distance_matrix, **kw)


def call_ripser(X, distance_matrix=False, **kw):
    if "threshold" in kw:
        kw["thresh"] = kw.pop("threshold")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # shape warnings are not what is tested here
        return ts.ripser(X, distance_matrix=distance_matrix, **kw)


ENTRY_POINTS = pytest.mark.parametrize("compute", [call_rips, call_ripser], ids=["rips", "ripser"])


def square(values):
    return np.array(values, dtype=np.float64)


BAD_INPUTS = {
    # name: (X, kwargs, exception, message pattern)
    "nan coordinate": (square([[0, 0], [np.nan, 1], [1, 1]]), {}, ValueError, "NaN"),
    "inf coordinate": (square([[0, 0], [np.inf, 1], [1, 1]]), {}, ValueError, "infinite"),
    "nan distance": (square([[0, np.nan], [np.nan, 0]]), {"distance_matrix": True}, ValueError, "NaN"),
    "inf distance": (square([[0, np.inf], [np.inf, 0]]), {"distance_matrix": True}, ValueError, "infinite"),
    "negative distance": (square([[0, -1], [-1, 0]]), {"distance_matrix": True}, ValueError, "negative"),
    "non-square matrix": (np.zeros((3, 4)), {"distance_matrix": True}, ValueError, "square"),
    "asymmetric matrix": (square([[0, 1, 2], [1, 0, 3], [2, 4, 0]]), {"distance_matrix": True}, ValueError,
                          "symmetric"),
    "nan in condensed": (square([1, np.nan, 2]), {"distance_matrix": True}, ValueError, "NaN"),
    "negative condensed": (square([1, -2, 2]), {"distance_matrix": True}, ValueError, "negative"),
    "bad condensed length": (np.ones(4), {"distance_matrix": True}, ValueError, r"n\*\(n-1\)/2"),
    "empty point cloud": (np.zeros((0, 2)), {}, ValueError, "empty"),
    "empty matrix": (np.zeros((0, 0)), {"distance_matrix": True}, ValueError, "empty"),
    "empty condensed": (np.zeros(0), {"distance_matrix": True}, ValueError, "two points"),
    "one point": (np.zeros((1, 3)), {}, ValueError, "two points"),
    "one-by-one matrix": (np.zeros((1, 1)), {"distance_matrix": True}, ValueError, "two points"),
    "zero features": (np.zeros((4, 0)), {}, ValueError, "zero coordinates"),
    "maxdim negative": (POINTS, {"maxdim": -1}, ValueError, "maxdim"),
    "maxdim float": (POINTS, {"maxdim": 1.5}, TypeError, "maxdim"),
    "maxdim string": (POINTS, {"maxdim": "1"}, TypeError, "maxdim"),
    "maxdim bool": (POINTS, {"maxdim": True}, TypeError, "maxdim"),
    "maxdim none": (POINTS, {"maxdim": None}, TypeError, "maxdim"),
    "coeff not prime": (POINTS, {"coeff": 4}, ValueError, "prime"),
    "coeff one": (POINTS, {"coeff": 1}, ValueError, "prime"),
    "coeff zero": (POINTS, {"coeff": 0}, ValueError, "prime"),
    "coeff negative": (POINTS, {"coeff": -3}, ValueError, "prime"),
    "coeff too large": (POINTS, {"coeff": 65537}, ValueError, "prime below"),
    "coeff float": (POINTS, {"coeff": 2.0}, TypeError, "coeff"),
    "unknown metric": (POINTS, {"metric": "no-such-metric"}, ValueError, "metric"),
    "3-d array": (np.zeros((3, 3, 3)), {}, ValueError, "2-D"),
    "1-d points": (np.zeros(5), {}, ValueError, "2-D"),
    "string array": (np.array([["a", "b"], ["c", "d"], ["e", "f"]]), {}, TypeError, "numeric"),
    "complex array": (np.ones((3, 2)) * 1j, {}, TypeError, "numeric"),
    "object array": (np.array([[object(), 1], [2, 3]], dtype=object), {}, TypeError, "numeric"),
    "threshold nan": (POINTS, {"threshold": np.nan}, ValueError, "NaN"),
    "threshold negative": (POINTS, {"threshold": -1.0}, ValueError, "threshold"),
    "threshold string": (POINTS, {"threshold": "big"}, TypeError, "threshold"),
}


# Known defects, (entry point, case) -> reason; strict xfail so a fix is noticed.
KNOWN_DEFECTS: dict = {}


@ENTRY_POINTS
@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_raises_clear_error(compute, case, request):
    reason = KNOWN_DEFECTS.get((compute.__name__, case))
    if reason:
        request.applymarker(pytest.mark.xfail(strict=True, reason=reason))
    X, kw, exc, pattern = BAD_INPUTS[case]
    with pytest.raises(exc, match=pattern):
        compute(X, **kw)


def coo(values, rows, cols, n=3):
    return sparse.coo_matrix((np.asarray(values, dtype=np.float64), (rows, cols)), shape=(n, n))


BAD_SPARSE = {
    "nan edge": (coo([np.nan], [0], [1]), ValueError, "NaN"),
    "inf edge": (coo([np.inf], [0], [1]), ValueError, "infinite"),
    "negative edge": (coo([-1.0], [0], [1]), ValueError, "negative"),
    "asymmetric edge": (coo([1.0, 2.0], [0, 1], [1, 0]), ValueError, "symmetric"),
    "non-square": (sparse.coo_matrix(([1.0], ([0], [1])), shape=(3, 4)), ValueError, "square"),
    "empty": (sparse.coo_matrix((0, 0)), ValueError, "empty"),
    "one vertex": (sparse.coo_matrix((1, 1)), ValueError, "two points"),
}


@ENTRY_POINTS
@pytest.mark.parametrize("case", list(BAD_SPARSE))
def test_bad_sparse_input_raises_clear_error(compute, case):
    S, exc, pattern = BAD_SPARSE[case]
    with pytest.raises(exc, match=pattern):
        compute(S, distance_matrix=True)


@ENTRY_POINTS
def test_simplex_index_overflow_is_refused_up_front(compute):
    """3 million vertices with maxdim=5 need binomial(3e6, 7) simplex indices:
    far beyond 64 bits. It must fail at once, not wrap around."""
    n = 3_000_000
    S = coo([1.0], [0], [1], n=n)
    start = time.perf_counter()
    with pytest.raises(OverflowError):
        compute(S, distance_matrix=True, maxdim=5)
    assert time.perf_counter() - start < 20


@ENTRY_POINTS
def test_huge_point_cloud_raises_memory_error_before_allocating(compute):
    """Two million points would need a ~15 TiB distance matrix. The input
    itself is a zero-copy broadcast view, so any real allocation shows."""
    X = np.broadcast_to(np.zeros(3), (2_000_000, 3))
    tracemalloc.start()
    try:
        with pytest.raises(MemoryError, match="GiB"):
            compute(X)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, f"allocated {peak / 2**20:.0f} MiB before refusing"


# --------------------------------------------------------------------------- drop-in specific
def test_ripser_n_perm_errors_follow_ripserpy():
    with pytest.raises(ValueError, match="greater"):
        ts.ripser(POINTS, n_perm=len(POINTS) + 1)
    with pytest.raises(ValueError, match="strictly positive"):
        ts.ripser(POINTS, n_perm=-2)
    with pytest.raises(TypeError, match="n_perm"):
        ts.ripser(POINTS, n_perm=2.5)
    with pytest.raises(ValueError, match="sparse"):
        ts.ripser(coo([1.0], [0], [1]), distance_matrix=True, n_perm=2)


def test_ripser_rejects_none_and_scalars():
    for bad in (None, 3.0):
        with pytest.raises(TypeError):
            ts.ripser(bad)


def test_lower_star_img_rejects_bad_images():
    with pytest.raises(ValueError, match="2-D"):
        ts.lower_star_img(np.zeros(5))
    with pytest.raises(ValueError, match="NaN"):
        ts.lower_star_img(square([[0, np.nan], [1, 2]]))
    with pytest.raises(ValueError, match="two pixels"):
        ts.lower_star_img(np.zeros((1, 1)))
    with pytest.raises(TypeError, match="numeric"):
        ts.lower_star_img(np.array([["a", "b"]]))


def test_correlation_to_distance_validation_matches_ripserpy():
    ripserpy = pytest.importorskip("ripser")
    bad = {
        "not 2-D": (np.ones(3), "2D"),
        "not square": (np.ones((2, 3)), "square"),
        "asymmetric": (square([[1, 0.5], [0.1, 1]]), "symmetric"),
        "out of bounds": (square([[1, 1.2], [1.2, 1]]), "bounds"),
    }
    for name, (C, pattern) in bad.items():
        for f in (ts.correlation_to_distance, ripserpy.correlation_to_distance):
            with pytest.raises(ValueError, match=pattern):
                f(C)
    with pytest.raises(ValueError, match="NaN"):
        ts.correlation_to_distance(square([[1, np.nan], [np.nan, 1]]))
    # Slightly out of bounds or an odd diagonal: RuntimeWarning, as ripser.py.
    for C in (square([[1, 1.01], [1.01, 1]]), square([[0.9, 0.5], [0.5, 1]])):
        with pytest.warns(RuntimeWarning):
            ours = ts.correlation_to_distance(C)
        with pytest.warns(RuntimeWarning):
            theirs = ripserpy.correlation_to_distance(C)
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.skipif(sys.platform == "win32", reason="no SIGINT to send to a child process on Windows")
def test_ctrl_c_interrupts_a_long_reduction():
    """SIGINT during the reduction of long columns (a torus's long H1 classes
    over Z/3, which the cohomology engine reduces: ~8 s to finish; over Z/2
    the forward sweep takes under a second) raises KeyboardInterrupt within a
    second or two and leaves the interpreter usable. The signal comes from
    outside, as a terminal's Ctrl-C does (a timer thread inside the process
    needs the GIL to send it, which the engine's brief interrupt checks can
    keep from it on a loaded machine)."""
    import signal
    import subprocess

    script = """
import time
import numpy as np
import toposcope as ts
rng = np.random.default_rng(0)
u, v = rng.uniform(0, 2 * np.pi, size=(2, 3000))
X = np.stack([(2 + np.cos(v)) * np.cos(u), (2 + np.cos(v)) * np.sin(u), np.sin(v)], axis=1)
print("start", flush=True)
t = time.time()
try:
    ts.rips(X, maxdim=1, coeff=3)
    print("finished", time.time() - t, flush=True)
except KeyboardInterrupt:
    print("interrupted", time.time() - t, flush=True)
print("usable", len(ts.rips(X[:50], maxdim=1).dgms), flush=True)
"""
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        assert child.stdout.readline().strip() == "start"
        time.sleep(1.5)
        child.send_signal(signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        child.kill()
    assert child.returncode == 0, err
    first, second = out.split("\n")[:2]
    assert first.startswith("interrupted"), out
    assert float(first.split()[1]) < 6.0, out
    assert second == "usable 2"


def test_square_matrix_checks_reach_every_band_of_rows():
    """The symmetry and sign checks of a square matrix go a band of 512 rows
    at a time (no n x n temporaries): a fault far from the first band is
    found, last-bit asymmetry is repaired, and negative births are allowed."""
    rng = np.random.default_rng(5)
    X = rng.normal(size=(1100, 3))
    D = np.sqrt(((X[:, None, :] - X[None, :, :]) ** 2).sum(-1))
    D = (D + D.T) / 2
    reference = ts.rips(D, distance_matrix=True).dgms

    nudged = D.copy()
    nudged[1050, 7] = np.nextafter(nudged[1050, 7], np.inf)   # rounding, not a different matrix
    for ours, theirs in zip(ts.rips(nudged, distance_matrix=True).dgms, reference):
        np.testing.assert_array_equal(ours, theirs)

    wrong = D.copy()
    wrong[1050, 7] += 0.5
    with pytest.raises(ValueError, match="symmetric"):
        ts.rips(wrong, distance_matrix=True)

    negative = D.copy()
    negative[1099, 600] = negative[600, 1099] = -1.0
    with pytest.raises(ValueError, match="negative"):
        ts.rips(negative, distance_matrix=True)

    births = D.copy()
    np.fill_diagonal(births, -0.25)   # lower-star values below zero are vertex births, not errors
    assert ts.rips(births, distance_matrix=True).dgms[0].min() == -0.25
