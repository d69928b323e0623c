"""toposcope: fast persistent homology and the topology of neural representations."""
from ._engine import RipsResult, rips
from ._ripser_compat import Rips, correlation_to_distance, lower_star_img, ripser

__version__ = "0.1.0"

__all__ = ["rips", "RipsResult", "__version__"]
__all__ += ["ripser", "Rips", "lower_star_img", "correlation_to_distance"]
# Activation studies (torch is imported lazily, only when a capture runs)
from . import metrics, diagram_distances, preprocessing, plotting
from .capture import Activations, ActivationRecorder, capture, capture_hf, hf_default_layers, list_layers
from .preprocessing import PrepConfig, PreparedCloud, prepare
from .diagram_distances import bottleneck, wasserstein
from .studies import LayerStudyConfig, LayerTopology

__all__ += [
    "capture", "capture_hf", "list_layers", "hf_default_layers", "Activations", "ActivationRecorder",
    "PrepConfig", "PreparedCloud", "prepare", "bottleneck", "wasserstein", "LayerTopology", "LayerStudyConfig",
    "metrics", "diagram_distances", "preprocessing", "plotting",
]
# Large samples: farthest-point sampling, torch distances, sparse approximate Rips
from .sampling import farthest_point_sampling
from .distances import distances
from .approximate import ApproximateRipsResult, approximate_rips

__all__ += ["farthest_point_sampling", "distances", "approximate_rips", "ApproximateRipsResult"]
