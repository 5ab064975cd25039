"""A look: the fitted colour mapping(s), their baked LUT(s), and where they came from.

Template path: load -> (de-filter, when no original is given) -> sample -> fit -> bake (section 2-3 of
method.md). A look saves losslessly as ``.look.npz`` and exports to ``.cube`` / HaldCLUT ``.png``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from . import __version__
from .errors import InputError, LiveFilterError
from .fileio import atomic_output
from .imageio import read_image
from .lut import Lut, identity_table
from .luts import read_lut, write_lut
from .mapping import fit_mapping, ill_defined, mapping_from_dict
from .render import grade_float, render
from .sampling import MIN_SAMPLES, sample_salient, sample_segments, sample_uniform

SAMPLINGS = ("uniform", "salient", "segments")
LOOK_EXT = ".look.npz"
DEFAULT_MAPPING = "residual"
# Learning from ONE photo, the network's guess of the original is noisy: the seed's quartic (27 parameters) follows
# it less than the residual grid does, and only part of the fitted look is kept (the rest is identity), the more
# the further the network moved the template (d, mean change in code values at the preset size): a small change
# is mostly noise, a large one a real look. w = clip(a + b d, 0, 1), fitted on TRAINING looks and photos only
# (tools/tune_oneshot.py; training film looks 6.81 dE00 with a constant 0.8, 6.65 with the rule).
ONE_PHOTO_MAPPING = "seed"
GUESS_WEIGHT_RULE = (0.05, 0.055)


def guess_weight_for(change: float) -> float:
    """How much of a look learnt through the de-filter network is kept, from how far the network moved the
    template (mean absolute change in code values)."""
    a, b = GUESS_WEIGHT_RULE
    return float(np.clip(a + b * change, 0.0, 1.0))


# Both images are area-downscaled to this long side before sampling: it averages JPEG noise out of the pixel
# pairs and makes sampling cost independent of the photo's size.
WORK_SIDE = 512
# Template and original must have the same aspect ratio within this tolerance to be resized to each other.
ASPECT_TOLERANCE = 0.01


@dataclass(eq=False)
class Look:
    """A fitted look. ``lut`` is the baked global LUT; ``label_luts`` the per-segment ones (if fitted)."""

    lut: Lut
    mapping: object | None = None
    label_mappings: dict = field(default_factory=dict)
    label_luts: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    #: the de-filter network's guess of the template's original (preset size), when it ran; not saved
    defiltered: np.ndarray | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.lut.title or "look"

    def apply(self, image: np.ndarray, *, mode: str = "lut", strength: float = 1.0, interp: str = "trilinear",
              degree=None, labels: np.ndarray | None = None, channels: str = "rgb") -> np.ndarray:
        """Grade a uint8 (H, W, 3) image. ``mode="direct"`` evaluates the mapping per pixel (exact, slow);
        ``"lut"`` uses the baked LUT. ``labels`` (H, W) picks each segment's own mapping where one was fitted.
        """
        if mode == "lut":
            out = render(image, self.lut, degree=degree, strength=strength, interp=interp, channels=channels)
            for lab, lut in self.label_luts.items():
                if labels is not None and (mask := labels == lab).any():
                    seg = render(image, lut, degree=degree, strength=strength, interp=interp, channels=channels)
                    out[mask] = seg[mask]
            return out
        if mode != "direct":
            raise InputError(f"mode must be 'lut' or 'direct', got {mode!r}")
        if self.mapping is None:
            raise InputError("this look was loaded from a LUT file and has no mapping; use mode='lut'")

        def colours(x):
            y = self.mapping(x)
            if labels is not None:
                for lab, m in self.label_mappings.items():
                    mask = labels == lab
                    if mask.any():
                        y[mask] = m(x[mask])
            return y

        return grade_float(image, colours, degree=degree, strength=strength, channels=channels)

    def save(self, path: str | os.PathLike, *, inputs: tuple = ()) -> Path:
        """Save by extension: ``.look.npz`` (everything, lossless), ``.cube`` or HaldCLUT ``.png`` (the LUT)."""
        p = Path(path)
        name = p.name.lower()
        if name.endswith(LOOK_EXT):
            return self._save_npz(p, inputs)
        if name.endswith(".cube"):
            comments = [f"made by livefilter {self.meta.get('version', __version__)}"]
            comments += [f"{k}: {v}" for k, v in self.meta.items() if k in ("mapping", "sampling", "samples",
                                                                               "template", "template_sha256")]
            return write_lut(p, self._titled_lut(), comments=comments, inputs=inputs)
        if name.endswith(".png"):
            return write_lut(p, self.lut, inputs=inputs)
        raise InputError(f"unknown look format; use {LOOK_EXT}, .cube or .png (HaldCLUT)", p)

    def _titled_lut(self) -> Lut:
        return Lut(self.lut.table, title=self.name, domain_min=self.lut.domain_min, domain_max=self.lut.domain_max)

    def _save_npz(self, p: Path, inputs) -> Path:
        arrays = {"lut": self.lut.table, "lut_domain": np.array([self.lut.domain_min, self.lut.domain_max])}
        if self.mapping is not None:
            arrays.update({f"map_{k}": np.asarray(v) for k, v in self.mapping.to_dict().items()})
        for lab, m in self.label_mappings.items():
            arrays.update({f"label{lab}_{k}": np.asarray(v) for k, v in m.to_dict().items()})
            arrays[f"label{lab}_lut"] = self.label_luts[lab].table
        arrays["meta"] = np.array(json.dumps(self.meta | {"lut_title": self.lut.title}))
        with atomic_output(p, inputs) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        return p


def _mapping_from(arrays, prefix):
    d = {k[len(prefix):]: arrays[k] for k in arrays.files if k.startswith(prefix) and not k.endswith("_lut")}
    return mapping_from_dict(d) if d else None


def load_look(path: str | os.PathLike) -> Look:
    """Load a look saved as ``.look.npz``, or a ``.cube`` / HaldCLUT ``.png`` LUT as a look."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", p)
    if not p.name.lower().endswith(LOOK_EXT) and not p.name.lower().endswith(".npz"):
        lut = read_lut(p)
        return Look(lut=lut, meta={"name": lut.title or p.stem, "source": str(p)})
    try:
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            dom = z["lut_domain"]
            lut = Lut(z["lut"], title=meta.pop("lut_title", ""), domain_min=tuple(dom[0]), domain_max=tuple(dom[1]))
            mapping = _mapping_from(z, "map_")
            labels = sorted({int(k[5:].split("_")[0]) for k in z.files if k.startswith("label")})
            label_mappings = {lab: _mapping_from(z, f"label{lab}_") for lab in labels}
            label_luts = {lab: Lut(z[f"label{lab}_lut"]) for lab in labels}
    except LiveFilterError as exc:
        raise InputError(f"corrupt look file: {exc.problem}", p) from None
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, json.JSONDecodeError, EOFError) as exc:
        raise InputError(f"not a livefilter look file or corrupt ({type(exc).__name__}: {exc})", p) from None
    return Look(lut=lut, mapping=mapping, label_mappings=label_mappings, label_luts=label_luts, meta=meta)


