"""Prepare activations for persistent homology: subsample, standardise, PCA,
choose a metric and normalise the scale -- reproducibly from a seed, with every
choice recorded next to the result.

The steps, in order (each optional):

1. ``sampling="random"``: a seeded random subset of ``n_samples`` rows, drawn
   before anything else so large captures (memmaps, HDF5) are read only there.
2. ``standardize``: ``"center"`` (subtract the mean) or ``"zscore"`` (also
   divide each feature by its standard deviation; constant features are kept
   at 0).
3. ``pca``: project on the first ``pca`` principal components, with
   scikit-learn (``pca_backend="sklearn"``) or torch (``"torch"``, on
   ``device``). Component signs follow one convention (the largest-magnitude
   loading of each component is positive), so both backends agree.
4. ``sampling="farthest"``: farthest-point (greedy permutation) subset of
   ``n_samples`` rows, in the reduced space, starting at a seeded random row.
5. ``metric``: ``"euclidean"`` keeps a point cloud; ``"cosine"`` yields the
   condensed matrix of cosine distances ``1 - <u, v> / (|u| |v|)``.
6. ``normalize``: divide all distances by a statistic of the pairwise
   distances -- ``"median"``, ``"mean"``, ``"max"`` or ``"quantile"`` (the
   ``quantile`` q, 0.9 by default, as in RTD) -- so that layers whose
   activation norms differ by orders of magnitude can be compared. The
   statistic is computed on at most ``scale_sample`` rows (seeded). Since Rips
   persistence is scale-equivariant, ``raw diagram = scale * diagram``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, Optional

import numpy as np

from ._scipy import pdist

__all__ = [
    "PrepConfig",
    "PreparedCloud",
    "prepare",
    "pca_project",
    "farthest_point_sample",
    "distance_scale",
]

_SAMPLING = (None, "random", "farthest")
_STANDARDIZE = (None, "center", "zscore")
_METRICS = ("euclidean", "cosine")
_NORMALIZE = (None, "median", "mean", "max", "quantile")


@dataclass
class PrepConfig:
    """How a layer's activations are turned into a point cloud (see module doc)."""

    n_samples: Optional[int] = 1000
    sampling: Optional[str] = "random"
    standardize: Optional[str] = None
    pca: Optional[int] = 50
    pca_backend: str = "sklearn"
    metric: str = "euclidean"
    normalize: Optional[str] = "quantile"
    quantile: float = 0.9
    scale_sample: int = 2000
    seed: int = 0
    device: Optional[str] = None

    def __post_init__(self):
        if self.sampling not in _SAMPLING:
            raise ValueError(f"sampling must be one of {_SAMPLING}, got {self.sampling!r}")
        if self.standardize not in _STANDARDIZE:
            raise ValueError(f"standardize must be one of {_STANDARDIZE}, got {self.standardize!r}")
        if self.metric not in _METRICS:
            raise ValueError(f"metric must be one of {_METRICS}, got {self.metric!r}")
        if self.normalize not in _NORMALIZE:
            raise ValueError(f"normalize must be one of {_NORMALIZE}, got {self.normalize!r}")
        if self.pca_backend not in ("sklearn", "torch"):
            raise ValueError(f"pca_backend must be 'sklearn' or 'torch', got {self.pca_backend!r}")
        if self.pca is not None and self.pca < 1:
            raise ValueError(f"pca must be None or >= 1, got {self.pca}")
        if self.n_samples is not None and self.n_samples < 2:
            raise ValueError(f"n_samples must be None or >= 2, got {self.n_samples}")
        if not 0 < self.quantile <= 1:
            raise ValueError(f"quantile must be in (0, 1], got {self.quantile}")

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "PrepConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown PrepConfig fields: {sorted(unknown)}")
        return cls(**d)


@dataclass
class PreparedCloud:
    """The result of :func:`prepare`.

    ``data`` is an (m, k) point cloud (``is_distance=False``) or a condensed
    distance vector (``is_distance=True``), already divided by ``scale``.
    ``indices`` are the rows of the original array that were kept, in order.
    """

    data: np.ndarray
    is_distance: bool
    indices: np.ndarray
    scale: float
    explained_variance_ratio: Optional[np.ndarray]
    config: PrepConfig
    record: Dict[str, Any] = field(default_factory=dict)

    @property
    def n_points(self) -> int:
        if self.is_distance:
            return int(round((1 + np.sqrt(1 + 8 * len(self.data))) / 2))
        return int(self.data.shape[0])

    def rips(self, **kwargs):
        """``toposcope.rips`` on the prepared data (distances are in units of ``scale``)."""
        from ._engine import rips

        return rips(self.data, distance_matrix=self.is_distance, **kwargs)


def _rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)


def farthest_point_sample(X: np.ndarray, m: int, seed: Optional[int] = 0, start: Optional[int] = None,
                          device=None) -> np.ndarray:
    """Indices of a greedy farthest-point subset of ``m`` rows of ``X`` (Euclidean).

    The first index is ``start`` or a seeded random row; each next one is the
    row farthest from those chosen (ties: lowest index). Runs
    :func:`toposcope.sampling.farthest_point_sampling` (the C++ core, or torch
    on ``device``).
    """
    from .sampling import farthest_point_sampling

    X = np.asarray(X, dtype=np.float64)
    n = X.shape[0]
    if not 1 <= m <= n:
        raise ValueError(f"cannot pick {m} of {n} points")
    first = int(_rng(seed).integers(n)) if start is None else int(start)
    indices, _ = farthest_point_sampling(X, k=m, start=first, device=device)
    return np.asarray(indices, dtype=np.int64)


