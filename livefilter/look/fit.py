"""Template -> Look, as a chain of stages, each handing its result to the next (method.md sections 1-3):

    load_template -> (given_original | monochrome_guess | network_guess) -> [segment_template] -> pixel_pairs
                  -> fit_mappings -> coverage (and keep-weight; segments: their own trust, else the global look)
                  -> confidence -> bake

``fit_look`` is their short composition; tools (tune_oneshot.py, eval_looks.py) call the same stages with their
own settings.
"""

from __future__ import annotations

import hashlib
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .. import __version__
from ..errors import InputError
from ..imageio import read_image
from .coverage import Coverage, MixMapping, covered, segment_mapping
from .look import Look, bake
from .mapping import TableMapping, fit_mapping, ill_defined
from .sampling import MAX_SAMPLES, MIN_SAMPLES, SAMPLINGS, WORK_SIDE, downscale, match_size, sample_pairs

DEFAULT_MAPPING = "residual"
# Learning from ONE photo, the network's guess of the original is noisy: the seed's quartic (27 parameters) follows
# it less than the residual grid does, and only part of the fitted look is kept (the rest is identity), the more
# the further the network moved the template (d, mean change in code values at the preset size): a small change
# is mostly noise, a large one a real look. w = clip(a + b d, 0, 1), fitted on TRAINING looks and photos only
# (tools/tune_oneshot.py, 226 templates: film, creative, synthetic, narrow). Objective: mean dE00 + 3 x the mean
# excess over doing nothing, because a look worse than doing nothing is the failure users see: (0.25, 0.015)
# keeps 26/226 training looks worse than doing nothing (worst +2.80) against 36 (+4.32) for (0.35, 0.015), the
# rule chosen with weight 1, for 0.10 dE00 of mean (8.91 vs 8.81).
ONE_PHOTO_MAPPING = "seed"
GUESS_WEIGHT_RULE = (0.25, 0.015)
# Coverage fall-back strength p0 (see coverage.py) per path, chosen on TRAINING data. With an original (24 training
# film looks + 18 with a narrow photo, tools/eval_mapping.py --split train --coverage 0 0.03 0.1 0.3 --narrow):
# 2.07 dE00 without, 1.95 at 0.03, 2.22 at 0.1, 2.55 at 0.3; looks worse than doing nothing 3 -> 0. From one photo
# (tools/tune_oneshot.py): 8.82 without, 8.79 / 8.81 / 8.83 at 0.1 / 0.3 / 1, worst excess over doing nothing
# +4.62 / +4.69 / +4.32 / +4.14: 0.3. The monochrome path writes its look down for every colour: no fall-back.
COVERAGE_P0 = {"original": 0.03, "network": 0.3, "monochrome": 0.0}
# Below this share of the colour cube (Coverage.share) a template is called narrow and the user is warned: the
# definition of ../shared/notes/coverage-findings.md; about 1 training photo in 10.
NARROW_COVERAGE = 0.08
# A one-photo template smaller than this (pixels) is upscaled to the network's preset size: the guess rests on a
# handful of colours, so the look kept shrinks in proportion.
MIN_PIXELS = 32 * 32


# The look prior (livefilter/look/prior.py: a look predicted from the template's global features, models/
# look_prior.npz): from one photo the network's look and the prior's are averaged (PRIOR_SHARE of the prior's, set
# a priori, not tuned), and the kept weight follows PRIOR_RULE of d = the mean of the two looks' changes of the
# template's colours. The rule was fitted on TRAINING templates (tune_oneshot's 236, objective mean + 3 x excess),
# each scored by a prior trained WITHOUT the template's own look folder and without the pairs of its photos
# (tools/experiments/feature_inverse.py; tools/results/experiments/feature_inverse/compare.md). There the mix is not
# better than the network alone (objective 9.38 vs 9.26: the network was trained on those very looks and photos, the
# prior not; measured in session 9, its lattice error is 5.7 % lower on training looks than on validation ones and
# 2.6 % lower on training photos, tools/results/experiments/prior_stack/README.md); on VALIDATION (the prior without
# the template's look folder; no validation photo is in its pairs) it is better in every figure: mean 8.48 vs 8.82
# (shipped rule), creative 8.65 vs 9.13, looks worse than doing nothing 43 vs 47 of 236, objective 9.51 vs 9.92.
# 0 (or no model file): the network's look alone, with GUESS_WEIGHT_RULE.
PRIOR_SHARE = 0.5
PRIOR_RULE = (0.2, 0.02)
# Below this mean change (code values) the user is told the look is weak: where GUESS_WEIGHT_RULE keeps under 35 %.
WEAK_CHANGE = (0.35 - GUESS_WEIGHT_RULE[0]) / GUESS_WEIGHT_RULE[1]


