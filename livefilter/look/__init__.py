"""Template -> Look: a chain of stages, one module each (see fit.py for the composition).

template.py (the photo, resized once) -> pairing.py: monochrome.py (black-and-white path) | defilter.py (the
network's guess) -> sampling.py (pixel pairs) -> mapping.py (colour mappings) -> coverage.py (fall-back where the
template showed no colours) -> readings.py (several readings of one photo) -> look.py (Look, save/load, bake).
"""

from .coverage import Coverage, CoveredMapping
from .fit import Pairs, confidence, coverage_of, fit_look, fit_mappings, guess_weight_for, pixel_pairs
from .look import LOOK_EXT, Look, as_look, bake, describe_confidence, load_look
from .pairing import Pairing, given_original, monochrome_guess, network_guess, pairing_for
from .sampling import sample_pairs
from .settings import FitSettings
from .template import Template, load_template

__all__ = [
    "Coverage", "CoveredMapping", "FitSettings", "LOOK_EXT", "Look", "Pairing", "Pairs", "Template", "as_look", "bake",
    "confidence",
    "coverage_of", "describe_confidence", "fit_look", "fit_mappings", "given_original", "guess_weight_for",
    "load_look", "load_template", "monochrome_guess", "network_guess", "pairing_for", "pixel_pairs", "sample_pairs",
]
