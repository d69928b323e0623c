"""pytest-benchmark: one benchmark per (case, engine), grouped by case.

Each benchmark also asserts that the engine's diagrams equal toposcope's
(float32 engines at float32 tolerance), and toposcope's own benchmark checks
it against a float64 peer. Not part of the default ``pytest`` run
(``testpaths = ["tests"]``); run it with, e.g.::

    pytest benchmarks/ --benchmark-only
    pytest benchmarks/ --bench-sizes=small,medium --benchmark-autosave
    pytest benchmarks/ --bench-cases=o3_4096 --bench-engines=toposcope,gudhi

For per-engine peak memory and a one-page comparison use ``benchmarks/table.py``.
"""

from functools import lru_cache

import pytest

from benchmarks import cases as case_catalogue
from benchmarks import peers
from benchmarks.compare import compare

# Float64 peers that can vouch for toposcope's own diagrams, most trusted first.
TOPOSCOPE_CHECKERS = ("gudhi", "holos-tda", "redzed-tda", "ripser.py")


def _split(option):
    return [item for item in option.split(",") if item]


def pytest_generate_tests(metafunc):
    if "case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    selected = case_catalogue.select(_split(config.getoption("--bench-cases")),
                                     _split(config.getoption("--bench-sizes")))
    engines = peers.select(_split(config.getoption("--bench-engines")) or None)
    params = [pytest.param(case, engine, id=f"{case.name}-{engine.name}",
                           marks=pytest.mark.benchmark(group=case.name))
              for case in selected for engine in engines]
    metafunc.parametrize(("case", "engine"), params)


@lru_cache(maxsize=2)
def _diagrams(case_name, engine_name):
    """Untimed diagrams of one engine on one case, for the equality checks."""
    case, engine = case_catalogue.CASES_BY_NAME[case_name], peers.ENGINES_BY_NAME[engine_name]
    return engine.compute(engine.prepare(case.points()), case)


def _skip_unless_runnable(case, engine):
    if not engine.available():
        pytest.skip(f"{engine.name} is not installed")
    why = engine.infeasible(case, case.points().shape[0])
    if why:
        pytest.skip(f"{engine.name}: {why}")


def _rounds(request, case):
    return request.config.getoption("--bench-rounds") or (3 if case.size == "small" else 1)


def test_rips(benchmark, request, case, engine):
    _skip_unless_runnable(case, engine)
    X = engine.prepare(case.points())
    diagrams = benchmark.pedantic(engine.compute, args=(X, case),
                                  rounds=_rounds(request, case), iterations=1, warmup_rounds=0)
    assert len(diagrams) == case.maxdim + 1

    if engine.name != peers.REFERENCE:
        reference = peers.ENGINES_BY_NAME[peers.REFERENCE]
        _skip_unless_runnable(case, reference)
        outcome = compare(diagrams, _diagrams(case.name, reference.name), engine.precision)
        assert outcome.equal, f"{engine.name} differs from toposcope: {outcome.detail}"
        return

    for name in TOPOSCOPE_CHECKERS:
        checker = peers.ENGINES_BY_NAME[name]
        if checker.available() and checker.infeasible(case, case.points().shape[0]) is None:
            outcome = compare(diagrams, _diagrams(case.name, name), checker.precision)
            assert outcome.equal, f"toposcope differs from {name}: {outcome.detail}"
            return
    pytest.skip("no installed peer can check toposcope on this case")
