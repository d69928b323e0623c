"""Capture layer activations from any ``torch.nn.Module`` without editing it.

Forward hooks are put on the chosen modules only, the model runs under
``torch.inference_mode()`` in eval mode, every hook is removed and every
module's train/eval flag is restored afterwards -- also when the forward
raises. Each batch is pooled to one vector per sample as soon as a hook fires,
so a capture never holds more than one batch of full-size activations; pooled
rows go to memory, to ``.npy`` memmaps (one per layer) or to an HDF5 file.

torch is optional for toposcope: it is imported when a function here is
called, and a missing torch raises an ImportError saying how to install it.

Layer selection (``layers=``)
-----------------------------
* ``None``: every leaf module (one with no children).
* a string: an exact module name from :func:`list_layers`; a glob if it holds
  ``*``, ``?`` or ``[`` (``"encoder.layer.*"``); a regex if it starts with
  ``re:`` (``"re:^fc\\d$"``); ``"input"`` for the model's own input (first
  positional argument); ``"input:NAME"`` for the input of module ``NAME``.
* a compiled ``re.Pattern``, or a module class (``nn.ReLU``) that selects every
  module of that type.
* a list of the above (kept in model order, duplicates dropped), or a dict
  ``{display_name: selector}`` where each selector names exactly one tap.

Pooling (``pool=``), applied per sample
---------------------------------------
Activations are taken as (batch, features) if 2-D; (batch, tokens, features)
if 3-D (transformers; ``layout="tokens"``); (batch, channels, *spatial) if 4-D
or more (CNNs; ``layout="channels"``). ``layout=`` overrides the guess for 3-D
outputs (a Conv1d gives (batch, channels, length)).

* ``"flatten"``: all values of the sample in one vector (padded tokens zeroed).
* ``"mean"`` / ``"max"``: over tokens or spatial positions (padding excluded).
* ``"last"``: the last real token (right or left padding both handled).
* ``"cls"`` / ``"first"``: the first real token.
* a callable ``f(tensor, mask) -> (batch, k) tensor`` (``mask`` may be None).

A 2-D output is the same under every mode.
"""
from __future__ import annotations

import fnmatch
import json
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__all__ = [
    "capture",
    "capture_hf",
    "list_layers",
    "select_layers",
    "hf_default_layers",
    "pool_activations",
    "Activations",
    "ActivationRecorder",
    "POOL_MODES",
    "TORCH_INSTALL_HINT",
]

TORCH_INSTALL_HINT = "pip install torch==2.13.0"
POOL_MODES = ("flatten", "mean", "max", "last", "cls", "first")


def _torch():
    """Import torch lazily with an install hint (torch is an optional extra)."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without torch
        raise ImportError(
            f"this toposcope feature needs PyTorch; install the CPU build with `{TORCH_INSTALL_HINT}`"
        ) from exc
    return torch


# --------------------------------------------------------------------------- layers


def list_layers(model, leaves_only: bool = False) -> List[Tuple[str, str]]:
    """``(name, class name)`` of every named submodule, in model order.

    The names are what ``layers=`` accepts; the root module (name ``""``) is
    left out. ``leaves_only`` keeps modules without children.
    """
    out = []
    for name, module in model.named_modules():
        if not name:
            continue
        if leaves_only and any(True for _ in module.children()):
            continue
        out.append((name, type(module).__name__))
    return out


@dataclass(frozen=True)
class _Tap:
    """Where one captured layer comes from: a module's output or its input."""

    name: str
    module_name: str  # "" is the model itself
    where: str  # "output" or "input"


def _is_module_type(obj) -> bool:
    torch = _torch()
    return isinstance(obj, type) and issubclass(obj, torch.nn.Module)


