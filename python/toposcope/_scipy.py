"""SciPy, imported on first use.

``import toposcope`` stays light (SciPy's sparse and spatial modules pull in
linalg and qhull: about 40 MB of resident memory and a quarter of a second),
and a point cloud goes from numpy to the C++ engine without them. ``issparse``
needs no import at all: an object cannot be a SciPy sparse matrix unless
``scipy.sparse`` has already been imported by whoever built it.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any


class _Module:
    """Stands for a module and imports it on the first attribute access."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self._name), attr)


sparse: Any = _Module("scipy.sparse")


def issparse(x: Any) -> bool:
    module = sys.modules.get("scipy.sparse")
    return module is not None and module.issparse(x)


def pdist(*args: Any, **kwargs: Any):
    from scipy.spatial.distance import pdist as f
    return f(*args, **kwargs)


def cdist(*args: Any, **kwargs: Any):
    from scipy.spatial.distance import cdist as f
    return f(*args, **kwargs)


def squareform(*args: Any, **kwargs: Any):
    from scipy.spatial.distance import squareform as f
    return f(*args, **kwargs)


def erf(x: Any):
    from scipy.special import erf as f
    return f(x)
