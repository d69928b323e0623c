"""toposcope: fast persistent homology and the topology of neural representations."""
from ._engine import RipsResult, rips

__version__ = "0.1.0"

__all__ = ["rips", "RipsResult", "__version__"]
