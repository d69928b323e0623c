"""Data sources of `toposcope run --data`: built-in offline data, text files,
and stored activations.

  digits                 scikit-learn's 8x8 handwritten digits (1,797 images, 10 classes)
  docstrings             first paragraphs of the Python standard library's docstrings
                         (read from its source with `ast`; nothing is imported or downloaded)
  FILE.txt / other text  one sample per non-empty line (for text models)
  FILE.npy               model inputs for --module models, or activations without a model:
                         (n, d) one layer, (L, n, d) L layers
  FILE.npz / .pt / .h5   activations, one array (n, ...) per layer name
"""
from __future__ import annotations

import ast
import os
import sysconfig
from collections import OrderedDict
from dataclasses import dataclass
from typing import Dict, Optional

import numpy as np

from ._common import CLIError, require

BUILTIN = ("digits", "docstrings")
ACTIVATION_EXTENSIONS = (".npy", ".npz", ".pt", ".pth", ".h5", ".hdf5")

# Standard-library modules whose docstrings make the built-in text corpus:
# varied topics (files, numbers, networking, text, concurrency) so the
# sentences do not all sit in one region of an embedding space.
_CORPUS_MODULES = (
    "argparse", "ast", "base64", "bisect", "calendar", "collections", "configparser", "contextlib",
    "copy", "csv", "dataclasses", "datetime", "decimal", "difflib", "email", "enum", "fnmatch",
    "fractions", "functools", "glob", "gzip", "hashlib", "heapq", "hmac", "html", "http", "inspect",
    "ipaddress", "itertools", "json", "locale", "logging", "mailbox", "numbers", "operator", "pathlib",
    "pickle", "pprint", "queue", "random", "shutil", "smtplib", "socket", "sqlite3", "statistics",
    "string", "subprocess", "tarfile", "tempfile", "textwrap", "threading", "tokenize", "typing",
    "unittest", "urllib", "uuid", "wave", "xml", "zipfile",
)


@dataclass
class Dataset:
    """Samples for a model (inputs) or ready activations (per layer)."""

    name: str
    modality: str  # "digits", "text", "array" or "activations"
    inputs: object = None  # np.ndarray (digits / array) or list of str (text)
    labels: Optional[np.ndarray] = None
    activations: Optional[Dict[str, np.ndarray]] = None
    description: str = ""

    def __len__(self) -> int:
        if self.activations is not None:
            return len(next(iter(self.activations.values())))
        return len(self.inputs)

    def subsample(self, samples: Optional[int], seed: int) -> "Dataset":
        """At most `samples` rows, the same rows in every layer; stratified by label when known."""
        n = len(self)
        if not samples or samples >= n:
            return self
        rng = np.random.default_rng(seed)
        if self.labels is not None:
            # Round-robin over shuffled classes keeps the class mix of the full set.
            per_class = [rng.permutation(np.flatnonzero(self.labels == c)) for c in np.unique(self.labels)]
            order = [idx for rank in range(max(len(p) for p in per_class))
                     for p in per_class if rank < len(p) for idx in [p[rank]]]
            keep = np.sort(np.asarray(order[:samples]))
        else:
            keep = np.sort(rng.choice(n, size=samples, replace=False))
        pick = (lambda a: a[keep])
        return Dataset(
            self.name, self.modality,
            inputs=None if self.inputs is None else (
                [self.inputs[i] for i in keep] if isinstance(self.inputs, list) else pick(self.inputs)),
            labels=None if self.labels is None else pick(self.labels),
            activations=None if self.activations is None else OrderedDict(
                (k, pick(v)) for k, v in self.activations.items()),
            description=self.description + f"; {samples} of {n} samples drawn with seed {seed}",
        )


def digits() -> Dataset:
    require("sklearn", "--data digits")
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return Dataset("digits", "digits", inputs=(X / 16.0).astype(np.float32), labels=y,
                   description=f"scikit-learn digits, {len(X)} 8x8 images scaled to [0, 1]")