def _match_one(model, selector, named: List[Tuple[str, Any]]) -> List[_Tap]:
    """Taps matched by one selector, in model order."""
    if isinstance(selector, str):
        if selector == "input":
            return [_Tap("input", "", "input")]
        if selector.startswith("input:"):
            target = selector[len("input:"):]
            if target not in dict(named):
                raise KeyError(f"no module named {target!r} (see toposcope.list_layers(model))")
            return [_Tap(selector, target, "input")]
        if selector.startswith("re:"):
            rx = re.compile(selector[3:])
            return [_Tap(n, n, "output") for n, _ in named if n and rx.search(n)]
        if any(c in selector for c in "*?["):
            return [_Tap(n, n, "output") for n, _ in named if n and fnmatch.fnmatchcase(n, selector)]
        if selector not in dict(named) or selector == "":
            close = [n for n, _ in named if n and selector.split(".")[-1] in n][:5]
            raise KeyError(
                f"no module named {selector!r}; see toposcope.list_layers(model)"
                + (f" (similar: {close})" if close else "")
            )
        return [_Tap(selector, selector, "output")]
    if isinstance(selector, re.Pattern):
        return [_Tap(n, n, "output") for n, _ in named if n and selector.search(n)]
    if _is_module_type(selector):
        return [_Tap(n, n, "output") for n, m in named if n and isinstance(m, selector)]
    raise TypeError(f"cannot select layers with {selector!r} (use a name, glob, 're:' regex, pattern or module type)")


def select_layers(model, layers=None) -> List[_Tap]:
    """Resolve a ``layers=`` selection (see the module docstring) to taps."""
    named = list(model.named_modules())
    if layers is None:
        taps = [_Tap(n, n, "output") for n, m in named if n and not any(True for _ in m.children())]
    elif isinstance(layers, Mapping):
        taps = []
        for display, selector in layers.items():
            found = _match_one(model, selector, named)
            if len(found) != 1:
                raise ValueError(f"layer {display!r}: selector {selector!r} matched {len(found)} modules, not 1")
            taps.append(_Tap(str(display), found[0].module_name, found[0].where))
        return taps
    else:
        items = [layers] if isinstance(layers, (str, re.Pattern)) or _is_module_type(layers) else list(layers)
        order = {n: i for i, (n, _) in enumerate(named)}
        seen, taps = set(), []
        for selector in items:
            for tap in _match_one(model, selector, named):
                if tap.name not in seen:
                    seen.add(tap.name)
                    taps.append(tap)
        # inputs of a module come just before its output; the model input first
        taps.sort(key=lambda t: (order.get(t.module_name, -1), 0 if t.where == "input" else 1))
    if not taps:
        raise ValueError(f"layers={layers!r} selected no module; see toposcope.list_layers(model)")
    return taps


# --------------------------------------------------------------------------- pooling


def _first_tensor(obj):
    """The activation tensor inside a module output (tuple, dict, ModelOutput)."""
    torch = _torch()
    if isinstance(obj, torch.Tensor):
        return obj
    if hasattr(obj, "last_hidden_state") and obj.last_hidden_state is not None:
        return obj.last_hidden_state
    if isinstance(obj, Mapping):
        obj = list(obj.values())
    if isinstance(obj, (tuple, list)):
        for item in obj:
            if isinstance(item, torch.Tensor):
                return item
    raise TypeError(f"cannot find an activation tensor in a {type(obj).__name__}")


def _real_token_index(mask, which: str):
    """Per row, the index of the first or last position where ``mask`` is set."""
    torch = _torch()
    T = mask.shape[1]
    pos = torch.arange(T, device=mask.device).expand_as(mask)
    m = mask.bool()
    if which == "last":
        idx = torch.where(m, pos, torch.full_like(pos, -1)).max(dim=1).values
    else:
        idx = torch.where(m, pos, torch.full_like(pos, T)).min(dim=1).values
    if ((idx < 0) | (idx >= T)).any():
        raise ValueError("a sample has no real token (its attention mask is all zero)")
    return idx


