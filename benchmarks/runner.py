"""Run one (case, engine) in a fresh subprocess and measure it.

A fresh interpreter per run makes the peak resident memory that engine's own
(``ru_maxrss`` of the child, read with ``os.wait4``). Inside the child the
engine is imported and the data loaded and converted *before* the clock
starts; the timed part is the engine's call, from points to diagrams.

The parent polls the child: past the time limit or the memory budget it is
killed and reported as ``timeout`` / ``oom`` rather than left to swap.

Child usage (internal): ``python -m benchmarks.runner CASE ENGINE REPEAT OUT_JSON OUT_NPZ``.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent

# Statuses a run can end in.
OK, TIMEOUT, OOM, ERROR, INFEASIBLE, MISSING = "ok", "timeout", "oom", "error", "infeasible", "n/a"


@dataclass
class RunResult:
    """What one (case, engine) run measured."""

    case: str
    engine: str
    status: str
    time_s: Optional[float] = None          # best of the repeats
    times_s: List[float] = field(default_factory=list)
    cpu_s: Optional[float] = None           # CPU seconds of the best call (less load-sensitive)
    peak_mb: Optional[float] = None         # the child's peak RSS
    baseline_mb: Optional[float] = None     # RSS before the timed call (interpreter + data)
    message: str = ""
    diagrams_path: Optional[str] = None
    equal: Optional[bool] = None            # against the reference, when checked
    reference: str = ""                     # the engine it was checked against
    check_detail: str = ""


def _kb_to_mb(kb: float) -> float:
    return kb / 1024.0  # Linux reports ru_maxrss in KiB


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_in_subprocess(case: str, engine: str, repeat: int = 1, timeout_s: float = 180.0,
                      memory_limit_mb: Optional[float] = None,
                      workdir: Optional[str] = None) -> RunResult:
    """Run ``engine`` on ``case`` in a fresh interpreter and measure it.

    ``timeout_s`` bounds each timed call (the child gets ``repeat`` times
    that, plus a minute for start-up and data loading).
    """
    workdir = workdir or tempfile.mkdtemp(prefix="toposcope-bench-")
    stem = Path(workdir) / f"{case}--{engine}"
    out_json, out_npz = f"{stem}.json", f"{stem}.npz"
    for path in (out_json, out_npz):
        if os.path.exists(path):
            os.remove(path)
    command = [sys.executable, "-m", "benchmarks.runner", case, engine, str(repeat),
               out_json, out_npz]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO_ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    # The data are made with numpy (QR, products: OpenBLAS), whose worker
    # thread then spins for a while before it sleeps, on a core that the timed
    # call would use: a two-thread engine lost part of its second core
    # (act_1000 through toposcope: median 26 ms, 16 ms with the spin cut).
    # OpenBLAS still runs its threads for any engine that calls it.
    env.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    stderr = open(f"{stem}.stderr", "w+")
    child = subprocess.Popen(command, cwd=str(REPO_ROOT), env=env,
                             stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + timeout_s * repeat + 60.0
    limit_kb = memory_limit_mb * 1024 if memory_limit_mb else None
    killed_for = None
    while True:
        pid, wait_status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(wait_status)
            break
        if killed_for is None:
            if time.monotonic() > deadline:
                killed_for = TIMEOUT
            elif limit_kb and _rss_kb(child.pid) > limit_kb:
                killed_for = OOM
            if killed_for:
                child.send_signal(signal.SIGKILL)
        time.sleep(0.05)

    peak_mb = _kb_to_mb(usage.ru_maxrss)
    stderr.seek(0)
    tail = stderr.read()[-2000:].strip()
    stderr.close()
    if killed_for == TIMEOUT:
        return RunResult(case, engine, TIMEOUT, peak_mb=peak_mb,
                         message=f"> {timeout_s:g} s")
    if killed_for == OOM:
        return RunResult(case, engine, OOM, peak_mb=peak_mb,
                         message=f"> {memory_limit_mb:.0f} MB")
    if child.returncode != 0 or not os.path.exists(out_json):
        return RunResult(case, engine, ERROR, peak_mb=peak_mb,
                         message=_error_line(tail) or f"exit status {child.returncode}")
    with open(out_json) as handle:
        report = json.load(handle)
    best = int(np.argmin(report["times_s"]))
    return RunResult(case, engine, OK, time_s=report["times_s"][best], times_s=report["times_s"],
                     cpu_s=report["cpu_s"][best], peak_mb=peak_mb,
                     baseline_mb=report["baseline_mb"], diagrams_path=out_npz)


def _error_line(stderr_tail: str) -> str:
    """The exception line of a traceback (``TypeError: ...``), else the last line."""
    lines = [line.strip() for line in stderr_tail.splitlines() if line.strip()]
    for line in reversed(lines):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt)\b", line):
            return line[:300]
    return lines[-1][:300] if lines else ""


def load_diagrams(path: str) -> List[np.ndarray]:
    with np.load(path) as stored:
        return [stored[f"H{dim}"] for dim in range(len(stored.files))]


def _child_main(case_name: str, engine_name: str, repeat: int, out_json: str, out_npz: str) -> None:
    from benchmarks.cases import CASES_BY_NAME
    from benchmarks.peers import ENGINES_BY_NAME

    case, engine = CASES_BY_NAME[case_name], ENGINES_BY_NAME[engine_name]
    engine.import_modules()  # import cost is not the engine's computation
    X = engine.prepare(case.points())
    baseline_mb = _kb_to_mb(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    times, cpu_times, diagrams = [], [], None
    for _ in range(repeat):
        diagrams = None  # do not hold the previous result while timing the next
        start, start_cpu = time.perf_counter(), time.process_time()
        diagrams = engine.compute(X, case)
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - start_cpu)
    np.savez(out_npz, **{f"H{dim}": dgm for dim, dgm in enumerate(diagrams)})
    with open(out_json, "w") as handle:
        json.dump({"times_s": times, "cpu_s": cpu_times, "baseline_mb": baseline_mb}, handle)


if __name__ == "__main__":
    _case, _engine, _repeat, _json, _npz = sys.argv[1:6]
    _child_main(_case, _engine, int(_repeat), _json, _npz)
