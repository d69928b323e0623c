"""The comparison table: every (case, engine) in a fresh subprocess.

    python -m benchmarks.table --quick
    python -m benchmarks.table --cases act_4000 o3_4096 --engines toposcope gudhi redzed-tda
    python -m benchmarks.table --sizes small medium --timeout 180 --json results.json

Each cell is ``seconds / peak MB`` of that engine's own process; ``≠`` marks
diagrams that differ from toposcope's (details below the table). The last
two columns are toposcope's time and peak memory divided by the best
(lowest) peer's among the peers whose diagrams agree: below 1 means
toposcope wins that row.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Dict, List, Optional

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import cases as case_catalogue  # noqa: E402
from benchmarks import peers  # noqa: E402
from benchmarks.compare import compare  # noqa: E402
from benchmarks.runner import (INFEASIBLE, MISSING, OK, REPO_ROOT, RunResult,  # noqa: E402
                               load_diagrams, run_in_subprocess)


def machine_description() -> str:
    """CPU model, cores and memory, for the table's caption."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = peers.memory_budget_bytes() / 0.75 / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB RAM, Python {platform.python_version()}"


def source_revision() -> str:
    """The checkout's commit (and whether it has local changes): toposcope's build."""
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=10).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def _n_points(case: case_catalogue.Case) -> int:
    return case.points().shape[0]


def run_case(case: case_catalogue.Case, engines: List[peers.Engine], repeat: int, timeout_s: float,
             memory_limit_mb: float, workdir: str, check: bool, log=print) -> Dict[str, RunResult]:
    """Run every engine on ``case`` (reference first) and check its diagrams."""
    results: Dict[str, RunResult] = {}
    names = [engine.name for engine in engines]
    order = list(engines)
    reference = peers.ENGINES_BY_NAME[peers.REFERENCE]
    if check and reference.name not in names:
        order.insert(0, reference)  # needed for the check, not shown
    order.sort(key=lambda engine: engine.name != reference.name)
    for engine in order:
        if not engine.available():
            results[engine.name] = RunResult(case.name, engine.name, MISSING, message="not installed")
        elif (why := engine.infeasible(case, _n_points(case))) is not None:
            results[engine.name] = RunResult(case.name, engine.name, INFEASIBLE, message=why)
        else:
            results[engine.name] = run_in_subprocess(case.name, engine.name, repeat, timeout_s,
                                                     memory_limit_mb, workdir)
        result = results[engine.name]
        cpu = f"(cpu {result.cpu_s:.3g} s)" if result.cpu_s is not None else ""
        log(f"  {case.name:>16} {engine.name:>22}: {result.status:<10} "
            f"{_cell(result)} {cpu} {result.message}", file=sys.stderr, flush=True)

    if check:
        _check_against_reference(order, results)
    return {name: results[name] for name in names}


def _check_against_reference(order: List[peers.Engine], results: Dict[str, RunResult]) -> None:
    """Compare every finished run with toposcope's diagrams -- or, when toposcope
    itself did not finish, with the first finished float64 peer's, so that the
    peers are still checked against each other."""
    candidates = (peers.REFERENCE, *peers.FALLBACK_REFERENCES)
    ref = next((results[name] for name in candidates
                if name in results and results[name].status == OK), None)
    if ref is None:
        return
    ref_dgms = load_diagrams(ref.diagrams_path)
    for engine in order:
        result = results[engine.name]
        if engine.name == ref.engine or result.status != OK:
            continue
        outcome = compare(load_diagrams(result.diagrams_path), ref_dgms, engine.precision)
        result.equal, result.reference = outcome.equal, ref.engine
        result.check_detail = outcome.detail


def _cell(result: RunResult, time_attribute: str = "time_s") -> str:
    if result.status == OK:
        mark = "" if result.equal in (True, None) else " ≠"
        seconds = getattr(result, time_attribute)
        shown = "–" if seconds is None else f"{seconds:.3g}"  # cpu_s absent in old JSON
        return f"{shown} / {result.peak_mb:.0f}{mark}"
    if result.status in ("timeout", "oom"):
        return f"{result.status} ({result.message})"
    if result.status == INFEASIBLE:
        return "infeasible"
    return result.status


def _ratio(row: Dict[str, RunResult], attribute: str) -> str:
    """toposcope's value over the best agreeing peer's, with that peer's name."""
    ref = row.get(peers.REFERENCE)
    if ref is None or ref.status != OK or getattr(ref, attribute) is None:
        return "–"
    valid = [r for name, r in row.items()
             if name != peers.REFERENCE and r.status == OK and r.equal is not False
             and getattr(r, attribute) is not None]
    if not valid:
        return "–"
    best = min(valid, key=lambda r: getattr(r, attribute))
    ratio = getattr(ref, attribute) / getattr(best, attribute)
    return f"{ratio:.2g}× ({best.engine})" if ratio < 10 else f"{ratio:.0f}× ({best.engine})"