def pool_activations(act, pool: Union[str, Callable] = "mean", mask=None, layout: str = "auto"):
    """Pool a batch of activations to a (batch, features) tensor.

    ``mask`` is an optional (batch, tokens) attention mask (1 = real token) used
    for token layouts: padded positions are never pooled.
    """
    torch = _torch()
    if callable(pool):
        out = pool(act, mask)
        return out.reshape(out.shape[0], -1)
    if pool not in POOL_MODES:
        raise ValueError(f"pool must be one of {POOL_MODES} or a callable, got {pool!r}")
    if act.ndim == 1:
        return act.reshape(-1, 1)
    if act.ndim == 2:
        return act
    if layout == "auto":
        layout = "tokens" if act.ndim == 3 else "channels"
    if layout not in ("tokens", "channels"):
        raise ValueError(f"layout must be 'auto', 'tokens' or 'channels', got {layout!r}")
    if layout == "channels":
        if pool in ("last", "cls", "first"):
            raise ValueError(f"pool={pool!r} needs a token axis; this layer has (batch, channels, ...) shape {tuple(act.shape)}")
        if pool == "flatten":
            return act.reshape(act.shape[0], -1)
        flat = act.reshape(act.shape[0], act.shape[1], -1)
        return flat.mean(dim=2) if pool == "mean" else flat.max(dim=2).values
    # tokens: (batch, T, features); the mask applies when its length matches
    if act.ndim != 3:
        raise ValueError(f"layout='tokens' needs (batch, tokens, features), got shape {tuple(act.shape)}")
    if mask is not None and (mask.shape[0] != act.shape[0] or mask.shape[1] != act.shape[1]):
        mask = None  # not a token-aligned layer (e.g. a pooled or cross-attention output)
    if pool == "flatten":
        if mask is not None:
            act = act * mask.to(act.dtype).unsqueeze(-1)
        return act.reshape(act.shape[0], -1)
    if pool == "mean":
        if mask is None:
            return act.mean(dim=1)
        w = mask.to(act.dtype).unsqueeze(-1)
        return (act * w).sum(dim=1) / w.sum(dim=1).clamp_min(1.0)
    if pool == "max":
        if mask is None:
            return act.max(dim=1).values
        filled = act.masked_fill(~mask.bool().unsqueeze(-1), float("-inf"))
        return filled.max(dim=1).values
    rows = torch.arange(act.shape[0], device=act.device)
    if mask is None:
        idx = torch.full((act.shape[0],), act.shape[1] - 1 if pool == "last" else 0, device=act.device)
    else:
        idx = _real_token_index(mask, "last" if pool == "last" else "first")
    return act[rows, idx]


# --------------------------------------------------------------------------- storage


