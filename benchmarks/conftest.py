"""pytest options for the benchmark files (collected only with ``pytest benchmarks/``)."""

from benchmarks.cases import SIZE_CLASSES


def pytest_addoption(parser):
    group = parser.getgroup("toposcope benchmarks")
    group.addoption("--bench-sizes", default="small",
                    help=f"comma-separated size classes to run, of {','.join(SIZE_CLASSES)} "
                         "(default: small; medium and large are opt-in)")
    group.addoption("--bench-cases", default="",
                    help="comma-separated case names (any size); overrides --bench-sizes")
    group.addoption("--bench-engines", default="",
                    help="comma-separated engine names (default: the default engine list)")
    group.addoption("--bench-rounds", type=int, default=0,
                    help="timed rounds per benchmark (default: 3 for small cases, 1 otherwise)")