def markdown_table(rows: Dict[str, Dict[str, RunResult]], engine_names: List[str],
                   time_attribute: str = "time_s") -> str:
    """The table; ``time_attribute`` is ``time_s`` (wall) or ``cpu_s``."""
    header = ["case", *engine_names]
    if peers.REFERENCE in engine_names:
        header += ["toposcope time ÷ best peer", "toposcope MB ÷ best peer"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for case_name, row in rows.items():
        cells = [case_catalogue.CASES_BY_NAME[case_name].description]
        cells += [_cell(row[name], time_attribute) for name in engine_names]
        if peers.REFERENCE in engine_names:
            cells += [_ratio(row, time_attribute), _ratio(row, "peak_mb")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _notes(rows: Dict[str, Dict[str, RunResult]]) -> List[str]:
    notes = []
    for row in rows.values():
        for result in row.values():
            if result.equal is False:
                notes.append(f"- ≠ {result.case} / {result.engine} against "
                             f"{result.reference or peers.REFERENCE}: "
                             f"{result.check_detail}")
            elif result.equal and result.reference not in ("", peers.REFERENCE):
                notes.append(f"- {result.case} / {result.engine}: checked against "
                             f"{result.reference} (toposcope did not finish)")
            elif result.status in ("error", INFEASIBLE):
                notes.append(f"- {result.case} / {result.engine}: {result.message}")
    return notes


def reprint(paths: List[str], time_attribute: str) -> int:
    """Print one table from one or more saved ``--json`` runs (later files win)."""
    rows: Dict[str, Dict[str, RunResult]] = {}
    engine_names: List[str] = []
    for path in paths:
        payload = json.loads(Path(path).read_text())
        load = payload.get("load_average") or [float("nan")] * 2
        print(f"- {Path(path).name}: measured {payload['started_utc'][:16]} UTC on "
              f"{payload['machine']}; best of {payload['repeat']}; load average "
              f"{load[0]:.1f} before, {load[1]:.1f} after; {payload['versions']} "
              f"(toposcope at {payload.get('toposcope_revision', '?')})")
        for record in payload["results"]:
            result = RunResult(**record)
            rows.setdefault(result.case, {})[result.engine] = result
            if result.engine not in engine_names:
                engine_names.append(result.engine)
    for row in rows.values():  # engines a file did not run
        for name in engine_names:
            row.setdefault(name, RunResult(next(iter(row.values())).case, name, "not run"))
    unit = "wall" if time_attribute == "time_s" else "CPU"
    print(f"\nCells: {unit} seconds / peak RSS MB of a fresh process.\n")
    print(markdown_table(rows, engine_names, time_attribute))
    notes = _notes(rows)
    if notes:
        print("\n" + "\n".join(notes))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", help="case names (default: by --sizes)")
    parser.add_argument("--engines", nargs="+",
                        help=f"engine names (default: {[e.name for e in peers.select()]}; "
                             f"all: {sorted(peers.ENGINES_BY_NAME)})")
    parser.add_argument("--quick", action="store_true", help="small cases only")
    parser.add_argument("--sizes", nargs="+", default=["small", "medium"],
                        choices=case_catalogue.SIZE_CLASSES, help="size classes to run")
    parser.add_argument("--repeat", type=int, default=1, help="timed calls per run (best kept)")
    parser.add_argument("--timeout", type=float, default=180.0, help="seconds per timed call")
    parser.add_argument("--memory-limit-mb", type=float,
                        default=peers.memory_budget_bytes() / 2**20,
                        help="kill a run whose RSS passes this")
    parser.add_argument("--no-check", action="store_true", help="skip the diagram check")
    parser.add_argument("--json", help="write every measurement to this file")
    parser.add_argument("--from-json", nargs="+",
                        help="only print one table from earlier --json runs")
    parser.add_argument("--metric", choices=["wall", "cpu"], default="wall",
                        help="time shown: wall seconds (default) or CPU seconds of the call "
                             "(less sensitive to a busy machine; counts every thread)")
    args = parser.parse_args(argv)
    time_attribute = "time_s" if args.metric == "wall" else "cpu_s"
    if args.from_json:
        return reprint(args.from_json, time_attribute)

    sizes = ["small"] if args.quick else args.sizes
    selected_cases = case_catalogue.select(args.cases, sizes)
    engines = peers.select(args.engines)
    engine_names = [engine.name for engine in engines]
    workdir = tempfile.mkdtemp(prefix="toposcope-bench-")
    started = datetime.datetime.now(datetime.timezone.utc)
    load_before = os.getloadavg()[0]

    rows: Dict[str, Dict[str, RunResult]] = {}
    for case in selected_cases:
        rows[case.name] = run_case(case, engines, args.repeat, args.timeout,
                                   args.memory_limit_mb, workdir, not args.no_check)

    load_after = os.getloadavg()[0]
    caption = (f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine_description()}; "
               f"seconds (best of {args.repeat}) / peak RSS MB per fresh process; "
               f"timeout {args.timeout:g} s per call; load average {load_before:.1f} before, "
               f"{load_after:.1f} after (other work on the machine inflates times).")
    versions = ", ".join(f"{e.dist} {e.version()}" for e in
                         {e.dist: e for e in engines}.values())
    print(caption)
    print(f"Versions: {versions} (toposcope at {source_revision()}).\n")
    print(markdown_table(rows, engine_names, time_attribute))
    notes = _notes(rows)
    if notes:
        print("\n" + "\n".join(notes))
    if args.json:
        payload = {
            "started_utc": started.isoformat(), "machine": machine_description(),
            "load_average": [load_before, load_after], "repeat": args.repeat,
            "timeout_s": args.timeout, "versions": versions,
            "toposcope_revision": source_revision(),
            "cases": {c.name: {"description": c.description, "maxdim": c.maxdim,
                               "threshold": c.threshold, "size": c.size, "source": c.source}
                      for c in selected_cases},
            "results": [asdict(result) for row in rows.values() for result in row.values()],
        }
        Path(args.json).write_text(json.dumps(payload, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
