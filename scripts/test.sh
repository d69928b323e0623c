#!/usr/bin/env bash
# Installs what the tests need (torch as a CPU build) and runs the suite.
# pytest exits 5 when it collects no test; that must fail, so it is not masked.
set -euo pipefail
cd "$(dirname "$0")/.."
python -m pip install -q torch==2.13.0
python -m pip install -q ".[test]"
python -m pytest -q "$@"
