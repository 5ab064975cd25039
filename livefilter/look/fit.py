"""Template -> Look, as a chain of stages, each handing its result to the next (docs/method.md):

    load_template -> pairing_for (given_original | monochrome_guess | network_guess) -> [segment_template]
                  -> pixel_pairs -> fit_mappings -> trusted (coverage, keep-weight and the look prior; segments: their
                  own trust, else the global look) -> confidence -> read_one_photo (one photo: the readings) -> bake

``fit_look`` is their short composition; tools call the same stages with their own :class:`FitSettings`.
"""

from __future__ import annotations

import itertools
import time
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

from .._version import __version__
from ..analysis.border import inside
from ..errors import InputError, LiveFilterError
from ..luts.lut import identity_table
from .coverage import Coverage, MixMapping, covered, segment_mapping
from .look import BAKE_RANGE, Look, bake
from .mapping import TableMapping, fit_mapping
from .monochrome import monochrome_pairs
from .pairing import Pairing, pairing_for
from .prior import default_prior, has_prior
from .readings import Reading, read_one_photo, select
from .sampling import MAX_SAMPLES, MIN_SAMPLES, SAMPLINGS, ill_defined, sample_pairs
from .settings import DEFAULT, MAX_CANDIDATES, FitSettings, number
from .stills import is_video, same_picture, same_scene, thumbnail, video_stills
from .template import Template, load_template

DEFAULT_MAPPING = "residual"
# Below this share of the colour cube (Coverage.share) a template is called narrow and the user is warned (about 1
# training photo in 10; docs/decisions.md 'narrow template').
NARROW_COVERAGE = 0.08
# A one-photo template smaller than this (pixels) is upscaled to the network's preset size: the guess rests on a
# handful of colours, so the look kept shrinks in proportion.
MIN_PIXELS = 32 * 32


def guess_weight_for(change: float, prior_change: float | None = None, settings: FitSettings = DEFAULT) -> float:
    """How much of a look learnt from one photo is kept (:meth:`FitSettings.guess_weight`)."""
    return settings.guess_weight(change, prior_change)


def prior_look(tpl: Template, small: np.ndarray, settings: FitSettings = DEFAULT):
    """The look prior's predicted look of the template and how far it moves the template's colours (``small``: the
    template at the network's preset size; code values), or (None, None) without the model (or prior_share 0).
    The network's look and the prior's are averaged (docs/decisions.md 'look prior')."""

    if settings.prior_share <= 0 or not has_prior():
        return None, None
    lut = default_prior().predict(tpl.work)
    px = small.reshape(-1, 3) / 255.0
    return lut, float(np.abs(lut.apply_float(px) - px).mean() * 255.0)


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


def segment_template(p: Pairing, settings: FitSettings = DEFAULT) -> Segments:
    """Segment the template (person / background; with an original, the original: the render side segments ungraded
    frames, and a grade moves the segmenter's boundary) at the size its pixel pairs are taken from; labels are -1 in
    the soft edge band (settings.edge_band: a blend of two looks belongs to neither segment), which no segment
    samples."""
    from ..analysis.segments import labels_of, person_mask

    ungraded = p.original if p.path == "original" and settings.segment_the_original else p.template
    mask = person_mask(ungraded, size=p.template.shape[:2])
    labels = labels_of(mask)
    if settings.edge_band is not None:
        labels[(mask > settings.edge_band[0]) & (mask < settings.edge_band[1])] = -1
    return Segments(mask, labels)


# --- stage 3: pixel pairs -------------------------------------------------------------------------------------

@dataclass
class Pairs:
    src: np.ndarray  # (n, 3) input colours in [0, 1]
    dst: np.ndarray  # (n, 3) their look
    per_label: dict = field(default_factory=dict)  # label -> (src, dst)


