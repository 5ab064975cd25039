"""A look: the fitted colour mapping(s), their baked LUT(s), where they came from and how sure the fit is.

A look saves losslessly as ``.look.npz`` and exports to ``.cube`` / HaldCLUT ``.png``.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import __version__
from ..errors import InputError, LiveFilterError
from ..fileio import atomic_output
from ..lut import Lut, identity_table
from ..luts import format_of, read_lut, write_lut
from ..render import grade_float, render
from .coverage import CoveredMapping
from .mapping import mapping_from_dict

LOOK_EXT = ".look.npz"


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
        fmt = format_of(p)
        if fmt is not None and fmt.name == "look":
            return self._save_npz(p, inputs)
        if fmt is None or fmt.write is None:
            raise InputError(f"unknown look format; use {LOOK_EXT}, .cube or .png (HaldCLUT)", p)
        comments = [f"made by livefilter {self.meta.get('version', __version__)}"]
        comments += [f"{k}: {v}" for k, v in self.meta.items() if k in ("mapping", "sampling", "samples",
                                                                           "template", "template_sha256")]
        if "confidence" in self.meta:
            from .fit import describe_confidence

            comments.append(f"confidence: {describe_confidence(self.meta['confidence'])}")
        extra = {"comments": comments} if fmt.name == "cube" else {}
        return write_lut(p, self.lut.retitled(self.name), inputs=inputs, **extra)

    def _save_npz(self, p: Path, inputs) -> Path:
        arrays = {"lut": self.lut.table, "lut_domain": np.array([self.lut.domain_min, self.lut.domain_max])}
        if self.lut.shaper is not None:  # a loaded 1D or shaper + 3D file keeps its first stage
            arrays["lut_shaper"] = self.lut.shaper
            arrays["lut_shaper_range"] = np.array([self.lut.shaper_min, self.lut.shaper_max])
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
    if not d:
        return None
    return CoveredMapping.from_dict(d, mapping_from_dict) if str(d["kind"]) == "covered" else mapping_from_dict(d)


def _cube_header(path: Path) -> dict:
    """The "# key: value" lines livefilter writes at the top of a .cube (the fit's confidence among them)."""
    out = {}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].strip().partition(": ")
            if sep and key == "confidence":
                out["confidence text"] = value
    return out


def load_look(path: str | os.PathLike) -> Look:
    """Load a look saved as ``.look.npz``, or a ``.cube`` / HaldCLUT ``.png`` LUT as a look."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such file", p)
    fmt = format_of(p)
    if fmt is None or fmt.name != "look":
        lut = read_lut(p)
        meta = {"name": lut.title or p.stem, "source": str(p)}
        if fmt is not None and fmt.name == "cube":
            meta |= _cube_header(p)
        return Look(lut=lut, meta=meta)
    try:
        with open(p, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            dom = z["lut_domain"]
            shaper = {}
            if "lut_shaper" in z.files:
                rng = z["lut_shaper_range"]
                shaper = {"shaper": z["lut_shaper"], "shaper_min": tuple(rng[0]), "shaper_max": tuple(rng[1])}
            lut = Lut(z["lut"], title=meta.pop("lut_title", ""), domain_min=tuple(dom[0]), domain_max=tuple(dom[1]),
                      **shaper)
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