def docstrings() -> Dataset:
    """First paragraphs of standard-library docstrings, labelled by module."""
    root = sysconfig.get_paths()["stdlib"]
    texts, labels, seen = [], [], set()
    for label, module in enumerate(_CORPUS_MODULES):
        single = os.path.join(root, module + ".py")
        if os.path.exists(single):
            paths = [single]
        else:
            paths = sorted(os.path.join(d, f) for d, _, files in os.walk(os.path.join(root, module))
                           for f in files if f.endswith(".py") and "test" not in d)
        for path in paths:
            try:
                with open(path, encoding="utf-8") as fh:
                    tree = ast.parse(fh.read())
            except (OSError, SyntaxError, UnicodeDecodeError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                    doc = ast.get_docstring(node)
                    if not doc:
                        continue
                    text = " ".join(doc.strip().split("\n\n")[0].split())
                    if len(text) >= 24 and text not in seen:
                        seen.add(text)
                        texts.append(text)
                        labels.append(label)
    if not texts:
        raise CLIError(f"no docstrings found under {root}; pass a text file with --data")
    return Dataset("docstrings", "text", inputs=texts, labels=np.asarray(labels),
                   description=f"{len(texts)} first paragraphs of Python {sysconfig.get_python_version()} "
                               f"standard-library docstrings from {len(set(labels))} modules")


def text_file(path: str) -> Dataset:
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = [line.strip() for line in fh if line.strip()]
    if len(lines) < 2:
        raise CLIError(f"{path}: a text data file needs at least two non-empty lines (one sample per line)")
    return Dataset(os.path.basename(path), "text", inputs=lines,
                   description=f"{len(lines)} lines of {os.path.basename(path)}")


def _as_layers(obj, path: str) -> "OrderedDict[str, np.ndarray]":
    """Turn a loaded object (array, dict, list) into named (n, ...) arrays."""
    if isinstance(obj, dict):
        items = list(obj.items())
    elif isinstance(obj, (list, tuple)):
        items = [(f"layer_{i}", v) for i, v in enumerate(obj)]
    else:
        arr = np.asarray(obj)
        if arr.ndim == 3:
            items = [(f"layer_{i}", a) for i, a in enumerate(arr)]
        elif arr.ndim == 2:
            items = [("layer_0", arr)]
        else:
            raise CLIError(f"{path}: expected an (n, d) or (layers, n, d) array, got shape {arr.shape}")
    layers = OrderedDict()
    for name, value in items:
        if hasattr(value, "detach"):  # a torch tensor
            value = value.detach().cpu().float().numpy()
        arr = np.asarray(value)
        if arr.ndim < 2 or not np.issubdtype(arr.dtype, np.number):
            continue  # labels or metadata stored beside the activations
        layers[str(name)] = arr.reshape(arr.shape[0], -1)
    if not layers:
        raise CLIError(f"{path} holds no (n, d) activation arrays")
    sizes = {k: len(v) for k, v in layers.items()}
    if len(set(sizes.values())) != 1:
        raise CLIError(f"{path}: layers have different numbers of samples: {sizes}")
    return layers


def activations_file(path: str) -> Dataset:
    ext = os.path.splitext(path)[1].lower()
    try:
        if ext == ".npy":
            obj = np.load(path, allow_pickle=False)
        elif ext == ".npz":
            with np.load(path, allow_pickle=False) as z:
                obj = OrderedDict((k, z[k]) for k in z.keys())
        elif ext in (".pt", ".pth"):
            torch = require("torch", f"reading {ext} activations")
            obj = torch.load(path, map_location="cpu", weights_only=True)
        else:
            h5py = require("h5py", "reading HDF5 activations")
            obj = OrderedDict()
            with h5py.File(path, "r") as f:
                f.visititems(lambda name, item: obj.__setitem__(name, item[()])
                             if isinstance(item, h5py.Dataset) else None)
    except CLIError:
        raise
    except Exception as exc:  # corrupt or foreign files: say which and why
        raise CLIError(f"cannot read activations from {path}: {exc}") from None
    layers = _as_layers(obj, path)
    n = len(next(iter(layers.values())))
    return Dataset(os.path.basename(path), "activations", activations=layers,
                   description=f"stored activations from {os.path.basename(path)}: {len(layers)} layer(s) "
                               f"of {n} samples")


def load(spec: str, for_model: bool) -> Dataset:
    """Resolve a --data value. With a model, .npy files are its inputs."""
    if spec == "digits":
        return digits()
    if spec == "docstrings":
        return docstrings()
    if not os.path.exists(spec):
        raise CLIError(f"data file not found: {spec} (built-in data sets: {', '.join(BUILTIN)})")
    ext = os.path.splitext(spec)[1].lower()
    if ext == ".npy" and for_model:
        arr = np.load(spec, allow_pickle=False).astype(np.float32)
        return Dataset(os.path.basename(spec), "array", inputs=arr,
                       description=f"model inputs {arr.shape} from {os.path.basename(spec)}")
    if ext in ACTIVATION_EXTENSIONS:
        if for_model:
            raise CLIError(f"{spec} holds activations; run it without --model / --hf-model / --module")
        return activations_file(spec)
    return text_file(spec)


def default_for(modality: str) -> str:
    return "docstrings" if modality == "text" else "digits"
