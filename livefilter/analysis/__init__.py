"""frame -> rendering degree: faces (faces.py), scene similarity (scene.py), person/background segments
(segments.py), the degree map and the :class:`DegreeEstimator` that combines them (degree.py)."""

from .degree import DegreeEstimator

__all__ = ["DegreeEstimator"]