def _sign_convention(components: np.ndarray) -> np.ndarray:
    """Flip each component so its largest-magnitude loading is positive."""
    idx = np.argmax(np.abs(components), axis=1)
    signs = np.sign(components[np.arange(components.shape[0]), idx])
    signs[signs == 0] = 1
    return components * signs[:, None]


def pca_project(X: np.ndarray, k: int, backend: str = "sklearn", seed: int = 0, device=None):
    """Project centred ``X`` on its first ``k`` principal components.

    Returns ``(Y, explained_variance_ratio)``. ``k`` is clipped to
    ``min(n, d)``. The torch backend works on ``device`` (CPU by default) in
    float64: an eigendecomposition of the d x d scatter matrix when n > 4 d,
    else an SVD.
    """
    X = np.asarray(X, dtype=np.float64)
    k = int(min(k, X.shape[0], X.shape[1]))
    mean = X.mean(axis=0)
    if backend == "sklearn":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=k, svd_solver="full", random_state=seed).fit(X)
        comps, ratio = pca.components_, pca.explained_variance_ratio_
    elif backend == "torch":
        from .capture import _torch

        torch = _torch()
        Xt = torch.as_tensor(X, dtype=torch.float64, device=device)
        Xc = Xt - Xt.mean(dim=0, keepdim=True)
        if Xc.shape[0] > 4 * Xc.shape[1]:
            # tall data (many samples, few features): eigendecompose the d x d
            # scatter matrix instead of an SVD of the n x d matrix
            evals, evecs = torch.linalg.eigh(Xc.T @ Xc)
            order = torch.argsort(evals, descending=True)
            var = evals[order].clamp_min(0).cpu().numpy()
            comps = evecs[:, order[:k]].T.cpu().numpy()
        else:
            _, S, Vh = torch.linalg.svd(Xc, full_matrices=False)
            var = S.cpu().numpy() ** 2
            comps = Vh[:k].cpu().numpy()
        total = var.sum()
        ratio = var[:k] / total if total > 0 else np.zeros(k)
    else:
        raise ValueError(f"backend must be 'sklearn' or 'torch', got {backend!r}")
    comps = _sign_convention(np.asarray(comps))
    return (X - mean) @ comps.T, np.asarray(ratio)


def distance_scale(data: np.ndarray, is_distance: bool, how: Optional[str], q: float = 0.9,
                   sample: int = 2000, seed: int = 0) -> float:
    """The statistic of pairwise distances used to normalise the scale (1 if ``how`` is None)."""
    if how is None:
        return 1.0
    if is_distance:
        d = np.asarray(data)
        if len(d) > sample * (sample - 1) // 2:
            d = d[_rng(seed).choice(len(d), sample * (sample - 1) // 2, replace=False)]
    else:
        X = np.asarray(data)
        if X.shape[0] > sample:
            X = X[np.sort(_rng(seed).choice(X.shape[0], sample, replace=False))]
        d = pdist(X)
    if len(d) == 0:
        return 1.0
    value = {
        "median": lambda: np.median(d),
        "mean": lambda: np.mean(d),
        "max": lambda: np.max(d),
        "quantile": lambda: np.quantile(d, q),
    }[how]()
    return float(value) if value > 0 else 1.0


def prepare(X, config: Optional[PrepConfig] = None, **overrides) -> PreparedCloud:
    """Turn an (n, d) activation array into a cloud ready for ``toposcope.rips``.

    ``X`` may be a numpy array, a memmap or an h5py dataset; only the rows kept
    are read when ``sampling="random"``. Keyword overrides update ``config``.
    """
    config = config or PrepConfig()
    if overrides:
        config = PrepConfig.from_dict({**config.to_dict(), **overrides})
    n = int(X.shape[0])
    if n < 2:
        raise ValueError(f"need at least 2 samples, got {n}")
    rng_seed = config.seed
    m = n if config.n_samples is None else min(config.n_samples, n)

    indices = np.arange(n)
    if config.sampling == "random" and m < n:
        indices = np.sort(_rng(rng_seed).choice(n, m, replace=False))
        data = np.asarray(X[indices], dtype=np.float64)  # sorted indices: h5py accepts them
    else:
        data = np.asarray(X[...] if not isinstance(X, np.ndarray) else X, dtype=np.float64)
    data = data.reshape(data.shape[0], -1)
    if not np.all(np.isfinite(data)):
        raise ValueError("activations contain NaN or inf")

    if config.standardize is not None:
        data = data - data.mean(axis=0)
        if config.standardize == "zscore":
            std = data.std(axis=0)
            data = data / np.where(std > 0, std, 1.0)

    ratio = None
    if config.pca is not None and config.pca < data.shape[1]:
        data, ratio = pca_project(data, config.pca, config.pca_backend, seed=rng_seed, device=config.device)

    if config.sampling == "farthest" and m < data.shape[0]:
        chosen = farthest_point_sample(data, m, seed=rng_seed, device=config.device)
        data, indices = data[chosen], indices[chosen]

    if config.metric == "cosine":
        norms = np.linalg.norm(data, axis=1)
        if np.any(norms == 0):
            raise ValueError("cosine distance is undefined for an all-zero activation vector")
        data = np.clip(pdist(data, "cosine"), 0.0, None)  # rounding can give -1e-16
        is_distance = True
    else:
        is_distance = False

    scale = distance_scale(data, is_distance, config.normalize, config.quantile, config.scale_sample, rng_seed)
    data = data / scale
    record = {
        "config": config.to_dict(),
        "n_input": n,
        "n_kept": int(len(indices)),
        "dim_input": int(np.prod(X.shape[1:])) if len(X.shape) > 1 else 1,
        "dim_output": None if is_distance else int(data.shape[1]),
        "scale": scale,
        "pca_explained_variance": None if ratio is None else float(np.sum(ratio)),
    }
    return PreparedCloud(data, is_distance, indices, scale, ratio, config, record)