# The baked table keeps values outside [0, 1] (renderers clip after interpolating): clipping at the nodes
# would put the clip's kink between nodes, where trilinear interpolation misses it by up to 2.4 code values
# (measured); unclipped, the baked LUT stays within 1 code value of the direct calculation. The wide bounds
# only keep absurd extrapolated corners out of files.
BAKE_RANGE = (-1.0, 2.0)


def bake(mapping, size: int = 33, title: str = "") -> Lut:
    """Evaluate ``mapping`` on a size^3 grid as a :class:`Lut` (see BAKE_RANGE)."""
    grid = identity_table(size)
    return Lut(np.clip(mapping(grid.reshape(-1, 3)), *BAKE_RANGE).reshape(grid.shape), title=title)


def _load_rgb(img, what: str, *, allow_large=False):
    if isinstance(img, (str, os.PathLike)):
        rgb, alpha = read_image(img, with_alpha=True, min_size=2, allow_large=allow_large)
        return rgb, alpha, str(img)
    arr = np.asarray(img)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise InputError(f"expected the {what} as a path or a uint8 (H, W, 3) RGB array, got {arr.dtype} {arr.shape}")
    if min(arr.shape[:2]) < 2:
        raise InputError(f"the {what} is {arr.shape[1]}x{arr.shape[0]}; need at least 2x2 pixels")
    return arr, None, None


