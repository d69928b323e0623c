"""`toposcope diagram FILE`: persistence of a point cloud or distance matrix
stored in a file, printed like the ripser command-line tool or written as
JSON / npz."""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from typing import Optional, Tuple

import numpy as np

from ._common import CLIError, HelpFormatter, UsageError, common_options, existing_file, topology_options

FORMATS = ("auto", "point-cloud", "distance", "lower-distance", "upper-distance", "condensed", "sparse")

DESCRIPTION = """\
Compute the Vietoris-Rips persistence of the data in FILE and print its bars
the way the ripser command-line tool does, or write them as JSON or npz.

File formats (--format):
  auto            .npy / .npz arrays and .csv / .txt / .dat text: a square,
                  symmetric, zero-diagonal matrix is read as distances, any
                  other 2-D table as points (one per row); ragged text whose
                  rows have 0,1,2,... (or 1,2,3,...) entries as lower-distance
  point-cloud     one point per row
  distance        a full square distance matrix
  lower-distance  ripser's default: the strictly lower triangle, row by row
                  (any separators; line breaks are not needed)
  upper-distance  the strictly upper triangle, row by row
  condensed       scipy's pdist vector (upper triangle, row by row)
  sparse          lines "i j d": an edge between points i and j at distance d

JSON output writes an essential (never dying) bar's death as null.
"""

EXAMPLES = """\
examples:
  toposcope diagram sphere.txt --maxdim 2
  toposcope diagram dists.lower --format lower-distance --threshold 1.4
  toposcope diagram points.npy --metric cosine --json bars.json --npz bars.npz
"""

_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:inf|nan)", re.IGNORECASE)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "diagram", parents=[common_options()], formatter_class=HelpFormatter,
        help="persistence diagram of a point cloud or distance-matrix file",
        description=DESCRIPTION, epilog=EXAMPLES)
    p.add_argument("file", help="input file (.npy, .npz, .csv, .txt, .dat, ripser's text formats)")
    p.add_argument("--format", choices=FORMATS, default="auto", help="how to read FILE (default auto)")
    p.add_argument("--key", default=None, help="array name inside an .npz file (default: its first array)")
    topology_options(p)
    p.add_argument("--threads", type=int, default=None, metavar="N", help="threads (default: all cores)")
    p.add_argument("--collapse", choices=("auto", "on", "off"), default="auto",
                   help="edge collapse before computing: auto (the engine decides: from H2 up), on, off; "
                        "the diagrams are the same, only the time differs (and --npz then has no simplices)")
    p.add_argument("--json", metavar="PATH", default=None,
                   help="write the diagrams as JSON to PATH ('-' for stdout instead of the bars)")
    p.add_argument("--npz", metavar="PATH", default=None,
                   help="write dgm_0, dgm_1, ... (and the critical simplices) to an npz file")
    p.set_defaults(func=run_diagram)


# --------------------------------------------------------------------------- reading

