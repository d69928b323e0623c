"""Studies built on capture, preparation and the engine."""
from .layers import FORMAT_VERSION, LayerStudyConfig, LayerTopology

__all__ = ["LayerTopology", "LayerStudyConfig", "FORMAT_VERSION"]
