#!/usr/bin/env bash
# The engine's speed over time, with pytest-benchmark: store a baseline run,
# then compare later runs with it and fail when a case got slower than allowed.
#
#   bash scripts/bench_history.sh save [NAME]     # run and store as NAME (default: baseline)
#   bash scripts/bench_history.sh compare [NAME]  # run, autosave, compare with the latest NAME;
#                                                 # exit 1 when a case regressed past BENCH_FAIL
#   bash scripts/bench_history.sh list            # stored runs of this machine
# Anything after NAME is passed to pytest, e.g.
#   bash scripts/bench_history.sh compare baseline --bench-sizes=small,medium
#
# Environment:
#   BENCH_FAIL     regression rule(s) for --benchmark-compare-fail, space-separated
#                  (default "min:25%": a case fails when its best time grows by more
#                  than 25 %, i.e. by a factor above 1.25; "mean:25%" also catches
#                  slower rounds but fails spuriously on a busy machine)
#   BENCH_ARGS     pytest options selecting the runs (default "--bench-engines=toposcope":
#                  the history tracks our engine, not the peers)
#   BENCH_PATHS    what pytest collects (default "benchmarks/")
#   BENCH_STORAGE  where runs are stored (default ".benchmarks", git-ignored: timings
#                  belong to one machine, so every machine keeps its own baseline)
set -euo pipefail
cd "$(dirname "$0")/.."

ACTION="${1:-compare}"
NAME="${2:-baseline}"
shift $(( $# >= 2 ? 2 : $# ))
BENCH_FAIL="${BENCH_FAIL:-min:25%}"
BENCH_ARGS="${BENCH_ARGS-"--bench-engines=toposcope"}"  # set but empty: no selection
BENCH_PATHS="${BENCH_PATHS:-benchmarks/}"
BENCH_STORAGE="${BENCH_STORAGE:-.benchmarks}"
PYTHON="${PYTHON:-python}"

# pytest-benchmark keeps each machine's runs in its own folder, e.g. Linux-CPython-3.11-64bit.
MACHINE="$("$PYTHON" -c 'from pytest_benchmark.utils import get_machine_id; print(get_machine_id())')"
RUNS="$BENCH_STORAGE/$MACHINE"

# shellcheck disable=SC2206  # word splitting of the option strings is intended
COMMON=(-p no:cacheprovider --benchmark-only "--benchmark-storage=file://$BENCH_STORAGE" $BENCH_ARGS)

latest_run() {  # newest stored file NNNN_<name>.json of this machine, or nothing
  ls "$RUNS"/[0-9][0-9][0-9][0-9]_"$1".json 2>/dev/null | sort | tail -n 1
}

case "$ACTION" in
  save)
    # shellcheck disable=SC2086
    "$PYTHON" -m pytest $BENCH_PATHS "${COMMON[@]}" "--benchmark-save=$NAME" "$@"
    echo "stored: $(latest_run "$NAME")"
    ;;
  compare)
    BASELINE="$(latest_run "$NAME")"
    if [ -z "$BASELINE" ]; then
      echo "no stored run named '$NAME' in $RUNS; make one with: bash scripts/bench_history.sh save $NAME" >&2
      exit 2
    fi
    echo "comparing with $BASELINE (fail rule: $BENCH_FAIL)"
    FAIL=()
    for rule in $BENCH_FAIL; do FAIL+=("--benchmark-compare-fail=$rule"); done
    # The new run is autosaved too, so the history grows with every comparison.
    # shellcheck disable=SC2086
    "$PYTHON" -m pytest $BENCH_PATHS "${COMMON[@]}" --benchmark-autosave \
      "--benchmark-compare=$BASELINE" "${FAIL[@]}" "$@"
    ;;
  list)
    ls -1 "$RUNS" 2>/dev/null || echo "no stored runs in $RUNS"
    ;;
  *)
    echo "usage: bash scripts/bench_history.sh save|compare|list [NAME] [pytest args...]" >&2
    exit 2
    ;;
esac