def _downscale(a: np.ndarray, side: int, interp=cv2.INTER_AREA) -> np.ndarray:
    h, w = a.shape[:2]
    s = side / max(h, w)
    if s >= 1:
        return a
    return cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=interp)


def _match_size(original, template, path):
    (th, tw), (oh, ow) = template.shape[:2], original.shape[:2]
    if (th, tw) == (oh, ow):
        return original
    if abs(tw / th - ow / oh) > ASPECT_TOLERANCE * (tw / th):
        raise InputError(
            f"original is {ow}x{oh} but the template is {tw}x{th}: different aspect ratios, so their pixels do not "
            "correspond; crop them to the same framing", path)
    warnings.warn(f"{path or 'original'}: {ow}x{oh} resized to the template's {tw}x{th}", stacklevel=3)
    interp = cv2.INTER_AREA if ow > tw else cv2.INTER_LINEAR
    return cv2.resize(original, (tw, th), interpolation=interp)


def sample_pairs(template: np.ndarray, original: np.ndarray, *, sampling: str = "uniform", samples: int = 8000,
                 seed: int = 0, labels=None, saliency_mask=None, alpha=None):
    """The colour pairs a look is fitted from, as float (n, 3) arrays in [0, 1]: (original, template, per_label).

    ``template`` and ``original`` are same-size uint8 RGB arrays; ``per_label`` maps each segment label (with
    ``sampling="segments"``) to its own (original, template) pairs; the returned global pairs are their union.
    """
    tpl_w, orig_w = _downscale(template, WORK_SIDE), _downscale(original, WORK_SIDE)
    valid = None if alpha is None else _downscale(alpha, WORK_SIDE) >= 128
    src = orig_w.reshape(-1, 3).astype(np.float64) / 255.0
    dst = tpl_w.reshape(-1, 3).astype(np.float64) / 255.0
    shape = tpl_w.shape[:2]
    per_label: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    if sampling == "uniform":
        idx = sample_uniform(shape, samples, seed, valid)
    elif sampling == "salient":
        sal = None
        if saliency_mask is not None:
            sal = _downscale(np.asarray(saliency_mask, np.uint8), WORK_SIDE, cv2.INTER_NEAREST) > 0
        idx = sample_salient(orig_w, samples, seed, mask=sal, valid=valid)
    elif sampling == "segments":
        if labels is None:
            raise InputError("sampling='segments' needs a label map (labels=...)")
        labels = np.asarray(labels)
        if labels.shape != template.shape[:2]:
            raise InputError(f"labels must have the template's shape {template.shape[:2]}, got {labels.shape}")
        lab_w = _downscale(labels.astype(np.int32), WORK_SIDE, cv2.INTER_NEAREST)
        groups = sample_segments(lab_w, samples, seed, valid)
        if not groups:
            raise InputError("no segment covers 10% of the template; use another sampling")
        per_label = {lab: (src[i], dst[i]) for lab, i in groups.items()}
        idx = np.concatenate(list(groups.values()))
    else:
        raise InputError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    return src[idx], dst[idx], per_label


