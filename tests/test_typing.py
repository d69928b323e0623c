"""The compiled core's stubs stay true to the module, and the public API type-checks.

Two kinds of check:
* ``_core.pyi`` against the live extension: the same public names, and for
  every function the same overloads with the same parameter names (read from
  the signatures pybind11 writes into each docstring). Needs no mypy.
* mypy on small user snippets (skipped when mypy is not installed): correct use
  of ``toposcope.rips`` passes, a wrong argument type is reported, and the
  result's attributes have real types rather than ``Any``. Run against whatever
  ``toposcope`` is imported, so in the wheel check it covers the installed
  wheel's ``py.typed`` and ``.pyi`` files.
"""
from __future__ import annotations

import ast
import importlib.util
import os
import re
import sys
import textwrap
from pathlib import Path

import pytest

import toposcope
from toposcope import _core

PACKAGE_DIR = Path(toposcope.__file__).resolve().parent
STUB_PATH = PACKAGE_DIR / "_core.pyi"


# --------------------------------------------------------------------------
# Stub against module
# --------------------------------------------------------------------------


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not nested inside brackets or parentheses."""
    parts, depth, current = [], 0, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def _runtime_signatures(name: str, func) -> set[tuple[str, ...]]:
    """Parameter-name tuples of every overload, from pybind11's docstring."""
    doc = func.__doc__ or ""
    pattern = re.compile(rf"^(?:\d+\.\s+)?{re.escape(name)}\((.*)\)\s*->", re.MULTILINE)
    signatures = set()
    for match in pattern.finditer(doc):
        if match.group(1).strip() in ("*args, **kwargs",):
            continue  # the header line pybind11 writes above the overload list
        params = [p.split(":")[0].split("=")[0].strip() for p in _split_top_level(match.group(1))]
        signatures.add(tuple(p for p in params if p))
    return signatures


def _stub_signatures() -> dict[str, set[tuple[str, ...]]]:
    tree = ast.parse(STUB_PATH.read_text(encoding="utf-8"))
    found: dict[str, set[tuple[str, ...]]] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            args = node.args
            names = tuple(a.arg for a in args.posonlyargs + args.args + args.kwonlyargs)
            found.setdefault(node.name, set()).add(names)
    return found


def _stub_public_names() -> set[str]:
    tree = ast.parse(STUB_PATH.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return {n for n in names if not n.startswith("_")}


def test_stub_and_marker_ship_with_the_package():
    assert STUB_PATH.is_file(), f"missing {STUB_PATH}"
    assert (PACKAGE_DIR / "py.typed").is_file(), "missing py.typed marker"


def test_stub_names_match_module():
    runtime = {n for n in dir(_core) if not n.startswith("_")}
    stub = _stub_public_names()
    assert runtime - stub == set(), f"in _core but not in _core.pyi: {sorted(runtime - stub)}"
    assert stub - runtime == set(), f"in _core.pyi but not in _core: {sorted(stub - runtime)}"


@pytest.mark.parametrize("name", sorted(n for n in dir(_core) if not n.startswith("_") and callable(getattr(_core, n))))
def test_stub_parameters_match_module(name):
    func = getattr(_core, name)
    runtime = _runtime_signatures(name, func)
    if not runtime:
        pytest.skip(f"_core.{name} carries no pybind11 signature to compare with")
    stub = _stub_signatures().get(name)
    assert stub is not None, f"_core.{name} is missing from _core.pyi"
    # Overloads that differ only in types collapse to one name tuple on both sides.
    assert stub == runtime, f"_core.{name}: stub parameters {stub} != module parameters {runtime}"


# --------------------------------------------------------------------------
# mypy on snippets that use the public API
# --------------------------------------------------------------------------

GOOD_SNIPPET = """
import numpy as np
import numpy.typing as npt
import toposcope as ts

X: npt.NDArray[np.float64] = np.random.default_rng(0).normal(size=(20, 2))
r = ts.rips(X, maxdim=1, threshold=2.0, coeff=3, n_threads=1)
h1: np.ndarray = r.dgms[1]
edges: int = r.num_edges
betti: list[int] = r.betti(0.5)
top: int = r.maxdim
r32 = ts.rips(X.astype(np.float32), dtype=np.float32, cocycles=True)
"""

BAD_SNIPPET = """
import numpy as np
import toposcope as ts

r = ts.rips(np.zeros((5, 2)), maxdim="1")
"""

REVEAL_SNIPPET = """
import numpy as np
import toposcope as ts

r = ts.rips(np.zeros((5, 2)))
reveal_type(r)
reveal_type(r.num_edges)
"""


@pytest.fixture(scope="module")
def mypy_report(tmp_path_factory) -> dict[str, list[str]]:
    """One mypy run over the three snippets; its output lines, per snippet."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install mypy)")
    from mypy import api

    folder = tmp_path_factory.mktemp("typing_snippets")
    snippets = {"good": GOOD_SNIPPET, "bad": BAD_SNIPPET, "reveal": REVEAL_SNIPPET}
    for name, source in snippets.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    args = [str(folder / f"{name}.py") for name in snippets] + [
        "--follow-imports=silent",  # judge the snippets, not the package's internals
        "--no-incremental",
        "--cache-dir=" + os.devnull,
        "--config-file=",  # ignore the repository's [tool.mypy]: a user has none
        "--python-executable=" + sys.executable,
        "--show-error-codes",
        "--no-error-summary",
    ]
    site_dirs = {p for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    old = os.environ.get("MYPYPATH")
    if str(PACKAGE_DIR.parent) not in site_dirs:
        # A source or editable install: point mypy at the package's own folder.
        os.environ["MYPYPATH"] = str(PACKAGE_DIR.parent)
    try:
        stdout, stderr, _ = api.run(args)
    finally:
        if old is None:
            os.environ.pop("MYPYPATH", None)
        else:
            os.environ["MYPYPATH"] = old
    lines = (stdout + stderr).splitlines()
    report = {name: [line for line in lines if f"{name}.py:" in line] for name in snippets}
    report["all"] = lines
    return report


def test_public_api_usage_typechecks(mypy_report):
    errors = [line for line in mypy_report["good"] if ": error:" in line]
    assert errors == [], "\n".join(mypy_report["all"])


def test_wrong_argument_type_is_reported(mypy_report):
    errors = [line for line in mypy_report["bad"] if ": error:" in line]
    assert len(errors) == 1, "\n".join(mypy_report["all"])
    assert "maxdim" in errors[0] or "arg-type" in errors[0], errors[0]


def test_results_are_typed_not_any(mypy_report):
    out = "\n".join(mypy_report["reveal"])
    assert re.search(r'Revealed type is "toposcope\.[\w.]*RipsResult"', out), "\n".join(mypy_report["all"])
    assert re.search(r'Revealed type is "(builtins\.)?int"', out), "\n".join(mypy_report["all"])