def pixel_pairs(p: Pairing, *, sampling: str = "uniform", samples: int = 8000, seed: int = 0, labels=None,
                saliency_mask=None) -> Pairs:
    def at_pairing_size(a, dtype):  # a map given at the template's size; the pairs are taken from a smaller copy
        if a is None or np.shape(a) == p.template.shape[:2]:
            return a
        h, w = p.template.shape[:2]
        return cv2.resize(np.asarray(a, dtype), (w, h), interpolation=cv2.INTER_NEAREST)

    labels = at_pairing_size(labels, np.int32)
    if saliency_mask is not None and np.shape(saliency_mask) != p.template.shape[:2]:
        saliency_mask = at_pairing_size(saliency_mask, np.uint8) > 0
    if p.path == "monochrome":
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


def monochrome_look(rgb: np.ndarray, samples: int, seed: int, solver: str, mapping: str = DEFAULT_MAPPING,
                    p0: float = DEFAULT.coverage_p0["monochrome"]):
    """The template ``rgb`` read as black-and-white (or toned): the monochrome path's look (its channel weights, tone
    curve and tint per grey level), for a template close to one that the path did not take."""
    p = Pairing(rgb, None, "monochrome", source="monochrome path")
    pairs = pixel_pairs(p, samples=samples, seed=seed)
    glob, _ = fit_mappings(pairs, mapping, solver)
    return covered(glob, coverage_of(p, pairs), p0)


ONE_PHOTO_SEGMENTS_NOTE = ("from one photo every segment gets the global look: per-segment looks learnt through the "
                           "de-filter network's guess measured worse than the global look; give the photo before its "
                           "look too (--original) to learn one look per segment")


def distinct_segments(pairs: Pairs, glob, per: dict, min_gain: float = DEFAULT.segment_min_gain) -> tuple[dict, dict]:
    """The segments whose own mapping is worth keeping (its fit better than the global one's by ``min_gain``: a
    single-look segment that kept its own mapping was worse on other photos), and each segment's fit errors."""
    kept, errors = {}, {}
    for k, m in per.items():
        src, dst = pairs.per_label[k]
        e_glob = float(np.abs(glob(src) - dst).mean() * 255)
        e_own = float(np.abs(m(src) - dst).mean() * 255)
        errors[str(k)] = {"global": round(e_glob, 3), "own": round(e_own, 3)}
        if e_glob - e_own >= min_gain:
            kept[k] = m
    return kept, errors


# --- stage 5: coverage and confidence -------------------------------------------------------------------------