def _read_numbers(path: str) -> Tuple[list, list]:
    """All numbers of a text file, and how many each non-comment line held."""
    rows = []
    with open(path, "r", encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.split("#", 1)[0]
            rows.append([float(t) for t in _NUMBER.findall(line)])
    # Trailing blank lines carry no structure.
    while rows and not rows[-1]:
        rows.pop()
    return [v for r in rows for v in r], [len(r) for r in rows]


def _triangular_size(m: int) -> int:
    n = int(round((1 + math.sqrt(1 + 8 * m)) / 2))
    if n * (n - 1) // 2 != m:
        raise CLIError(f"{m} distances do not fill a triangle (need n*(n-1)/2 entries for n points)")
    return n


def _square_from_lower(values: np.ndarray) -> np.ndarray:
    n = _triangular_size(values.size)
    D = np.zeros((n, n))
    D[np.tril_indices(n, -1)] = values  # row-major order of the strict lower triangle
    return D + D.T


def _square_from_upper(values: np.ndarray) -> np.ndarray:
    n = _triangular_size(values.size)
    D = np.zeros((n, n))
    D[np.triu_indices(n, 1)] = values
    return D + D.T


def _looks_like_distances(A: np.ndarray) -> bool:
    return (A.ndim == 2 and A.shape[0] == A.shape[1] and A.shape[0] > 1
            and np.all(np.diagonal(A) == 0) and np.allclose(A, A.T) and bool(np.all(A >= 0)))


def _looks_lower_triangular(counts: list) -> bool:
    counts = [c for c in counts]
    if counts and counts[0] == 0:
        counts = counts[1:]
    return len(counts) >= 2 and counts == list(range(1, len(counts) + 1))


def load_input(path: str, fmt: str = "auto", key: Optional[str] = None):
    """Read FILE into (data, kind) with kind one of 'points', 'distance', 'sparse'."""
    from scipy import sparse

    existing_file(path, "input file")
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext in (".npy", ".npz"):
            if ext == ".npy":
                A = np.load(path, allow_pickle=False)
            else:
                with np.load(path, allow_pickle=False) as z:
                    names = list(z.keys())
                    if not names:
                        raise CLIError(f"{path} holds no arrays")
                    if key is not None and key not in names:
                        raise UsageError(f"--key {key!r} is not in {path}; it has {', '.join(names)}")
                    A = z[key or names[0]]
            A = np.asarray(A, dtype=np.float64)
            counts = None
            flat = A.ravel()
        else:
            flat_list, counts = _read_numbers(path)
            flat = np.asarray(flat_list, dtype=np.float64)
            A = None
            if counts and len(set(c for c in counts if c)) == 1 and 0 not in counts:
                A = flat.reshape(len(counts), counts[0])
    except (OSError, ValueError) as exc:
        raise CLIError(f"cannot read {path}: {exc}") from None
    if flat.size == 0:
        raise CLIError(f"{path} holds no numbers")

    if fmt == "auto":
        if A is None:
            if counts is not None and _looks_lower_triangular(counts):
                fmt = "lower-distance"
            else:
                raise CLIError(f"{path}: rows have different lengths; pass --format "
                               "(lower-distance, upper-distance or sparse)")
        elif A.ndim == 1:
            raise CLIError(f"{path} holds a 1-D array; pass --format condensed (a pdist vector) "
                           "or point-cloud (points on a line)")
        elif _looks_like_distances(A):
            fmt = "distance"
        else:
            fmt = "point-cloud"

    if fmt == "point-cloud":
        if A is None:
            raise CLIError(f"{path}: rows have different lengths, so it is not a point cloud")
        return (A.reshape(-1, 1) if A.ndim == 1 else A.reshape(A.shape[0], -1)), "points"
    if fmt == "distance":
        if A is None or A.ndim != 2 or A.shape[0] != A.shape[1]:
            raise CLIError(f"{path} is not a square matrix, so it is not a full distance matrix")
        return A, "distance"
    if fmt == "lower-distance":
        return _square_from_lower(flat), "distance"
    if fmt == "upper-distance":
        return _square_from_upper(flat), "distance"
    if fmt == "condensed":
        _triangular_size(flat.size)
        return flat, "distance"
    if fmt == "sparse":
        if flat.size % 3:
            raise CLIError(f"{path}: a sparse file needs lines 'i j d'; found {flat.size} numbers")
        triples = flat.reshape(-1, 3)
        i, j = triples[:, 0], triples[:, 1]
        if np.any(i != np.round(i)) or np.any(j != np.round(j)) or np.any(triples[:, :2] < 0):
            raise CLIError(f"{path}: the first two columns of a sparse file must be point indices")
        n = int(max(i.max(), j.max())) + 1
        return sparse.coo_matrix((triples[:, 2], (i.astype(int), j.astype(int))), shape=(n, n)), "sparse"
    raise UsageError(f"unknown --format {fmt!r}")


# --------------------------------------------------------------------------- writing

def format_bars(result, kind: str, value_range: Optional[Tuple[float, float]]) -> str:
    """Text in the layout of the ripser command-line tool."""
    lines = []
    if kind == "sparse":
        lines.append(f"sparse distance matrix with {result.n_points} points and {result.num_edges} entries")
    else:
        lines.append(f"distance matrix with {result.n_points} points, using threshold {result.threshold:g}")
    if value_range is not None:
        lines.append(f"value range: [{value_range[0]:g},{value_range[1]:g}]")
    for dim, dgm in enumerate(result.dgms):
        lines.append(f"persistence intervals in dim {dim}:")
        for birth, death in dgm:
            lines.append(f" [{birth:g}, )" if math.isinf(death) else f" [{birth:g},{death:g})")
    return "\n".join(lines)


def diagrams_to_json(result, extra: dict) -> dict:
    return dict(extra, n_points=result.n_points, threshold=result.threshold, coeff=result.coeff,
                maxdim=result.maxdim, num_edges=result.num_edges,
                dgms=[[[float(b), None if math.isinf(d) else float(d)] for b, d in dgm]
                      for dgm in result.dgms])


def save_npz(path: str, result) -> None:
    arrays = {}
    for dim, dgm in enumerate(result.dgms):
        arrays[f"dgm_{dim}"] = dgm
        if result.birth_simplices is not None:  # None after an edge collapse
            arrays[f"birth_simplices_{dim}"] = result.birth_simplices[dim]
            arrays[f"death_simplices_{dim}"] = result.death_simplices[dim]
    np.savez_compressed(path, threshold=result.threshold, coeff=result.coeff,
                        n_points=result.n_points, **arrays)


def _value_range(data, kind: str):
    """Smallest and largest finite distance, as ripser prints them."""
    if kind == "sparse":
        vals = data.data
    elif kind == "distance":
        vals = data if data.ndim == 1 else data[np.triu_indices(data.shape[0], 1)]
    else:
        return None  # pairwise distances of a point cloud are not formed here
    vals = vals[np.isfinite(vals)]
    return (float(vals.min()), float(vals.max())) if vals.size else None


def run_diagram(args: argparse.Namespace) -> int:
    import toposcope as ts

    data, kind = load_input(args.file, args.format, args.key)
    options = dict(maxdim=1 if args.maxdim is None else args.maxdim,
                   threshold=np.inf if args.threshold is None else args.threshold,
                   coeff=2 if args.coeff is None else args.coeff,
                   n_threads=args.threads, collapse={"auto": None, "on": True, "off": False}[args.collapse])
    metric = args.metric or "euclidean"
    if kind != "points" and args.metric not in (None, "precomputed"):
        raise UsageError(f"--metric {args.metric} applies to point clouds; {args.file} was read as distances")
    start = time.perf_counter()
    try:
        if kind == "points":
            result = ts.rips(data, metric=metric, **options)
        else:
            result = ts.rips(data, distance_matrix=True, **options)
    except (ValueError, TypeError) as exc:
        raise CLIError(f"{args.file}: {exc}") from None
    seconds = time.perf_counter() - start

    if args.json != "-":
        print(format_bars(result, kind, _value_range(data, kind)))
    if args.json:
        payload = diagrams_to_json(result, {"input": os.path.abspath(args.file), "kind": kind,
                                            "metric": metric if kind == "points" else "precomputed",
                                            "seconds": round(seconds, 6)})
        text = json.dumps(payload, indent=1)
        if args.json == "-":
            print(text)
        else:
            with open(args.json, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
    if args.npz:
        save_npz(args.npz, result)
    if not args.quiet:
        print(f"computed in {seconds:.3f} s ({result.num_edges} edges)", file=sys.stderr)
    return 0