def fit_look(template, original=None, *, sampling: str = "uniform", samples: int = 8000, labels=None,
             mapping: str | None = None, solver: str = "lstsq", size: int = 33, seed: int = 0,
             saliency_mask=None, name: str | None = None, allow_large: bool = False,
             guess_weight: float | None = None) -> Look:
    """Learn a look from a template photo (and, optionally, the same photo before its filter).

    Args:
        template: path or uint8 (H, W, 3) RGB array of the photo whose look is wanted.
        original: the same photo without the look (path or array). Without it the de-filter network guesses it.
        sampling: "uniform", "salient" (more samples on the salient object) or "segments" (needs ``labels``).
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
    """
    from threadpoolctl import threadpool_limits

    t0 = time.perf_counter()
    if sampling not in SAMPLINGS:
        raise InputError(f"sampling must be one of {SAMPLINGS}, got {sampling!r}")
    if samples < MIN_SAMPLES:
        raise InputError(f"samples must be at least {MIN_SAMPLES}, got {samples}")
    tpl, alpha, tpath = _load_rgb(template, "template", allow_large=allow_large)
    tpl_hash = hashlib.sha256(np.ascontiguousarray(tpl).tobytes()).hexdigest()
    guess = None
    mono = None
    if original is None:
        from .defilter import defilter, guess_change, is_monochrome, monochrome_pairs

        probe = _downscale(tpl, WORK_SIDE)  # the monochrome statistics need no more (12 MP: one resize, not three)
        if is_monochrome(probe) and sampling != "segments":
            mono = monochrome_pairs(probe, samples, seed)  # a B&W look is written down, only its curve guessed
            orig, opath = tpl, "monochrome path"
        else:
            tpl, orig = defilter(tpl)  # both at the network's preset size, pixel-aligned
            opath, guess = "de-filter network", orig
            mapping = mapping or ONE_PHOTO_MAPPING
            if alpha is not None:
                alpha = cv2.resize(alpha, tpl.shape[1::-1], interpolation=cv2.INTER_AREA)
    elif isinstance(original, (str, os.PathLike)) and tpath and Path(original).resolve() == Path(tpath).resolve():
        raise InputError("the original is the template itself; give the photo before its look", original)
    else:
        orig, _, opath = _load_rgb(original, "original", allow_large=allow_large)
        orig = _match_size(orig, tpl, opath)
    mapping = mapping or DEFAULT_MAPPING
    if mono is not None:
        (src, dst), per_label = mono, {}
    else:
        src, dst, per_label = sample_pairs(tpl, orig, sampling=sampling, samples=samples, seed=seed, labels=labels,
                                           saliency_mask=saliency_mask, alpha=alpha)
    if guess is not None:
        if guess_weight is None:
            guess_weight = guess_weight_for(guess_change(tpl, guess))
        if not 0 <= guess_weight <= 1:
            raise InputError(f"guess_weight must be in [0, 1], got {guess_weight}")
        # both mappings are linear in the targets with identity in their span, so blending the targets blends
        # the fitted look with identity
        dst = src + guess_weight * (dst - src)
        per_label = {k: (s, s + guess_weight * (d - s)) for k, (s, d) in per_label.items()}
    # a monochrome template's pairs are synthetic colours: whether the look is defined depends on the template
    # (nearest-neighbour downscale: the verdict of the whole template, without averaging new colours in; 12 MP took
    # 430 ms at full size)
    reason = ill_defined(_downscale(tpl, WORK_SIDE, cv2.INTER_NEAREST).reshape(-1, 3) / 255.0 if mono is not None
                         else src)
    if reason:
        warnings.warn(f"{tpath or 'template'}: {reason}", stacklevel=2)
    with threadpool_limits(1):  # BLAS threads only add overhead on these small solves (47 vs 120 ms measured)
        glob = fit_mapping(src, dst, mapping, solver=solver)
        label_maps = {lab: fit_mapping(s, d, mapping, solver=solver) for lab, (s, d) in per_label.items()}
    title = name or (Path(tpath).stem if tpath else "livefilter look")
    meta = {
        "name": title,
        "version": __version__,
        "mapping": mapping,
        "solver": solver,
        "sampling": sampling,
        "guess_weight": float(guess_weight) if guess is not None else None,
        "samples": int(samples),
        "seed": int(seed),
        "size": int(size),
        "template": tpath,
        "original": opath,
        "template_sha256": tpl_hash,
        "labels": sorted(per_label),
        "ill_defined": reason,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    label_luts = {k: bake(m, size, f"{title} [{k}]") for k, m in label_maps.items()}
    look = Look(lut=bake(glob, size, title), mapping=glob, meta=meta, label_mappings=label_maps, label_luts=label_luts,
                defiltered=guess)
    meta["fit_ms"] = round((time.perf_counter() - t0) * 1e3, 1)
    return look
