"""Where to take the pixel pairs a mapping is fitted from (docs/method.md section 2).

Each sampler returns flat pixel indices into an (H, W) image; a fixed ``seed`` makes a fit reproducible.
``valid`` (optional bool (H, W)) excludes pixels, e.g. transparent ones.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import InputError

MIN_SAMPLES = 4000
# "person": salient-weighted with the segmenter's person mask as the salient region (fit_look makes the mask)
SAMPLINGS = ("uniform", "salient", "person", "segments")
# Both images are area-downscaled to this long side before sampling: it averages JPEG noise out of the pixel
# pairs and makes sampling cost independent of the photo's size.
WORK_SIDE = 512
# The most pixel pairs a fit takes: every pixel of the downscaled images (WORK_SIDE^2 for a square photo). More
# samples would only repeat pixels (they are drawn with replacement) while the fit's memory grows with their number.
MAX_SAMPLES = WORK_SIDE * WORK_SIDE
MIN_SEGMENT_RATIO = 0.1


def _pick(candidates: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    if candidates.size == 0 or n <= 0:
        return np.empty(0, dtype=np.int64)
    replace = n > candidates.size
    return rng.choice(candidates, size=n, replace=replace)


def _candidates(shape, valid):
    h, w = shape
    if valid is None:
        return np.arange(h * w, dtype=np.int64)
    valid = np.asarray(valid, dtype=bool)
    if valid.shape != (h, w):
        raise InputError(f"expected a valid-pixel mask of shape {(h, w)}, got {valid.shape}")
    idx = np.flatnonzero(valid)
    if idx.size == 0:
        raise InputError("no valid (opaque) pixels to sample")
    return idx


def sample_uniform(shape, n: int, seed: int = 0, valid=None) -> np.ndarray:
    """``n`` pixel indices drawn uniformly (without replacement when the image has enough pixels)."""
    return _pick(_candidates(shape, valid), n, np.random.default_rng(seed))


def saliency_mask(rgb: np.ndarray) -> np.ndarray:
    """Salient region of an RGB uint8 image: OpenCV's spectral-residual saliency, smoothed, Otsu-thresholded."""
    sal = cv2.saliency.StaticSaliencySpectralResidual_create()
    ok, smap = sal.computeSaliency(np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        return np.zeros(rgb.shape[:2], dtype=bool)
    smap = cv2.GaussianBlur(smap.astype(np.float32), (0, 0), max(1.0, min(rgb.shape[:2]) / 64))
    u8 = cv2.normalize(smap, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    _, mask = cv2.threshold(u8, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return mask > 0


def sample_salient(rgb: np.ndarray, n: int, seed: int = 0, mask=None, valid=None) -> np.ndarray:
    """N*T samples inside the salient region and N*(1-T) outside, T = 0.5 + 0.5 t (t = region area ratio).

    ``mask`` is a caller's bool (H, W) salient region; by default spectral-residual saliency finds one. With no
    salient region (or all of it salient) this is uniform sampling.
    """
    shape = rgb.shape[:2]
    cand = _candidates(shape, valid)
    sal = saliency_mask(rgb) if mask is None else np.asarray(mask, dtype=bool)
    if sal.shape != shape:
        raise InputError(f"expected a saliency mask of shape {shape}, got {sal.shape}")
    inside_flag = sal.ravel()[cand]
    inside, outside = cand[inside_flag], cand[~inside_flag]
    rng = np.random.default_rng(seed)
    if inside.size == 0 or outside.size == 0:
        return _pick(cand, n, rng)
    t = inside.size / cand.size
    n_in = int(round(n * (0.5 + 0.5 * t)))
    return np.concatenate([_pick(inside, n_in, rng), _pick(outside, n - n_in, rng)])


def sample_segments(labels: np.ndarray, n: int, seed: int = 0, valid=None,
                    min_ratio: float = MIN_SEGMENT_RATIO) -> dict[int, np.ndarray]:
    """Per segment label with area ratio r >= ``min_ratio``: N*r pixel indices from that segment.

    ``labels`` is an integer (H, W) map. Returns {label: indices}.
    """
    labels = np.asarray(labels)
    if labels.ndim != 2 or not np.issubdtype(labels.dtype, np.integer):
        raise InputError(f"expected an integer (H, W) label map, got {labels.dtype} {labels.shape}")
    cand = _candidates(labels.shape, valid)
    lab = labels.ravel()[cand]
    rng = np.random.default_rng(seed)
    values, counts = np.unique(lab, return_counts=True)
    out: dict[int, np.ndarray] = {}
    for v, c in zip(values, counts):
        r = c / cand.size
        if r >= min_ratio:
            out[int(v)] = _pick(cand[lab == v], max(int(round(n * r)), 1), rng)
    return out


def downscale(a: np.ndarray, side: int, interp=cv2.INTER_AREA) -> np.ndarray:
    h, w = a.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return a
    return cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=interp)


def sample_pairs(template: np.ndarray, original: np.ndarray, *, sampling: str = "uniform", samples: int = 8000,
                 seed: int = 0, labels=None, saliency_mask=None, alpha=None):
    """The colour pairs a look is fitted from, as float (n, 3) arrays in [0, 1]: (original, template, per_label).

    ``template`` and ``original`` are same-size uint8 RGB arrays; ``per_label`` maps each segment label (with
    ``sampling="segments"``) to its own (original, template) pairs; the returned global pairs are uniform samples
    of the whole template, the pairs ``sampling="uniform"`` gives.
    """
    tpl_w, orig_w = downscale(template, WORK_SIDE), downscale(original, WORK_SIDE)
    valid = None if alpha is None else downscale(alpha, WORK_SIDE) >= 128
    src = orig_w.reshape(-1, 3).astype(np.float64) / 255.0
    dst = tpl_w.reshape(-1, 3).astype(np.float64) / 255.0
    shape = tpl_w.shape[:2]
    per_label: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if sampling == "uniform":
        idx = sample_uniform(shape, samples, seed, valid)
    elif sampling == "salient":
        sal = None
        if saliency_mask is not None:
            sal = downscale(np.asarray(saliency_mask, np.uint8), WORK_SIDE, cv2.INTER_NEAREST) > 0
        idx = sample_salient(orig_w, samples, seed, mask=sal, valid=valid)
    elif sampling == "segments":
        if labels is None:
            raise InputError("sampling='segments' needs a label map (labels=...)")
        labels = np.asarray(labels)
        if labels.shape != template.shape[:2]:
            raise InputError(f"labels must have the template's shape {template.shape[:2]}, got {labels.shape}")
        lab_w = downscale(labels.astype(np.int32), WORK_SIDE, cv2.INTER_NEAREST)
        groups = {k: v for k, v in sample_segments(lab_w, samples, seed, valid).items() if k >= 0}
        if not groups:
            raise InputError("no segment covers 10% of the template; use another sampling")
        per_label = {lab: (src[i], dst[i]) for lab, i in groups.items()}
        # the global mapping sees the whole template (the soft edge between segments and segments under 10 %
        # included) from exactly the pairs a plain fit draws: a look whose segments all take the global look is
        # then the plain look itself
        idx = sample_uniform(shape, samples, seed, valid)
    else:
        raise InputError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    return src[idx], dst[idx], per_label


def ill_defined(src: np.ndarray, what: str = "the template") -> str | None:
    """A reason the samples cannot define a look (too few distinct colours), or None; ``what`` the picture they are
    the colours of (with --original, the original)."""
    src = np.asarray(src).reshape(-1, 3)
    q = np.unique((np.clip(src, 0, 1) * 15.999).astype(np.int32) @ np.array([256, 16, 1]))
    if q.size < 8:
        return f"{what} has only {q.size} distinct colour(s); the look is ill-defined and stays close to identity"
    if float(np.std(src)) < 0.01:
        return f"{what} is nearly flat; the look is ill-defined and stays close to identity"
    return None
