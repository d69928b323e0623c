#!/usr/bin/env bash
# Builds the documentation site into site/ with every warning an error:
# broken links or anchors, pages missing from the nav, docstrings mkdocstrings
# cannot render. Also fails when a name in toposcope.__all__ is not covered by
# docs/api.md, so the API reference grows with the API.
#
#   pip install ".[docs]"
#   bash scripts/docs_build.sh            # then open site/index.html
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"
export NO_MKDOCS_2_WARNING=1  # mkdocs-material's banner about its successor

"$PYTHON" - <<'PY'
"""Every public name must be rendered by a `::: ...` directive in docs/api.md:
directly (`::: toposcope.rips`) or through the module that defines it. Read
statically with griffe (as mkdocstrings does): nothing is imported or built."""
import re
import sys
from pathlib import Path

import griffe

package = griffe.load("toposcope", search_paths=["python"], resolve_aliases=False)
documented = set(re.findall(r"^::: *([\w.]+)", Path("docs/api.md").read_text(), re.MULTILINE))
public = [name for name in package.exports or [] if not name.startswith("__")]
missing = []
for name in public:
    member = package.members.get(name)
    target = member.target_path if member is not None and member.is_alias else f"toposcope.{name}"
    parts = target.split(".")
    # The name itself, its definition, or any module above the definition
    # (toposcope.studies covers toposcope.studies.layers.X), but not the package root.
    homes = {f"toposcope.{name}", target} | {".".join(parts[:k]) for k in range(2, len(parts))}
    if not homes & documented:
        missing.append(f"{name} (defined in {target})")
if missing:
    print("docs/api.md does not cover these public names:\n  " + "\n  ".join(missing))
    sys.exit(1)
print(f"docs/api.md covers all {len(public)} public names of toposcope.__all__")

# The compiled core is listed by hand (overload-only stubs are not rendered):
# every function of _core.pyi must appear in that table.
import ast
stub = ast.parse(Path("python/toposcope/_core.pyi").read_text())
core_functions = sorted({n.name for n in stub.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")})
core_section = Path("docs/api.md").read_text().split("## Compiled core", 1)[-1]
unlisted = [f for f in core_functions if f"`{f}(" not in core_section]
if unlisted:
    print("docs/api.md's compiled-core table misses: " + ", ".join(unlisted))
    sys.exit(1)
print(f"docs/api.md lists all {len(core_functions)} functions of _core.pyi")
PY
mkdocs build --strict "$@"
