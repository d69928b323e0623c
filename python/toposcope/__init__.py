"""toposcope: fast persistent homology and the topology of neural representations."""
from ._engine import RipsResult, rips
from ._ripser_compat import Rips, correlation_to_distance, lower_star_img, ripser

__version__ = "0.1.0"

__all__ = ["rips", "RipsResult", "__version__"]
__all__ += ["ripser", "Rips", "lower_star_img", "correlation_to_distance"]