def guess_weight_for(change: float, prior_change: float | None = None) -> float:
    """How much of a look learnt from one photo is kept, from how far the network moved the template (mean
    absolute change in code values) and, when the look prior is averaged in, how far the prior's look moves it."""
    if prior_change is None:
        a, b = GUESS_WEIGHT_RULE
        return float(np.clip(a + b * change, 0.0, 1.0))
    a, b = PRIOR_RULE
    return float(np.clip(a + b * (change + prior_change) / 2.0, 0.0, 1.0))


def prior_look(tpl: Template, small: np.ndarray):
    """The look prior's predicted look of the template and how far it moves the template's colours (``small``: the
    template at the network's preset size; code values), or (None, None) without the model (or PRIOR_SHARE 0)."""
    from .prior import default_prior, has_prior

    if PRIOR_SHARE <= 0 or not has_prior():
        return None, None
    lut = default_prior().predict(tpl.rgb)
    px = small.reshape(-1, 3) / 255.0
    return lut, float(np.abs(lut.apply_float(px) - px).mean() * 255.0)


# --- stage 1: the template ----------------------------------------------------------------------------------

@dataclass
class Template:
    rgb: np.ndarray  # uint8 (H, W, 3)
    alpha: np.ndarray | None = None
    path: str | None = None

    @property
    def sha256(self) -> str:
        # a memoryview: no 36 MB copy at 12 MP
        return hashlib.sha256(memoryview(np.ascontiguousarray(self.rgb)).cast("B")).hexdigest()


def load_template(img, what: str = "template", *, allow_large: bool = False) -> Template:
    """A path or a uint8 (H, W, 3) RGB array -> :class:`Template` (alpha kept, to exclude transparent pixels)."""
    if isinstance(img, (str, os.PathLike)):
        rgb, alpha = read_image(img, with_alpha=True, min_size=2, allow_large=allow_large)
        return Template(rgb, alpha, str(img))
    arr = np.asarray(img)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError(f"expected the {what} as a path or a uint8 (H, W, 3) RGB array, got {arr.dtype} {arr.shape}")
    if min(arr.shape[:2]) < 2:
        raise InputError(f"the {what} is {arr.shape[1]}x{arr.shape[0]}; need at least 2x2 pixels")
    return Template(arr)


# --- stage 2: what the look is learnt between ----------------------------------------------------------------

@dataclass
class Pairing:
    """The template and its (given or guessed) original, pixel-aligned; or, on the monochrome path, the template
    alone (its look is written down, not learnt from pixel pairs)."""

    template: np.ndarray
    original: np.ndarray | None
    path: str  # "original" | "network" | "monochrome"
    alpha: np.ndarray | None = None
    source: str | None = None  # the original's file, or how it was obtained
    change: float | None = None  # how far the network moved the template (code values), network path only


def given_original(tpl: Template, original, *, allow_large: bool = False) -> Pairing:
    if isinstance(original, (str, os.PathLike)) and tpl.path and Path(original).resolve() == Path(tpl.path).resolve():
        raise InputError("the original is the template itself; give the photo before its look", original)
    orig = load_template(original, "original", allow_large=allow_large)
    return Pairing(tpl.rgb, match_size(orig.rgb, tpl.rgb, orig.path), "original", tpl.alpha, orig.path)


def monochrome_guess(tpl: Template) -> Pairing | None:
    """The monochrome path when the template is black-and-white (or toned), else None."""
    from .monochrome import is_monochrome

    probe = downscale(tpl.rgb, WORK_SIDE)  # the statistics need no more (12 MP: one resize, not three)
    return Pairing(probe, None, "monochrome", source="monochrome path") if is_monochrome(probe) else None


# When the segmentation-aware network (method.md FIG. 3, models/defilter_seg.onnx) makes the guess instead of the
# FIG. 2 network (when the model is shipped): "segments" for fits with segments=True; "people" also for ordinary
# one-photo fits of templates where the segmenter finds a person on at least PEOPLE_SHARE of the frame; "never".
SEGMENT_AWARE_GUESS = "segments"
PEOPLE_SHARE = 0.1