def _safe_filename(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "root"


class _Sink:
    """Receives pooled rows per layer; keeps them in memory or writes them to disk.

    Disk sinks buffer at most ``memory_budget`` bytes (over all layers) before
    flushing, so the memory a capture needs is bounded by the budget plus one
    batch.
    """

    def __init__(self, names: Sequence[str], out, n_rows: Optional[int], memory_budget: Optional[int], dtype):
        self.names = list(names)
        self.dtype = np.dtype(dtype)
        self.n_rows = n_rows
        self.memory_budget = memory_budget
        self.buffers: Dict[str, List[np.ndarray]] = {n: [] for n in self.names}
        self.buffered_bytes = 0
        self.peak_buffered_bytes = 0
        self.written: Dict[str, int] = {n: 0 for n in self.names}
        self.widths: Dict[str, int] = {}
        self.flushes = 0
        self.kind = "memory"
        self.path: Optional[Path] = None
        self._h5 = None
        self._raw: Dict[str, Any] = {}
        self._mm: Dict[str, np.ndarray] = {}
        if out is not None:
            self.path = Path(out)
            if self.path.suffix.lower() in (".h5", ".hdf5"):
                self.kind = "hdf5"
                import h5py

                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._h5 = h5py.File(self.path, "w")
            else:
                self.kind = "npy"
                self.path.mkdir(parents=True, exist_ok=True)

    def add(self, name: str, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        self.widths.setdefault(name, rows.shape[1])
        if rows.shape[1] != self.widths[name]:
            raise ValueError(f"layer {name!r}: pooled width changed from {self.widths[name]} to {rows.shape[1]} between batches")
        self.buffers[name].append(rows)
        self.buffered_bytes += rows.nbytes
        self.peak_buffered_bytes = max(self.peak_buffered_bytes, self.buffered_bytes)

    def end_batch(self) -> None:
        if self.kind == "memory":
            return
        if self.memory_budget is None or self.buffered_bytes >= self.memory_budget:
            self.flush()

    def flush(self) -> None:
        if self.kind == "memory" or self.buffered_bytes == 0:
            return
        for name in self.names:
            if not self.buffers[name]:
                continue
            block = np.concatenate(self.buffers[name], axis=0)
            self._write(name, block)
            self.buffers[name] = []
        self.buffered_bytes = 0
        self.flushes += 1

    def _write(self, name: str, block: np.ndarray) -> None:
        start, width = self.written[name], block.shape[1]
        if self.kind == "hdf5":
            if name not in self._h5:
                self._h5.create_dataset(name, shape=(0, width), maxshape=(None, width), dtype=self.dtype,
                                        chunks=(max(1, min(4096, (1 << 20) // max(1, width * self.dtype.itemsize))), width))
            ds = self._h5[name]
            ds.resize(start + len(block), axis=0)
            ds[start:start + len(block)] = block
        elif self.n_rows is not None:
            if name not in self._mm:
                self._mm[name] = np.lib.format.open_memmap(
                    self.path / f"{_safe_filename(name)}.npy", mode="w+", dtype=self.dtype, shape=(self.n_rows, width))
            if start + len(block) > self.n_rows:
                raise ValueError(f"more samples than the {self.n_rows} announced")
            self._mm[name][start:start + len(block)] = block
        else:  # unknown length: append raw rows, add the .npy header at the end
            if name not in self._raw:
                self._raw[name] = open(self.path / f"{_safe_filename(name)}.raw", "wb")
            self._raw[name].write(block.tobytes())
        self.written[name] = start + len(block)

    def finish(self) -> Dict[str, Any]:
        """Flush and return layer -> array (ndarray, memmap or h5py dataset)."""
        if self.kind == "memory":
            return {n: (np.concatenate(b, axis=0) if b else np.zeros((0, 0), self.dtype)) for n, b in self.buffers.items()}
        self.flush()
        arrays: Dict[str, Any] = {}
        for name in self.names:
            if self.kind == "hdf5":
                arrays[name] = self._h5[name] if name in self._h5 else None
                continue
            target = self.path / f"{_safe_filename(name)}.npy"
            if name in self._mm:
                mm = self._mm[name]
                mm.flush()
                n = self.written[name]
                del mm, self._mm[name]
                arrays[name] = np.load(target, mmap_mode="r")
                if n != self.n_rows:
                    raise ValueError(f"layer {name!r}: got {n} samples, expected {self.n_rows}")
            elif name in self._raw:
                self._raw[name].close()
                raw = self.path / f"{_safe_filename(name)}.raw"
                _raw_to_npy(raw, target, self.dtype, self.widths[name])
                raw.unlink()
                arrays[name] = np.load(target, mmap_mode="r")
        if self.kind == "hdf5":
            self._h5.flush()
        return arrays

    def abort(self) -> None:
        for f in self._raw.values():
            f.close()
        if self._h5 is not None:
            self._h5.close()


def _raw_to_npy(raw: Path, target: Path, dtype: np.dtype, width: int, chunk_bytes: int = 64 << 20) -> None:
    """Turn a headerless row-major file into a .npy file, copying in chunks."""
    n = raw.stat().st_size // (dtype.itemsize * width)
    src = np.memmap(raw, dtype=dtype, mode="r", shape=(n, width)) if n else np.zeros((0, width), dtype)
    dst = np.lib.format.open_memmap(target, mode="w+", dtype=dtype, shape=(n, width))
    step = max(1, chunk_bytes // max(1, width * dtype.itemsize))
    for i in range(0, n, step):
        dst[i:i + step] = src[i:i + step]
    dst.flush()
    del src, dst


@dataclass
class Activations:
    """Pooled activations, one (n_samples, features) array per layer.

    Arrays are numpy arrays (in memory), read-only ``.npy`` memmaps or h5py
    datasets (streamed to disk); index ``acts[layer]`` or iterate ``acts.items()``.
    ``meta`` records how they were captured.
    """

    arrays: Dict[str, Any]
    meta: Dict[str, Any] = field(default_factory=dict)

    @property
    def layers(self) -> List[str]:
        return list(self.arrays)

    @property
    def n_samples(self) -> int:
        first = next(iter(self.arrays.values()), None)
        return 0 if first is None else int(first.shape[0])

    def __getitem__(self, layer: str):
        return self.arrays[layer]

    def __iter__(self) -> Iterator[str]:
        return iter(self.arrays)

    def __len__(self) -> int:
        return len(self.arrays)

    def items(self):
        return self.arrays.items()

    def numpy(self, layer: str) -> np.ndarray:
        """The layer as an in-memory numpy array."""
        return np.asarray(self.arrays[layer][...])

    @classmethod
    def load(cls, path) -> "Activations":
        """Open a capture streamed to disk (an .npy folder or an HDF5 file)."""
        path = Path(path)
        if path.suffix.lower() in (".h5", ".hdf5"):
            import h5py

            f = h5py.File(path, "r")
            meta = json.loads(f.attrs.get("toposcope_capture", "{}"))
            return cls({n: f[n] for n in meta.get("layers", list(f.keys()))}, meta)
        meta = json.loads((path / "capture.json").read_text())
        return cls({n: np.load(path / meta["files"][n], mmap_mode="r") for n in meta["layers"]}, meta)


# --------------------------------------------------------------------------- batches


def _n_rows_of(inputs) -> Optional[int]:
    torch = _torch()
    if isinstance(inputs, torch.Tensor):
        return int(inputs.shape[0])
    if isinstance(inputs, Mapping):
        first = next(iter(inputs.values()))
        return int(first.shape[0])
    # a DataLoader yields len(sampler) rows (a subset sampler may hold fewer
    # than the dataset) unless it drops the last, short batch
    sampler = getattr(inputs, "sampler", None)
    if sampler is not None and getattr(inputs, "drop_last", False) is False:
        try:
            return len(sampler)
        except TypeError:  # an IterableDataset has no length
            return None
    return None


def _batches(inputs, batch_size: int) -> Iterator[Any]:
    """Yield batches from a tensor, a dict of tensors, a DataLoader or an iterable."""
    torch = _torch()
    if isinstance(inputs, (torch.Tensor, np.ndarray)):
        t = torch.as_tensor(inputs)
        for i in range(0, t.shape[0], batch_size):
            yield t[i:i + batch_size]
    elif isinstance(inputs, Mapping):
        n = _n_rows_of(inputs)
        for i in range(0, n, batch_size):
            yield {k: (v[i:i + batch_size] if hasattr(v, "shape") and v.shape[:1] == (n,) else v) for k, v in inputs.items()}
    else:
        yield from inputs


def _to_device(obj, device):
    torch = _torch()
    if device is None:
        return obj
    if isinstance(obj, torch.Tensor):
        return obj.to(device)
    if isinstance(obj, Mapping):
        return {k: _to_device(v, device) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(v, device) for v in obj)
    return obj


def _split_batch(batch, attention_mask):
    """(args, kwargs, mask) for one batch: dict batches are keyword inputs
    (Hugging Face style); a (x, y, ...) tuple from a DataLoader keeps x only."""
    torch = _torch()
    if isinstance(batch, Mapping):
        return (), dict(batch), batch.get("attention_mask", attention_mask)
    if isinstance(batch, (tuple, list)):
        return (batch[0],), {}, attention_mask
    if isinstance(batch, torch.Tensor):
        return (batch,), {}, attention_mask
    raise TypeError(f"cannot feed a batch of type {type(batch).__name__} to the model")


def _model_device(model):
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return None


# --------------------------------------------------------------------------- capture


def capture(
    model,
    inputs,
    layers=None,
    pool: Union[str, Callable, Mapping[str, Union[str, Callable]]] = "mean",
    batch_size: int = 256,
    device=None,
    out=None,
    attention_mask=None,
    memory_budget: Optional[int] = None,
    dtype=np.float32,
    layout: str = "auto",
    n_samples: Optional[int] = None,
    progress: bool = False,
) -> Activations:
    """Run ``model`` over ``inputs`` and return pooled activations of ``layers``.

    Parameters
    ----------
    model : torch.nn.Module. It is run in eval mode under
        ``torch.inference_mode()``; its train/eval flags are restored after.
    inputs : a tensor or array (split into ``batch_size`` batches), a dict of
        tensors (Hugging Face keyword inputs, split likewise), a DataLoader or
        any iterable of batches (a tensor, an ``(x, y, ...)`` tuple whose first
        item is fed, or a dict of keyword inputs).
    layers : the selection described in the module docstring.
    pool : a pooling mode or callable, or a dict ``{layer: mode}`` (missing
        layers use ``"mean"``).
    device : run there (the model is moved there and moved back afterwards);
        default: the device of the model's parameters.
    out : None (in memory), a folder (one ``.npy`` memmap per layer plus
        ``capture.json``) or a ``.h5``/``.hdf5`` file (one dataset per layer).
    attention_mask : (n, tokens) mask for a tensor input of token ids; dict
        batches carry their own ``attention_mask``.
    memory_budget : bytes of pooled rows buffered before a write to disk. With
        ``out=None`` and a capture that turns out larger than the budget, the
        capture is streamed to a temporary folder instead (with a warning).
    n_samples : number of rows, when ``inputs`` is an iterable whose length is
        unknown (lets the ``.npy`` files be written in place).
    progress : show a tqdm progress bar.
    """
    torch = _torch()
    taps = select_layers(model, layers)
    names = [t.name for t in taps]
    if len(set(names)) != len(names):
        raise ValueError(f"duplicate layer names: {names}")
    pools = {t.name: (pool.get(t.name, "mean") if isinstance(pool, Mapping) else pool) for t in taps}
    for p in pools.values():
        if not callable(p) and p not in POOL_MODES:
            raise ValueError(f"pool must be one of {POOL_MODES} or a callable, got {p!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    n_rows = n_samples if n_samples is not None else _n_rows_of(inputs)
    sink = _Sink(names, out, n_rows, memory_budget, dtype)
    modules = dict(model.named_modules())
    mask_full = attention_mask
    if mask_full is not None:
        mask_full = torch.as_tensor(mask_full)

    state = {"mask": None}
    current: Dict[str, Any] = {}

    def make_hook(tap: _Tap):
        def store(tensor):
            if tap.name in current:  # a module called twice per forward: keep the first call
                return
            pooled = pool_activations(tensor.detach(), pools[tap.name], state["mask"], layout)
            current[tap.name] = pooled.float().cpu().numpy() if pooled.dtype in (torch.bfloat16, torch.float16) else pooled.cpu().numpy()

        if tap.where == "output":
            return lambda module, args, output: store(_first_tensor(output))

        def pre_hook(module, args, kwargs):
            if args:
                store(_first_tensor(args[0]) if not isinstance(args[0], torch.Tensor) else args[0])
            elif kwargs:
                key = "hidden_states" if "hidden_states" in kwargs else next(iter(kwargs))
                store(_first_tensor(kwargs[key]))
        return pre_hook

    was_training = {name: m.training for name, m in model.named_modules()}
    original_device = _model_device(model)
    run_device = torch.device(device) if device is not None else original_device
    handles = []
    bar = None
    row = 0
    spilled = None
    try:
        if device is not None and original_device is not None and torch.device(device) != original_device:
            model.to(run_device)
        for tap in taps:
            module = modules[tap.module_name]
            if tap.where == "output":
                handles.append(module.register_forward_hook(make_hook(tap)))
            else:
                handles.append(module.register_forward_pre_hook(make_hook(tap), with_kwargs=True))
        model.eval()
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n_rows, unit="sample", desc="capture")
        with torch.inference_mode():
            for batch in _batches(inputs, batch_size):
                args, kwargs, mask = _split_batch(batch, None)
                if mask is None and mask_full is not None:
                    n_b = (args[0] if args else next(iter(kwargs.values()))).shape[0]
                    mask = mask_full[row:row + n_b]
                    if "attention_mask" not in kwargs and args and getattr(model, "config", None) is not None:
                        kwargs["attention_mask"] = mask
                args = _to_device(args, run_device)
                kwargs = _to_device(kwargs, run_device)
                state["mask"] = mask.to(run_device) if mask is not None else None
                current.clear()
                model(*args, **kwargs)
                missing = [n for n in names if n not in current]
                if missing:
                    raise RuntimeError(f"layers {missing} did not run in the forward pass")
                n_b = current[names[0]].shape[0]
                for name in names:
                    sink.add(name, current[name])
                row += n_b
                if (sink.kind == "memory" and memory_budget is not None and sink.buffered_bytes > memory_budget):
                    spilled = Path(tempfile.mkdtemp(prefix="toposcope-capture-"))
                    warnings.warn(f"capture exceeds memory_budget={memory_budget} bytes; streaming it to {spilled}")
                    buffered = sink.buffers
                    sink = _Sink(names, spilled, n_rows, memory_budget, dtype)
                    for name in names:
                        for block in buffered[name]:
                            sink.add(name, block)
                sink.end_batch()
                if bar is not None:
                    bar.update(n_b)
        arrays = sink.finish()
    except BaseException:
        sink.abort()
        raise
    finally:
        for h in handles:
            h.remove()
        for name, m in model.named_modules():
            if name in was_training:
                m.train(was_training[name])
        if device is not None and original_device is not None and run_device != original_device:
            model.to(original_device)
        if bar is not None:
            bar.close()

    meta = {
        "layers": names,
        "taps": [{"name": t.name, "module": t.module_name, "where": t.where} for t in taps],
        "pool": {n: (p if isinstance(p, str) else getattr(p, "__name__", "callable")) for n, p in pools.items()},
        "layout": layout,
        "n_samples": row,
        "dtype": np.dtype(dtype).name,
        "storage": sink.kind,
        "path": str(sink.path) if sink.path is not None else None,
        "files": {n: f"{_safe_filename(n)}.npy" for n in names} if sink.kind == "npy" else {},
        "widths": {n: int(w) for n, w in sink.widths.items()},
        "flushes": sink.flushes,
        "peak_buffered_bytes": int(sink.peak_buffered_bytes),
    }
    if sink.kind == "npy":
        (sink.path / "capture.json").write_text(json.dumps(meta, indent=2))
    elif sink.kind == "hdf5":
        sink._h5.attrs["toposcope_capture"] = json.dumps(meta)
    return Activations(arrays, meta)


# --------------------------------------------------------------------------- Hugging Face

_DECODER_TYPES = {
    "gpt2", "gpt_neo", "gpt_neox", "gptj", "llama", "mistral", "mixtral", "opt", "bloom", "falcon",
    "qwen2", "qwen3", "phi", "phi3", "gemma", "gemma2", "gemma3", "ctrl", "codegen", "olmo", "olmo2", "starcoder2",
}


def _is_decoder(model) -> bool:
    cfg = getattr(model, "config", None)
    if cfg is None:
        return False
    if getattr(cfg, "is_encoder_decoder", False):
        return False
    if getattr(cfg, "is_decoder", False) or getattr(cfg, "model_type", None) in _DECODER_TYPES:
        return True
    return any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in (getattr(cfg, "architectures", None) or []))


def _block_list(model) -> Tuple[str, Any]:
    """The model's stack of transformer blocks: the longest ModuleList whose
    children all share one class (``encoder.layer`` in BERT, ``h`` in GPT-2)."""
    torch = _torch()
    best = ("", None)
    for name, m in model.named_modules():
        if isinstance(m, torch.nn.ModuleList) and len(m) > 0:
            kinds = {type(c) for c in m}
            if len(kinds) == 1 and (best[1] is None or len(m) > len(best[1])):
                best = (name, m)
    if best[1] is None:
        raise ValueError("found no stack of transformer blocks (an nn.ModuleList of one block class)")
    return best


def hf_default_layers(model, blocks: Optional[Sequence[int]] = None) -> Dict[str, str]:
    """``{display name: selector}`` for a transformer: the embedding output
    (the input of the first block) and the output of each block (or of the
    chosen block indices; negative indices count from the end)."""
    prefix, stack = _block_list(model)
    n = len(stack)
    chosen = range(n) if blocks is None else sorted({b % n for b in blocks})
    layers = {"embeddings": f"input:{prefix}.0"}
    for i in chosen:
        layers[f"block.{i}"] = f"{prefix}.{i}"
    return layers


def capture_hf(
    model,
    tokenizer,
    texts: Sequence[str],
    layers=None,
    pool: Union[str, Callable, None] = None,
    batch_size: int = 32,
    max_length: int = 128,
    padding_side: Optional[str] = None,
    **capture_kwargs,
) -> Activations:
    """Capture a Hugging Face model on raw texts, tokenised in batches.

    ``layers`` defaults to :func:`hf_default_layers` (embedding output and
    every block; hooks only on those modules -- no ``output_hidden_states``).
    ``pool`` defaults to ``"last"`` (last real token) for decoders and
    ``"cls"`` for encoders; padding is masked either way. ``padding_side``
    ("left"/"right") overrides the tokenizer's for this call.
    """
    _torch()
    if layers is None:
        layers = hf_default_layers(model)
    if pool is None:
        pool = "last" if _is_decoder(model) else "cls"
    texts = list(texts)
    old_side = getattr(tokenizer, "padding_side", None)
    if tokenizer.pad_token is None:
        raise ValueError("the tokenizer has no pad token; set tokenizer.pad_token (e.g. to tokenizer.eos_token)")

    import inspect

    # with left padding a decoder needs positions that start at its first real
    # token (as ``generate`` does); without them padded rows shift position
    wants_positions = _is_decoder(model) and "position_ids" in inspect.signature(model.forward).parameters

    def batches():
        for i in range(0, len(texts), batch_size):
            enc = dict(tokenizer(texts[i:i + batch_size], padding=True, truncation=True, max_length=max_length,
                                 return_tensors="pt"))
            if wants_positions and tokenizer.padding_side == "left":
                enc["position_ids"] = (enc["attention_mask"].cumsum(1) - 1).clamp_min(0)
            yield enc

    try:
        if padding_side is not None:
            tokenizer.padding_side = padding_side
        acts = capture(model, batches(), layers=layers, pool=pool, n_samples=len(texts), **capture_kwargs)
    finally:
        if padding_side is not None:
            tokenizer.padding_side = old_side
    acts.meta["hf"] = {"decoder": _is_decoder(model), "max_length": max_length,
                       "padding_side": padding_side or old_side}
    return acts


# --------------------------------------------------------------------------- training


class ActivationRecorder:
    """Record chosen layers on a fixed probe set every ``every`` steps or epochs.

    Call :meth:`on_step` after each optimiser step and/or :meth:`on_epoch_end`
    after each epoch (``unit`` says which one counts). Each recording is an
    :class:`Activations`, kept in ``self.records`` as ``(counter, acts)``; with
    ``out`` set, recording k streams to ``out/<unit>_<k>/``. The model's
    train/eval state is restored after each capture, so the loop is unaffected.
    """

    def __init__(self, model, probe_inputs, layers=None, pool="mean", every: int = 1, unit: str = "epoch",
                 out=None, **capture_kwargs):
        if unit not in ("step", "epoch"):
            raise ValueError(f"unit must be 'step' or 'epoch', got {unit!r}")
        if every < 1:
            raise ValueError(f"every must be >= 1, got {every}")
        self.model, self.probe_inputs, self.layers, self.pool = model, probe_inputs, layers, pool
        self.every, self.unit, self.out = every, unit, (Path(out) if out is not None else None)
        self.capture_kwargs = capture_kwargs
        self.records: List[Tuple[int, Activations]] = []
        self._steps = 0
        self._epochs = 0

    def record(self, counter: int) -> Activations:
        out = self.out / f"{self.unit}_{counter}" if self.out is not None else None
        acts = capture(self.model, self.probe_inputs, layers=self.layers, pool=self.pool, out=out, **self.capture_kwargs)
        acts.meta[self.unit] = counter
        self.records.append((counter, acts))
        return acts

    def on_step(self) -> Optional[Activations]:
        self._steps += 1
        if self.unit == "step" and self._steps % self.every == 0:
            return self.record(self._steps)
        return None

    def on_epoch_end(self) -> Optional[Activations]:
        self._epochs += 1
        if self.unit == "epoch" and self._epochs % self.every == 0:
            return self.record(self._epochs)
        return None