def coverage_of(p: Pairing, pairs: Pairs) -> Coverage:
    """Where the template showed colours: the input side of the pairs; on the monochrome path the template's
    own colours (its pairs are synthetic colours spread over the cube)."""
    if p.path == "monochrome":
        step = max(1, max(p.template.shape[:2]) // 128)  # every step-th pixel: about 128 px a side
        return Coverage.of(p.template[::step, ::step].reshape(-1, 3) / 255.0)
    return Coverage.of(pairs.src)


def trusted(cov: Coverage, pairs: Pairs, glob, per: dict, p0: float, weight: float, prior=None,
            prior_share: float = 0.0):
    """The coverage fall-back and keep-weight applied: the global mapping falls back to identity where the
    template showed no colours; each segment's mapping to the (trusted) global one where the SEGMENT showed none
    (its own samples' coverage), so a small segment does not repaint colours it never held. ``prior``: the look
    prior's look (a Lut), ``weight`` of it averaged into the global mapping at ``prior_share`` (docs/decisions.md
    'look prior'); the segments keep theirs."""
    base = covered(glob, cov, p0, weight)
    per = {k: segment_mapping(m, base, Coverage.of(pairs.per_label[k][0]), p0, weight) for k, m in per.items()}
    if prior is None:
        return base, per
    return MixMapping(base, covered(TableMapping(prior.table), None, 0.0, weight), prior_share), per


def confidence(p: Pairing, cov: Coverage, weight: float, reason: str | None,
               prior_change: float | None = None, settings: FitSettings = DEFAULT) -> dict:
    """How sure the fit is, for the user: the share of the colour cube the template covers, how far the network
    (and the look prior) moved the template, how much of the guessed look is kept; a level and, when weak, why."""
    frac = cov.share
    why = []
    if reason:
        why.append(reason)
    if frac < NARROW_COVERAGE and p.path != "monochrome":
        whose = "the original's" if p.path == "original" else "the template's"  # the pairs' input side
        why.append(f"{whose} colours cover {frac:.0%} of the colour cube (narrow): the look is uncertain "
                   "away from them")
    # little to undo: under settings.weak_change code values (what keeps under 35 % of a guess without the prior)
    little = weight < 0.35 if prior_change is None else (p.change + prior_change) / 2 < settings.weak_change
    if p.path == "network" and little and not reason:
        moved = f"{p.change:.1f} code values" + ("" if prior_change is None else
                                                  f", the look prior {prior_change:.1f}")
        why.append(f"the network found little to undo (moved the template {moved}): "
                   f"{round(float(weight), 3):.0%} of the guessed look is kept")
    level = "high" if p.path == "original" and not why else ("low" if why else "medium")
    out = {"level": level, "coverage": round(frac, 3), "kept": round(float(weight), 3),
           "guess_change": None if p.change is None else round(float(p.change), 2), "why": why}
    if prior_change is not None:
        out["prior_change"] = round(float(prior_change), 2)
    return out


def _check_whole(**values) -> None:
    """Each value a whole number (an int, not a bool or a float; numpy's integers too): one line naming it."""
    for name, v in values.items():
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
            raise InputError(f"{name} must be a whole number, got {v!r}")


def _settings(settings: FitSettings | None, candidates: int | None) -> FitSettings:
    """The fit's settings (DEFAULT when None), ``candidates`` (if given) overriding their own, checked."""
    if settings is not None and not isinstance(settings, FitSettings):
        raise InputError(f"settings must be a livefilter.FitSettings, got {type(settings).__name__}")
    settings = settings or DEFAULT
    if candidates is not None:
        settings = replace(settings, candidates=candidates)
    _check_whole(candidates=settings.candidates)
    if not 1 <= settings.candidates <= MAX_CANDIDATES:
        raise InputError(f"candidates must be 1..{MAX_CANDIDATES}, got {settings.candidates}")
    return settings


def fit_look(template, original=None, *, sampling: str = "uniform", samples: int = 8000, labels=None,
             mapping: str | None = None, solver: str = "lstsq", size: int = 33, seed: int = 0,
             saliency_mask=None, name: str | None = None, allow_large: bool = False,
             guess_weight: float | None = None, coverage: float | None = None, segments: bool = False,
             candidates: int | None = None, settings: FitSettings | None = None, scene: bool = True) -> Look:
    """Learn a look from a template photo (and, optionally, the same photo before its filter).

    Args:
        template: path or uint8 (H, W, 3) RGB array of the photo whose look is wanted; or a list of 2 to
            MAX_TEMPLATES such photos, all in the same look (:func:`fit_several`); or a video's path: a few of its
            stills, read as several photos (:func:`livefilter.look.stills.video_stills`).
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
            chosen per path (settings.coverage_p0).
        segments: segment the template (person / background, livefilter.analysis.segments) and fit one mapping
            per category covering at least 10 % of it from N*r samples, plus the global one from all of them
            (docs/method.md); the look then renders each region of an image with its category's look.
        candidates: from one photo, how many distinct readings to offer (default 4; 1: the automatic one only,
            ``look.candidates`` then empty): ``look.candidates`` holds them, ``look.pick(n)`` takes one; the look
            itself is candidate 1. With an original there is one look (candidates above 1: a warning says so).
        settings: the one-photo fit's settings (:class:`FitSettings`); ``candidates`` overrides its own.
        scene: keep the template's scene features in ``look.meta["scene"]`` (one photo; about 10 ms): ``apply`` and
            ``live`` give a picture whose scene is unlike the template's less of the look (its scene similarity,
            livefilter.analysis.scene); several photos or a video's stills keep none (no one scene).
    """
    if isinstance(template, (list, tuple)) and len(template) == 1:  # one template in a list: as given alone
        template = template[0]
    if original is not None and candidates not in (None, 1):  # (it gave no readings without a word)
        warnings.warn(f"candidates={candidates}: a look learnt with its original has one reading", stacklevel=2)
    if is_video(template):  # a video: its stills, as several photos in one look
        return fit_video(template, original=original, sampling=sampling, samples=samples, labels=labels,
                         mapping=mapping, solver=solver, size=size, seed=seed, saliency_mask=saliency_mask,
                         name=name, allow_large=allow_large, guess_weight=guess_weight, coverage=coverage,
                         segments=segments, candidates=candidates, settings=settings)
    if isinstance(template, (list, tuple)):  # several photos of one look
        return fit_several(template, original, sampling=sampling, samples=samples, labels=labels, mapping=mapping,
                           solver=solver, size=size, seed=seed, saliency_mask=saliency_mask, name=name,
                           allow_large=allow_large, guess_weight=guess_weight, coverage=coverage, segments=segments,
                           candidates=candidates, settings=settings, scene=scene)
    t0 = time.perf_counter()
    if sampling not in SAMPLINGS:
        raise InputError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    _check_whole(samples=samples, size=size, seed=seed)
    if seed < 0:
        raise InputError(f"seed must be >= 0, got {seed}")
    if not MIN_SAMPLES <= samples <= MAX_SAMPLES:
        raise InputError(f"samples must be at least {MIN_SAMPLES} and at most {MAX_SAMPLES}, got {samples}")
    guess_weight = None if guess_weight is None else number("guess_weight", guess_weight, 0, 1)
    coverage = None if coverage is None else number("coverage", coverage, 0)  # inf and NaN too
    settings = _settings(settings, candidates)
    tpl = load_template(template, allow_large=allow_large)
    one_photo_segments = segments and original is None and not settings.segments_from_guess
    if one_photo_segments:  # the plain fit: it measured better (docs/decisions.md 'segments from one photo')
        segments = False
        warnings.warn(f"{tpl.path or 'template'}: {ONE_PHOTO_SEGMENTS_NOTE}", stacklevel=2)
    if segments:
        if labels is not None:
            raise InputError("segments=True segments the template itself; give labels= with sampling='segments'")
        sampling = "segments"
    if labels is not None and np.shape(labels) != tpl.rgb.shape[:2]:
        raise InputError(f"labels must have the template's shape {tpl.rgb.shape[:2]}, got {np.shape(labels)}")
    template_sha256 = tpl.sha256  # of the photo as read, its border not cut (hidden pixels filled: template.py)
    scene_rgb = tpl.rgb if scene else None  # the scene as read (transparent parts: their nearest visible pixels)
    if original is None:  # one photo: a letterbox or a frame says nothing of the look ('template border')
        shape, tpl = tpl.rgb.shape[:2], tpl.without_border()
        labels, saliency_mask = (inside(m, tpl.border, shape) for m in (labels, saliency_mask))
    p = pairing_for(tpl, original, allow_large=allow_large, monochrome=sampling != "segments",
                    segment_aware=settings.segment_aware_guess == "people"
                    or (segments and settings.segment_aware_guess == "segments"), settings=settings)
    seg = segment_template(p, settings) if segments or sampling == "person" else None
    asked = sampling
    if sampling == "person":  # salient-weighted sampling, the person as the salient region
        sampling, saliency_mask, seg = "salient", seg.mask >= 0.5, None
    elif seg is not None:
        labels = seg.labels
    asked_mapping = mapping
    mapping = mapping or (settings.one_photo_mapping if p.path == "network" else DEFAULT_MAPPING)
    pairs = pixel_pairs(p, sampling=sampling, samples=samples, seed=seed, labels=labels, saliency_mask=saliency_mask)
    # with an original, by the pairs; otherwise by the template (above): on the network path the guess may spread a
    # flat template's colour over the cube
    reason = (ill_defined(pairs.src, f"the original{f' ({Path(p.source).name})' if p.source else ''}")
              if p.path == "original" else tpl.flat)
    weight = 1.0
    prior, prior_change = None, None
    if p.path == "network":
        prior, prior_change = prior_look(tpl, p.template, settings)
        weight = guess_weight if guess_weight is not None else settings.guess_weight(p.change, prior_change)
        pixels = tpl.rgb.shape[0] * tpl.rgb.shape[1]
        if reason and guess_weight is None:
            weight = 0.0  # a guess from a flat template is the network's invention: nothing justifies it
        elif pixels < MIN_PIXELS and guess_weight is None:
            weight *= pixels / MIN_PIXELS
            reason = (f"the template is only {tpl.rgb.shape[1]}x{tpl.rgb.shape[0]} pixels: "
                      f"{round(float(weight), 3):.0%} of the guessed look is kept")
    glob, label_maps = fit_mappings(pairs, mapping, solver)
    seg_errors = None
    if seg is not None:
        label_maps, seg_errors = distinct_segments(pairs, glob, label_maps, settings.segment_min_gain)
    p0 = settings.coverage_p0[p.path] if coverage is None else coverage
    prior_share = settings.prior_share if prior is not None else 0.0
    fitted = glob
    cov = coverage_of(p, pairs)
    # the network's look and the prior's, averaged (segments, if any, keep theirs)
    glob, label_maps = trusted(cov, pairs, fitted, label_maps, p0, weight, prior, prior_share)
    flat_guess = bool(reason) and weight == 0.0  # a guess from a flat template: the network's own invention
    conf = confidence(p, cov, weight, reason, prior_change, settings)
    for why in conf["why"]:
        warnings.warn(f"{tpl.path or 'template'}: {why}", stacklevel=2)
    library_share, readings, skipped = 0.0, [], []
    # a template close to black-and-white that the monochrome path did not take (a toned photo saved as JPEG): its
    # black-and-white reading is offered too (docs/decisions.md 'black-and-white reading'); on the network's path, not
    # flat and not segments, its residual is over MONO_TOL
    near_grey = (p.path == "network" and settings.candidates > 1 and sampling != "segments" and not tpl.flat
                 and tpl.grey < settings.monochrome_reading)
    mono = monochrome_look(tpl.work, samples, seed, solver, asked_mapping or DEFAULT_MAPPING,
                           settings.coverage_p0["monochrome"] if coverage is None else coverage) if near_grey else None
    if original is None:  # several readings of one photo (readings.py)
        glob, library_share, readings, skipped = read_one_photo(
            tpl.work, glob, lambda w: trusted(cov, pairs, fitted, {}, p0, w, prior, prior_share)[0], conf, settings,
            weight=weight, flat_guess=flat_guess, library=p.path == "network", monochrome=mono,
            grey=p.path == "monochrome")
        if settings.candidates > 1 and len(readings) < settings.candidates:
            why = "; ".join((["a flat template has no library readings"] if flat_guess else [])
                            + ([f"left out as near-duplicates: {', '.join(skipped)}"] if skipped else [])
                            ) or "no more readings of it"
            n = len(readings)
            warnings.warn(f"{tpl.path or 'template'}: {n} distinct reading{'s' if n > 1 else ''} of "
                          f"{settings.candidates} asked ({why})", stacklevel=2)
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
        "look_prior": None if prior is None else {"share": settings.prior_share, "change": round(prior_change, 2)},
        "library_share": library_share or None,
        "coverage_p0": float(p0),
        "confidence": conf,
        "samples": int(samples),
        "seed": int(seed),
        "size": int(size),
        "template": tpl.path,
        "original": p.source,
        "template_sha256": template_sha256,
        **({"border": dict(zip(("top", "bottom", "left", "right"), tpl.border))} if tpl.border else {}),
        "labels": sorted(label_maps),
        **({"segments": seg_meta} if seg_meta else {}),
        "ill_defined": reason,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    names = seg.meta()["categories"] if seg is not None else {}
    label_luts = {k: bake(m, size, f"{title} [{names.get(k, k)}]") for k, m in label_maps.items()}
    lut = bake(glob, size, title)
    for i, r in enumerate(readings):
        r.lut = lut if i == 0 else bake(r.mapping, size, f"{title} [{i + 1}: {r.kind}]")
    if readings:
        meta["candidates"] = [r.meta() for r in readings]
        meta["picked"] = 1
        if skipped:
            meta["candidates skipped"] = skipped
    look = Look(lut=lut, mapping=glob, meta=meta, label_mappings=label_maps, label_luts=label_luts,
                defiltered=p.original if p.path == "network" else None, candidates=readings)
    if scene_rgb is not None:
        if (features := template_scene(scene_rgb, tpl.path)) is not None:
            meta["scene"] = features
    meta["fit_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
    return look


def template_scene(rgb: np.ndarray, where=None) -> dict | None:
    """A template's scene features as a look keeps them (``meta["scene"]``), or None with a warning naming
    ``where`` when the scene model fails: the look itself stands (its scene similarity stays 1)."""
    from ..analysis.scene import default_model

    try:
        return default_model().describe(rgb).to_meta()
    except (LiveFilterError, OSError, RuntimeError, ValueError) as exc:
        warnings.warn(f"{where or 'template'}: the look keeps no scene (scene similarity stays 1 with it): {exc}",
                      stacklevel=3)
        return None


# --- several photos of one look -------------------------------------------------------------------------------

#: the most photos :func:`fit_several` takes
MAX_TEMPLATES = 8
#: the readings of several photos: each photo's automatic reading, averaged, then taken this many times as far from
#: doing nothing (a photo the network did not read, a black-and-white one, at most once). Averaging cancels much of
#: what one photo gets wrong, so less hedging is needed: on the 80 validation looks, each learnt from 3 photos,
#: reading 1 scored 7.06 dE00 against 8.06 for one photo's (9 looks worse than doing nothing against 15), the best
#: reading offered 6.42 (docs/decisions.md, 'several photos of one look')
SEVERAL_READINGS = (("automatic", 1.5), ("bold", 2.5), ("gentle", 0.75))


#: what only a one-photo fit takes: the argument and how a refusal names it
_ONE_PHOTO_ONLY = {"original": "an original (--original)", "segments": "segments (--segments)", "labels": "labels",
                   "saliency_mask": "a saliency mask", "guess_weight": "a kept weight (guess_weight)"}


def _one_photo_only(**given) -> str:
    """The names of the one-photo-only arguments given (an array counts as given), or ""."""
    return ", ".join(_ONE_PHOTO_ONLY[k] for k, v in given.items() if v is not None and v is not False)


def fit_several(templates, original=None, *, sampling: str = "uniform", samples: int = 8000, labels=None,
                mapping: str | None = None, solver: str = "lstsq", size: int = 33, seed: int = 0,
                saliency_mask=None, name: str | None = None, allow_large: bool = False,
                guess_weight: float | None = None, coverage: float | None = None, segments: bool = False,
                candidates: int | None = None, settings: FitSettings | None = None, unit: str = "photos",
                names: list | None = None, scene: bool = True) -> Look:
    """A look learnt from several photos in it (2 to MAX_TEMPLATES: shots of one film stock, a creator's feed, frames
    of a film): each photo's automatic reading (as :func:`fit_look` reads one photo), averaged, then taken
    further from doing nothing (SEVERAL_READINGS). Readings: 1 automatic, 2 bold, 3 gentle (those closer than
    settings.min_difference to one taken are left out). The arguments are :func:`fit_look`'s; what several
    photos cannot take (an original, segments, labels, a saliency mask, a fixed kept weight) is refused. ``unit``:
    what the notes and the confidence call the templates (a video's "stills"); ``names``: what the warnings and the
    look's ``meta["templates"]`` call each (a still's "VIDEO at TIME"; default its file, else "template N").
    ``scene``: where every template is a shot of one scene, read as one photo, its scene kept (photos only)."""
    t0 = time.perf_counter()
    templates = list(templates)
    if not 2 <= len(templates) <= MAX_TEMPLATES:
        raise InputError(f"several photos are 2 to {MAX_TEMPLATES}, got {len(templates)}")
    if any(isinstance(t, (list, tuple)) for t in templates):
        raise InputError("each template is a path or a uint8 (H, W, 3) RGB array, not a list")
    if clip := next((t for t in templates if is_video(t)), None):
        raise InputError("a video is read from its stills: give it alone, not with other templates", clip)
    templates = [load_template(t, allow_large=allow_large) for t in templates]  # read once: each fit takes it
    # each as given and without its border (a letterboxed or framed copy is the same picture; as given too: a thin
    # frame a re-saved JPEG's noise hides from the border's detection), its thumbnail made once
    whole = [thumbnail(t.rgb) for t in templates]
    inner = [s if (cut := t.without_border()) is t else thumbnail(cut.rgb) for t, s in zip(templates, whole)]
    named = names is not None  # a video's stills: named by their times
    names = names or [t.path or f"template {i}" for i, t in enumerate(templates, 1)]
    # each fit's own lines name it (a video's still said "template: the network found little to undo")
    templates = [t if t.path or not named else replace(t, path=str(n)) for t, n in zip(templates, names)]
    for i, j in itertools.combinations(range(len(templates)), 2):
        if same_picture(whole[i], whole[j]) or same_picture(inner[i], inner[j]):
            raise InputError(f"{names[i]} and {names[j]} are the same picture (a copy, or stills of one shot): "
                             "several photos count only when they differ")
    if given := _one_photo_only(original=original, segments=segments, labels=labels, saliency_mask=saliency_mask,
                                guess_weight=guess_weight):
        raise InputError(f"several photos are read from their look alone: {given} goes with one photo")
    kept = []  # one shot of each scene: a burst's or a tripod's shots are read once (stills.SAME_SCENE)
    for i in range(len(templates)):
        if (j := next((j for j in kept if same_scene(inner[j], inner[i])), None)) is not None:
            warnings.warn(f"{names[i]}: a shot of the scene in {names[j]} (moved by a few pixels): that scene is read "
                          "once", stacklevel=2)
        else:
            kept.append(i)
    templates, names = [templates[k] for k in kept], [names[k] for k in kept]
    if len(templates) == 1:  # every one a shot of one scene: read as one photo (its scene kept as one photo's is)
        return fit_look(templates[0], sampling=sampling, samples=samples, mapping=mapping, solver=solver, size=size,
                        seed=seed, name=name, allow_large=allow_large, coverage=coverage, candidates=candidates,
                        settings=settings, scene=scene and unit == "photos")
    settings = _settings(settings, candidates)
    one = replace(settings, candidates=1)
    grid = max(size, 33)  # averaged on at least the default lattice, baked at ``size``
    looks = [fit_look(t, sampling=sampling, samples=samples, mapping=mapping, solver=solver, size=grid, seed=seed,
                      allow_large=allow_large, coverage=coverage, settings=one, scene=False) for t in templates]
    # the further reading only where the network read the photo: it undoes that path's hedge. The monochrome path
    # is not hedged; taken further, its desaturation went past grey (colours inverted)
    network = [lk.meta.get("guess_weight") is not None for lk in looks]
    if any(network) and not all(network):
        grey = ", ".join(n for n, net in zip(names, network) if not net)
        warnings.warn(f"{grey}: read as black-and-white, the other {unit} in colour: the look averages both",
                      stacklevel=2)
    ident = identity_table(grid)
    changes = [lk.lut.table - ident for lk in looks]
    confs = [lk.meta["confidence"] for lk in looks]
    kept = [c["kept"] for c, net in zip(confs, network) if net]
    levels = ("low", "medium", "high")
    level = min((c["level"] for c in confs), key=levels.index)
    why = [f"{n}: {w}" for n, c in zip(names, confs) for w in c.get("why", [])]

    def reading(kind: str, strength: float) -> Reading:
        # the photos weigh alike: weighted by their kept weight or coverage, or a median, did no better on both splits
        # (docs/decisions.md, 'several photos weighted by confidence')
        change = np.mean([d * (strength if net else min(strength, 1.0)) for d, net in zip(changes, network)], axis=0)
        conf = {"level": level, "coverage": max(c["coverage"] for c in confs),
                "kept": round(min(1.0, strength * float(np.mean(kept))), 3) if kept else 1.0,
                "photos": len(templates), "unit": unit, "why": why}
        return Reading(kind, TableMapping(np.clip(ident + change, *BAKE_RANGE)), conf,
                       note=f"{len(templates)} {unit}, their automatic readings averaged at {strength:.0%}")

    pool = [reading(kind, s) for kind, s in SEVERAL_READINGS]
    readings, skipped = select(pool[0], pool[1:], settings.candidates, settings.min_difference,
                               [kind for kind, _ in SEVERAL_READINGS])
    title = name or (Path(looks[0].meta["template"]).stem if looks[0].meta.get("template") else "livefilter look")
    for i, r in enumerate(readings):
        r.lut = bake(r.mapping, size, title if i == 0 else f"{title} [{i + 1}: {r.kind}]")
    meta = {
        "name": title,
        "version": __version__,
        "mapping": ", ".join(sorted({lk.meta["mapping"] for lk in looks})),
        "solver": solver,
        "sampling": sampling,
        "confidence": readings[0].confidence,
        "samples": int(samples),
        "seed": int(seed),
        "size": int(size),
        "templates": [{k: lk.meta.get(k) for k in ("template", "template_sha256", "original", "guess_weight",
                                                     "confidence", "border") if lk.meta.get(k) is not None}
                      | ({"template": n} if named else {}) for lk, n in zip(looks, names)],
        "several": {"photos": len(templates), "strengths": dict(SEVERAL_READINGS)},
        "original": f"{len(templates)} {unit}",
        "labels": [],
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    if settings.candidates > 1:
        meta["candidates"] = [r.meta() for r in readings]
        meta["picked"] = 1
        if skipped:
            meta["candidates skipped"] = skipped
    look = Look(lut=readings[0].lut, mapping=readings[0].mapping, meta=meta,
                candidates=readings if settings.candidates > 1 else [])
    meta["fit_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
    return look


def fit_video(path, stills=None, **kw) -> Look:
    """A look from a video: ``stills`` (label, RGB) pairs of it (default :func:`video_stills`) read as several photos
    (one still: as one photo); each still's label ("PATH at TIME") stands for its template in the look's metadata.
    ``kw``: :func:`fit_look`'s arguments."""
    # what several photos refuse, refused for every video (one still shot too, read as one photo), naming the file
    if given := _one_photo_only(**{k: kw.get(k) for k in _ONE_PHOTO_ONLY}):
        raise InputError(f"a video is read from its stills' look alone: {given} goes with one photo", path)
    stills = video_stills(path) if stills is None else stills
    kw["name"] = kw.get("name") or Path(path).stem
    images = [rgb for _, rgb in stills]
    # one still: read as one photo, without a scene (a video has no one scene)
    look = (fit_several(images, unit="stills", names=[label for label, _ in stills], **kw) if len(images) > 1 else
            fit_look(replace(load_template(images[0]), path=stills[0][0]), scene=False, **kw))  # named in its lines
    # one still, or shots of one scene read as one (the first): its template is its label, as it was fitted
    look.meta["video"] = str(path)
    return look