def network_guess(tpl: Template, segment_aware: bool = False) -> Pairing:
    """The de-filter network's guess of the original, both at the network's preset size; ``segment_aware``: the
    FIG. 3 network, given the template's soft person mask."""
    from .defilter import at_preset_size, defilter, guess_change, has_segment_model

    mask = None
    if segment_aware and has_segment_model():
        from ..analysis.segments import person_mask

        mask = person_mask(downscale(tpl.rgb, 256), size=at_preset_size(tpl.rgb).shape[:2])
        if SEGMENT_AWARE_GUESS == "people" and float((mask >= 0.5).mean()) < PEOPLE_SHARE:
            mask = None  # no one in the picture: the FIG. 2 network
    small, guess = defilter(tpl.rgb, mask=mask)
    alpha = None if tpl.alpha is None else cv2.resize(tpl.alpha, small.shape[1::-1], interpolation=cv2.INTER_AREA)
    return Pairing(small, guess, "network", alpha, "segmentation-aware de-filter network" if mask is not None
                   else "de-filter network", guess_change(small, guess))


def pairing_for(tpl: Template, original=None, *, allow_large: bool = False, monochrome: bool = True,
                segment_aware: bool = False) -> Pairing:
    """Route a template: the given original, else the monochrome path, else the de-filter network (``segment_aware``:
    the FIG. 3 one)."""
    if original is not None:
        return given_original(tpl, original, allow_large=allow_large)
    return (monochrome and monochrome_guess(tpl)) or network_guess(tpl, segment_aware)


# --- stage 2b (segments=True): the template's segments --------------------------------------------------------

@dataclass
class Segments:
    """The template's soft person mask at the pairing's size, its hard labels, and each category's share."""

    mask: np.ndarray  # float32 (h, w) in [0, 1]
    labels: np.ndarray  # int32 (h, w): 0 background, 1 person

    def meta(self) -> dict:
        from ..analysis.segments import CATEGORIES, SEGMENT_MODEL

        hard = (self.mask >= 0.5).astype(np.int32)
        shares = {str(k): round(float((hard == k).mean()), 4) for k in range(len(CATEGORIES))}
        return {"model": SEGMENT_MODEL.name, "categories": dict(enumerate(CATEGORIES)), "shares": shares}


# Pixels whose person weight lies inside this band are left out of the per-segment samples: a template graded per
# segment is a blend of two looks there, which belongs to neither segment's mapping (the global mapping still takes
# its samples there: sampling.sample_pairs). TRAINING split templates (tools/eval_segments.py --train,
# as SEGMENT_MIN_GAIN; tools/results/eval_segments_train_*.md): per-segment vs global +31 % without the band, +37 %
# with it, +39 % with the band in the global samples; single-look templates -4 %, +0 %, -2 %.
EDGE_BAND = (0.25, 0.75)


# Which image the template's segments are found on. The render side segments ungraded frames, so with an original
# its segments are found on the original, as a frame's would be: a grade that darkens, desaturates or recolours the
# person or the background also moves the segmenter's boundary. TRAINING split templates (tools/eval_segments.py
# --train --no-one-photo, tools/results/eval_segments_train_session7.md): per-segment vs global +41 % segmenting the
# template, +53 % segmenting the original (gain 0.2); graded with a mask that is not the segmenter's (dilated or eroded
# by 3 % of the side) +19 / +22 % against +34 / +27 %. From one photo the template itself (the network's guess is no
# photo to segment).
SEGMENT_THE_ORIGINAL = True


def segment_template(p: Pairing) -> Segments:
    """Segment the template (person / background; with an original, the original: SEGMENT_THE_ORIGINAL) at the size
    its pixel pairs are taken from; labels are -1 in the soft edge band (EDGE_BAND), which no segment samples."""
    from ..analysis.segments import labels_of, person_mask

    ungraded = p.original if p.path == "original" and SEGMENT_THE_ORIGINAL else p.template
    mask = person_mask(ungraded, size=p.template.shape[:2])
    labels = labels_of(mask)
    if EDGE_BAND is not None:
        labels[(mask > EDGE_BAND[0]) & (mask < EDGE_BAND[1])] = -1
    return Segments(mask, labels)


# --- stage 3: pixel pairs -------------------------------------------------------------------------------------

@dataclass
class Pairs:
    src: np.ndarray  # (n, 3) input colours in [0, 1]
    dst: np.ndarray  # (n, 3) their look
    per_label: dict = field(default_factory=dict)  # label -> (src, dst)


def pixel_pairs(p: Pairing, *, sampling: str = "uniform", samples: int = 8000, seed: int = 0, labels=None,
                saliency_mask=None) -> Pairs:
    if saliency_mask is not None and np.shape(saliency_mask) != p.template.shape[:2]:
        # given at the template's size; the network path pairs a downscaled copy
        h, w = p.template.shape[:2]
        saliency_mask = cv2.resize(np.asarray(saliency_mask, np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    if p.path == "monochrome":
        from .monochrome import monochrome_pairs

        return Pairs(*monochrome_pairs(p.template, samples, seed))
    return Pairs(*sample_pairs(p.template, p.original, sampling=sampling, samples=samples, seed=seed, labels=labels,
                               saliency_mask=saliency_mask, alpha=p.alpha))


# --- stage 4: mappings ----------------------------------------------------------------------------------------

def fit_mappings(pairs: Pairs, mapping: str, solver: str = "lstsq"):
    """(global mapping, {label: mapping}), as fitted (before coverage)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # BLAS threads only add overhead on these small solves (47 vs 120 ms measured)
        glob = fit_mapping(pairs.src, pairs.dst, mapping, solver=solver)
        per = {lab: fit_mapping(s, d, mapping, solver=solver) for lab, (s, d) in pairs.per_label.items()}
    return glob, per


# A segment keeps its own mapping only when that fits the segment's samples better than the global mapping by at
# least this mean absolute error (code values); otherwise it takes the global look, fitted from more samples. On 120
# TRAINING templates with people, before/after, segments found on the original (tools/experiments/segment_gate.py,
# tools/results/experiments/segment_gate_train_seed*.json): per segment, split templates gained 0.06-20.6 (own /
# global error ratio 0.05-0.78), single-look ones at most 0.24 (ratio >= 0.52), and a single-look segment that kept
# its own mapping was worse on other photos (its own samples fitted a little better, other colours worse).
# Per-segment vs global: split +55.7 / +54.8 / +54.0 / +52.4 % at gains 0.2 / 0.4 / 0.5 / 0.7, single-look -0.4 %
# (1/60 worse) at 0.2 and +0.0 % from 0.3; 0.5 leaves twice the largest single-look gain as margin.
SEGMENT_MIN_GAIN = 0.5


# From one photo (the de-filter network's guess as the original) a segment's own mapping measured worse than the
# global look at every gate tried, on TRAINING photos and looks (tools/eval_segments.py --train --no-original --split
# 24 --single 24; tools/results/eval_segments_oneshot_t24_*.md): SEGMENT_MIN_GAIN 0.2 / 1 / 2 gave split templates
# 9.60 / 9.46 / 9.46 and single-look ones 10.08 / 10.10 / 10.17 against 9.39 and 10.02 for the global look (the FIG. 3
# network, step 10,968: 9.45 and 10.19). So a one-photo fit with segments=True is the plain fit (the "global look"
# of those runs) and says so; True learns the segments' own mappings from the guess.
SEGMENTS_FROM_GUESS = False
ONE_PHOTO_SEGMENTS_NOTE = ("from one photo every segment gets the global look: per-segment looks learnt through the "
                           "de-filter network's guess measured worse than the global look; give the photo before its "
                           "look too (--original) to learn one look per segment")


def distinct_segments(pairs: Pairs, glob, per: dict) -> tuple[dict, dict]:
    """The segments whose own mapping is worth keeping (SEGMENT_MIN_GAIN), and each segment's fit errors."""
    kept, errors = {}, {}
    for k, m in per.items():
        src, dst = pairs.per_label[k]
        e_glob = float(np.abs(glob(src) - dst).mean() * 255)
        e_own = float(np.abs(m(src) - dst).mean() * 255)
        errors[str(k)] = {"global": round(e_glob, 3), "own": round(e_own, 3)}
        if e_glob - e_own >= SEGMENT_MIN_GAIN:
            kept[k] = m
    return kept, errors


# --- stage 5: coverage and confidence -------------------------------------------------------------------------

def coverage_of(p: Pairing, pairs: Pairs) -> Coverage:
    """Where the template showed colours: the input side of the pairs; on the monochrome path the template's
    own colours (its pairs are synthetic colours spread over the cube)."""
    if p.path == "monochrome":
        return Coverage.of(downscale(p.template, 128).reshape(-1, 3) / 255.0)
    return Coverage.of(pairs.src)


def trusted(p: Pairing, pairs: Pairs, glob, per: dict, p0: float, weight: float):
    """The coverage fall-back and keep-weight applied: the global mapping falls back to identity where the
    template showed no colours; each segment's mapping to the (trusted) global one where the SEGMENT showed none
    (its own samples' coverage), so a small segment does not repaint colours it never held."""
    glob = covered(glob, coverage_of(p, pairs), p0, weight)
    per = {k: segment_mapping(m, glob, Coverage.of(pairs.per_label[k][0]), p0, weight) for k, m in per.items()}
    return glob, per


def confidence(p: Pairing, cov: Coverage, weight: float, reason: str | None,
               prior_change: float | None = None) -> dict:
    """How sure the fit is, for the user: the share of the colour cube the template covers, how far the network
    (and the look prior) moved the template, how much of the guessed look is kept; a level and, when weak, why."""
    frac = cov.share
    why = []
    if reason:
        why.append(reason)
    if frac < NARROW_COVERAGE and p.path != "monochrome":
        why.append(f"the template's colours cover {frac:.0%} of the colour cube (narrow): the look is uncertain "
                   "away from them")
    # little to undo: under WEAK_CHANGE code values (what keeps under 35 % of a guess without the look prior)
    little = weight < 0.35 if prior_change is None else (p.change + prior_change) / 2 < WEAK_CHANGE
    if p.path == "network" and little and not reason:
        moved = f"{p.change:.1f} code values" + ("" if prior_change is None else
                                                  f", the look prior {prior_change:.1f}")
        why.append(f"the network found little to undo (moved the template {moved}): "
                   f"{weight:.0%} of the guessed look is kept")
    level = "high" if p.path == "original" and not why else ("low" if why else "medium")
    out = {"level": level, "coverage": round(frac, 3), "kept": round(float(weight), 3),
           "guess_change": None if p.change is None else round(float(p.change), 2), "why": why}
    if prior_change is not None:
        out["prior_change"] = round(float(prior_change), 2)
    return out


def fit_look(template, original=None, *, sampling: str = "uniform", samples: int = 8000, labels=None,
             mapping: str | None = None, solver: str = "lstsq", size: int = 33, seed: int = 0,
             saliency_mask=None, name: str | None = None, allow_large: bool = False,
             guess_weight: float | None = None, coverage: float | None = None, segments: bool = False) -> Look:
    """Learn a look from a template photo (and, optionally, the same photo before its filter).

    Args:
        template: path or uint8 (H, W, 3) RGB array of the photo whose look is wanted.
        original: the same photo without the look (path or array). Without it the de-filter network guesses it.
        sampling: "uniform", "salient" (more samples on the salient object: ``saliency_mask``, by default
            spectral-residual saliency), "person" (salient-weighted with the segmenter's person mask as the salient
            region) or "segments" (needs ``labels``).
        samples: number of pixel pairs N (at least 4000).
        labels: integer (H, W) segment map of the template, for per-segment mappings.
        mapping: "residual" (quartic + smooth residual grid) or "seed" (the seed's quartic). Default: residual,
            except when the de-filter network guesses the original: seed (it follows a noisy guess less).
        solver: "lstsq" or "lbfgs" for the quartic.
        size: baked LUT size (2..256, 33 by default).
        allow_large: read image files over 100 megapixels.
        guess_weight: how much of a look learnt through the de-filter network is kept (the rest is identity), a
            hedge against a wrong guess; 1 keeps all of it. Default: from how far the network moved the template
            (:func:`guess_weight_for`). Unused with an original.
        coverage: the coverage fall-back strength p0 (0 = none; see :mod:`livefilter.look.coverage`). Default:
            chosen per path (COVERAGE_P0).
        segments: segment the template (person / background, livefilter.analysis.segments) and fit one mapping
            per category covering at least 10 % of it from N*r samples, plus the global one from all of them
            (method.md section 2); the look then renders each region of an image with its category's look.
    """
    t0 = time.perf_counter()
    if sampling not in SAMPLINGS:
        raise InputError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise InputError(f"samples must be at least {MIN_SAMPLES} and at most {MAX_SAMPLES}, got {samples}")
    if guess_weight is not None and not 0 <= guess_weight <= 1:
        raise InputError(f"guess_weight must be in [0, 1], got {guess_weight}")
    if coverage is not None and coverage < 0:
        raise InputError(f"coverage must be >= 0, got {coverage}")
    tpl = load_template(template, allow_large=allow_large)
    one_photo_segments = segments and original is None and not SEGMENTS_FROM_GUESS
    if one_photo_segments:  # the plain fit: it measured better (SEGMENTS_FROM_GUESS)
        segments = False
        warnings.warn(f"{tpl.path or 'template'}: {ONE_PHOTO_SEGMENTS_NOTE}", stacklevel=2)
    if segments:
        if labels is not None:
            raise InputError("segments=True segments the template itself; give labels= with sampling='segments'")
        sampling = "segments"
    # From one photo, whether the look is defined depends on what the template shows (nearest-neighbour downscale:
    # the verdict of the whole template, without averaging new colours in). A flat template (one colour, or mostly
    # black or white) is not taken for black-and-white: the monochrome path would turn every frame grey.
    flat = None if original is not None else ill_defined(
        downscale(tpl.rgb, WORK_SIDE, cv2.INTER_NEAREST).reshape(-1, 3) / 255.0)
    p = pairing_for(tpl, original, allow_large=allow_large, monochrome=sampling != "segments" and not flat,
                    segment_aware=SEGMENT_AWARE_GUESS == "people" or (segments and SEGMENT_AWARE_GUESS == "segments"))
    seg = segment_template(p) if segments or sampling == "person" else None
    asked = sampling
    if sampling == "person":  # salient-weighted sampling, the person as the salient region
        sampling, saliency_mask, seg = "salient", seg.mask >= 0.5, None
    elif seg is not None:
        labels = seg.labels
    mapping = mapping or (ONE_PHOTO_MAPPING if p.path == "network" else DEFAULT_MAPPING)
    pairs = pixel_pairs(p, sampling=sampling, samples=samples, seed=seed, labels=labels, saliency_mask=saliency_mask)
    # with an original, by the pairs; otherwise by the template (above): on the network path the guess may spread a
    # flat template's colour over the cube
    reason = ill_defined(pairs.src) if p.path == "original" else flat
    weight = 1.0
    prior, prior_change = None, None
    if p.path == "network":
        prior, prior_change = prior_look(tpl, p.template)
        weight = guess_weight if guess_weight is not None else guess_weight_for(p.change, prior_change)
        pixels = tpl.rgb.shape[0] * tpl.rgb.shape[1]
        if reason and guess_weight is None:
            weight = 0.0  # a guess from a flat template is the network's invention: nothing justifies it
        elif pixels < MIN_PIXELS and guess_weight is None:
            weight *= pixels / MIN_PIXELS
            reason = (f"the template is only {tpl.rgb.shape[1]}x{tpl.rgb.shape[0]} pixels: "
                      f"{weight:.0%} of the guessed look is kept")
    glob, label_maps = fit_mappings(pairs, mapping, solver)
    seg_errors = None
    if seg is not None:
        label_maps, seg_errors = distinct_segments(pairs, glob, label_maps)
    p0 = COVERAGE_P0[p.path] if coverage is None else coverage
    glob, label_maps = trusted(p, pairs, glob, label_maps, p0, weight)
    if prior is not None:  # the network's look and the prior's, averaged (segments, if any, keep theirs)
        glob = MixMapping(glob, covered(TableMapping(prior.table), None, 0.0, weight), PRIOR_SHARE)
    conf = confidence(p, coverage_of(p, pairs), weight, reason, prior_change)
    for why in conf["why"]:
        warnings.warn(f"{tpl.path or 'template'}: {why}", stacklevel=2)
    seg_meta = (seg.meta() | {"fit error": seg_errors, "own look": sorted(label_maps)} if seg is not None
                else {"note": ONE_PHOTO_SEGMENTS_NOTE} if one_photo_segments else None)
    title = name or (Path(tpl.path).stem if tpl.path else "livefilter look")
    meta = {
        "name": title,
        "version": __version__,
        "mapping": mapping,
        "solver": solver,
        "sampling": asked,
        "guess_weight": float(weight) if p.path == "network" else None,
        "look_prior": None if prior is None else {"share": PRIOR_SHARE, "change": round(prior_change, 2)},
        "coverage_p0": float(p0),
        "confidence": conf,
        "samples": int(samples),
        "seed": int(seed),
        "size": int(size),
        "template": tpl.path,
        "original": p.source,
        "template_sha256": tpl.sha256,
        "labels": sorted(label_maps),
        **({"segments": seg_meta} if seg_meta else {}),
        "ill_defined": reason,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    names = seg.meta()["categories"] if seg is not None else {}
    label_luts = {k: bake(m, size, f"{title} [{names.get(k, k)}]") for k, m in label_maps.items()}
    look = Look(lut=bake(glob, size, title), mapping=glob, meta=meta,
                label_mappings=label_maps, label_luts=label_luts,
                defiltered=p.original if p.path == "network" else None)
    meta["fit_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
    return look
