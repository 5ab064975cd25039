"""A look: the fitted colour mapping(s), their baked LUT(s), where they came from and how sure the fit is.

A look saves losslessly as ``.look.npz`` and exports to ``.cube`` / HaldCLUT ``.png``.
"""

from __future__ import annotations

import contextlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from .._version import __version__
from ..analysis.segments import person_mask
from ..errors import InputError, LiveFilterError, OutputError
from ..fileio import atomic_output, atomic_outputs
from ..luts import format_of, read_lut, write_lut
from ..luts.lut import Lut, identity_table, resample
from ..render import as_lut, check_segment_mask, grade_float, render, render_segments
from ..render.checks import check_render_args, check_strength
from .character import character
from .coverage import blend_table, mapping_from_any
from .readings import Reading, reading_confidence

LOOK_EXT = ".look.npz"


def describe_confidence(conf: dict | None) -> str:
    """One line for the user: the level, what it rests on, and why when weak."""
    if not conf:
        return "unknown (not fitted by livefilter)"
    parts = [f"colours cover {conf['coverage']:.0%} of the cube"]
    if conf.get("photos"):
        parts = [f"{conf['photos']} {conf.get('unit', 'photos')}, their readings averaged, "
                 f"{conf['kept']:.0%} of the guessed look kept",
                 f"colours cover up to {conf['coverage']:.0%} of the cube"]
    if conf.get("guess_change") is not None:
        prior = (f", the look prior {conf['prior_change']:.1f}" if conf.get("prior_change") is not None else "")
        parts.append(f"network moved the template {conf['guess_change']:.1f} code values{prior}, "
                     f"{conf['kept']:.0%} of the guessed look kept")
    text = f"{conf['level']} ({'; '.join(parts)})"
    return text + (f": {'; '.join(conf['why'])}" if conf.get("why") else "")


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
    #: a one-photo fit's distinct readings (:class:`livefilter.look.readings.Reading`, each with its baked
    #: ``lut``), candidate 1 the automatic one; the look's own LUT is the picked one (``meta["picked"]``)
    candidates: list = field(default_factory=list, repr=False)

    def __repr__(self) -> str:  # one line, not the LUT's numbers
        parts = [repr(self.name), f"{self.lut.size}^3 LUT" if self.lut.kind == "3D" else f"{self.lut.kind} LUT"]
        if self.candidates:
            parts.append(f"reading {self.picked} of {len(self.candidates)} "
                         f"({self.candidates[self.picked - 1].kind})")
        elif "reading" in self.meta:  # one reading, kept alone (a .cube of it, with_strength): which it was
            parts.append(f"from reading {reading_text(self.meta['reading'], short=True)}")
        if self.label_luts:
            parts.append(f"{len(self.label_luts)} per-segment LUTs")
        conf = (self.candidates[self.picked - 1].confidence if self.candidates else
                self.meta["reading"].get("confidence") if isinstance(self.meta.get("reading"), dict) else
                self.meta.get("confidence"))
        level = (conf or {}).get("level") or str(self.meta.get("confidence text", "")).split(" (")[0]
        if level:
            parts.append(f"confidence {level}")
        if "strength" in self.meta:
            parts.append(f"strength {self.meta['strength']}")
        return f"Look({', '.join(parts)})"

    def held_reading(self) -> dict | None:
        """The reading this look's LUT is, when it is not reading 1 (picked among its readings, or one kept alone:
        a live save, with_strength): its meta with "number" and "of"; None otherwise."""
        reading = (self.candidates[self.picked - 1].meta() | {"number": self.picked, "of": len(self.candidates)}
                   if self.candidates else self.meta.get("reading"))
        return reading if isinstance(reading, dict) and reading.get("number", 2) > 1 else None

    def confidence_text(self) -> str | None:
        """The confidence of the reading the LUT is, in words (a reading's own, not reading 1's, which the look's
        meta keeps); a .cube's header line when read back; None when unknown."""
        if (reading := self.held_reading()) is not None:
            return reading_confidence(reading)
        if "confidence" in self.meta:
            return describe_confidence(self.meta["confidence"])
        return self.meta.get("confidence text")

    @property
    def character(self) -> str:
        """What the look's LUT does, in a few words ("warmer, teal shadows, lifted blacks"): its cast, tints,
        brightness, contrast, black and white points and saturation (:func:`livefilter.look.character.character`)."""
        return character(self.lut)

    @property
    def picked(self) -> int:
        """Which candidate the look's LUT is (1-based; 1 for a look without candidates)."""
        return int(self.meta.get("picked", 1))

    def pick(self, n: int) -> Look:
        """The same look with candidate ``n`` (1-based) as its LUT: a new Look, its candidates kept."""
        count = max(1, len(self.candidates))
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):  # 2.5 or "2" was taken as 2
            raise InputError(f"a reading is picked by its number (1..{count}), got {n!r}")
        if not 1 <= int(n) <= count:
            raise InputError(f"there is no reading {n}: this look has {count} (1..{count})")
        if not self.candidates:
            return self
        r = self.candidates[int(n) - 1]
        meta = self.meta | {"picked": int(n)}
        return Look(lut=r.lut, mapping=r.mapping, meta=meta, defiltered=self.defiltered, candidates=self.candidates)

    def with_strength(self, strength: float) -> Look:
        """This look at ``strength`` (the rest identity) baked into its LUT: what a user saves after choosing a
        strength. Per-segment LUTs are scaled alike. Strengths compound: a look at 0.5 taken at 0.5 is at 0.25 (its
        metadata said 0.5)."""
        strength = check_strength(strength)
        if strength >= 1.0 and not self.candidates:
            return self

        def scaled(lut: Lut) -> Lut:
            if strength >= 1.0:
                return lut
            # a 1D, shaper or non-unit-domain LUT first as a plain table over [0, 1], fine enough for its curves
            base = lut if lut.unit_domain and lut.shaper is None else resample(lut, max(lut.size, 65))
            return Lut(blend_table(np.clip(base.table, 0, 1), None, 0.0, strength), title=lut.title)

        meta = {k: v for k, v in self.meta.items() if k not in ("candidates", "picked", "candidates skipped")}
        if self.candidates:  # which reading it was, with its own confidence (the look's is reading 1's)
            meta["reading"] = self.candidates[self.picked - 1].meta() | {"number": self.picked,
                                                                         "of": len(self.candidates)}
        total = strength * float(self.meta.get("strength", 1.0))
        return Look(lut=scaled(self.lut), meta=meta | {"strength": round(total, 3)},
                    label_luts={k: scaled(v) for k, v in self.label_luts.items()})

    @property
    def name(self) -> str:
        return self.meta.get("name") or self.lut.title or "look"

    @property
    def categories(self) -> dict[int, str]:
        """Segment label -> name for a look with per-segment LUTs (``{}`` without): the segmenter's categories
        (0 background, 1 person) for ``fit_look(..., segments=True)``, else the labels given to the fit."""
        named = {int(k): v for k, v in self.meta.get("segments", {}).get("categories", {}).items()}
        if not self.label_luts and not named:
            return {}
        return {k: named.get(k, f"label{k}") for k in range(max([*named, *self.label_luts]) + 1)}

    @property
    def monochrome(self) -> bool:
        """A black-and-white or toned look (:attr:`Lut.monochrome`, every LUT of it): given whole to every picture,
        faces and unlike scenes too (a share of it left their colour in a grey picture)."""
        return self.lut.monochrome and all(lut.monochrome for lut in self.label_luts.values())

    @property
    def segmented(self) -> bool:
        """A look fitted with segments=True: images and frames are segmented to render it (person / background)."""
        return bool(self.label_luts) and "segments" in self.meta

    def category_luts(self) -> list[Lut]:
        """One LUT per category 0..K-1: the category's own, or the global one where the template had none; a look
        without categories: its one LUT (so ``render_segments(frame, look.category_luts(), look.segment_mask(frame))``
        grades with a plain look as with one fitted with ``segments=True``)."""
        return [self.label_luts.get(k, self.lut) for k in self.categories] or [self.lut]

    def segment_mask(self, image: np.ndarray, labels=None, channels: str = "rgb") -> np.ndarray | None:
        """The soft label mask render_segments takes, (K - 1, h, w) float32: from an integer label map, or (a look
        fitted with segments=True) by segmenting ``image``; None for a look without per-segment LUTs."""
        cats = self.categories
        if not self.label_luts:
            return None
        if labels is not None:
            labels = np.asarray(labels)
            if labels.shape != image.shape[:2]:
                raise InputError(f"labels must have the image's shape {image.shape[:2]}, got {labels.shape}")
            return np.stack([(labels == k).astype(np.float32) for k in list(cats)[1:]])
        if "segments" not in self.meta:
            return None  # labels were the caller's: without them, the global look
        return person_mask(image[:, :, ::-1] if channels == "bgr" else image)[None]

    def apply(self, image: np.ndarray, *, mode: str = "lut", strength: float = 1.0, interp: str = "trilinear",
              degree=None, labels: np.ndarray | None = None, mask="auto", channels: str = "rgb") -> np.ndarray:
        """Grade a uint8 (H, W, 3) image. ``mode="direct"`` evaluates the mapping per pixel (exact, slow);
        ``"lut"`` uses the baked LUT(s). A look with per-segment LUTs renders each region with its category's
        look, blended by a soft mask: ``mask`` (K - 1, h, w) float given, or ``"auto"``: from ``labels`` (an
        integer (H, W) map) or by segmenting the image (looks fitted with segments=True); ``mask=None``: the
        global look only.
        """
        if mode == "direct":
            if self.mapping is None:
                raise InputError("this look was loaded from a LUT file and has no mapping; use mode='lut'")
            # the lut mode's checks (a float or uint16 image came back nearly black or clipped, a bad strength
            # clamped, a PIL image an AttributeError)
            degree = check_render_args(image, degree=degree, strength=strength, channels=channels)
        if isinstance(mask, str) and mask == "auto":
            mask = self.segment_mask(image, labels, channels)
        if mode == "lut":
            if mask is None or not self.label_luts:
                return render(image, self.lut, degree=degree, strength=strength, interp=interp, channels=channels)
            return render_segments(image, self.category_luts(), mask, degree=degree, strength=strength,
                                   interp=interp, channels=channels)
        if mode != "direct":
            raise InputError(f"mode must be 'lut' or 'direct', got {mode!r}")
        if mask is None or not self.label_mappings:
            return grade_float(image, self.mapping, degree=degree, strength=strength, channels=channels)
        h, w = image.shape[:2]
        seg = check_segment_mask(mask, len(self.categories), image.shape).astype(np.float64)
        maps = [cv2.resize(m, (w, h), interpolation=cv2.INTER_LINEAR) if m.shape != (h, w) else m for m in seg]
        weights = [np.maximum(1.0 - np.sum(maps, axis=0), 0.0), *maps]
        fns = [self.label_mappings.get(k, self.mapping) for k in self.categories]

        def colours(x):
            return sum(wk[:, :, None] * np.clip(fn(x), 0.0, 1.0) for wk, fn in zip(weights, fns))

        return grade_float(image, colours, degree=degree, strength=strength, channels=channels)

    def segment_paths(self, path: str | os.PathLike) -> dict[int, Path]:
        """Where ``save(path)`` writes each category's LUT beside the global one: LOOK.<category>.cube (or .png)."""
        p = Path(path)
        ext = "".join(p.suffixes[-1:])
        stem = p.name[: -len(ext)] if ext else p.name
        return {k: p.with_name(f"{stem}.{self.categories[k]}{ext}") for k in sorted(self.label_luts)}

    def save(self, path: str | os.PathLike, *, inputs: tuple = ()) -> Path:
        """Save by extension: ``.look.npz`` (lossless: LUTs, mappings, readings and metadata; not
        :attr:`defiltered`, the network's guess: ``fit --save-defiltered`` writes it), ``.cube`` or HaldCLUT
        ``.png`` (the LUT; a look with per-segment LUTs also writes one file per category beside it, see
        :meth:`segment_paths`)."""
        p = Path(path)
        fmt = check_look_format(p)
        if fmt.name == "look":
            return self._save_npz(p, inputs)
        comments = [f"made by livefilter {self.meta.get('version', __version__)}"]
        comments += [f"{k}: {v}" for k, v in self.meta.items() if k in ("mapping", "sampling", "samples",
                                                                           "template", "template_sha256")]
        if (reading := self.held_reading()) is not None:
            comments.append(f"reading: {reading_text(reading)}")
        if (conf := self.confidence_text()) is not None:
            comments.append(f"confidence: {conf}")
        if "strength" in self.meta:  # with_strength: the share of the look baked in
            comments.append(f"strength: {self.meta['strength']}")
        extra = {"comments": comments} if fmt.name == "cube" else {}
        files = []  # (path, LUT, writer's keywords): each segment's, then the global look
        for k, sp in self.segment_paths(p).items():
            cat = self.categories[k]
            note = f"segment: {cat} (label {k}); the global look is {p.name}"
            more = {"comments": [*comments, note]} if extra else {}
            files.append((sp, self.label_luts[k].retitled(f"{self.name} [{cat}]"), more))
        files.append((p, self.lut.retitled(self.name), extra))
        with atomic_outputs([f[0] for f in files], inputs) as tmps:  # all checked first, all written or none
            for (dst, lut, kw), tmp in zip(files, tmps):
                try:
                    write_lut(tmp, lut, **kw)
                except OutputError as exc:  # named for the file it stands for, not its temporary
                    raise OutputError(exc.problem, dst) from None
                except OSError as exc:
                    raise OutputError(f"cannot write the file ({exc.strerror or exc})", dst) from None
        return p

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
        for i, r in enumerate(self.candidates, 1):
            arrays[f"cand{i}_lut"] = r.lut.table
            arrays.update({f"cand{i}_{k}": np.asarray(v) for k, v in r.mapping.to_dict().items()})
        arrays["meta"] = np.array(json.dumps(self.meta | {"lut_title": self.lut.title}))
        with atomic_output(p, inputs) as tmp, open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
        return p


def reading_text(reading, short: bool = False) -> str:
    """"2 of 4 (bold, NOTE)" for a reading kept alone: its meta with "number" and "of" (:meth:`Look.with_strength`),
    or the text a .cube's header holds; ``short``: without the note."""
    if not isinstance(reading, dict):  # "2 of 4 (nearest, NOTE)"
        text = str(reading)
        return text.split(", ")[0] + ")" if short and ", " in text else text
    note = f", {reading['note']}" if reading.get("note") and not short else ""
    which = f"{reading['number']} of {reading['of']} " if reading.get("number") else ""  # older files: the kind
    return f"{which}({reading.get('kind', 'reading')}{note})"


def _mapping_from(arrays, prefix, fallback=None):
    d = {k[len(prefix):]: arrays[k] for k in arrays.files if k.startswith(prefix) and k != prefix + "lut"}
    if not d:
        return None
    return mapping_from_any(d, fallback)


def _cube_header(path: Path) -> dict:
    """The "# key: value" lines livefilter writes at the top of a .cube (the fit's confidence among them)."""
    out = {}
    with open(path, encoding="utf-8-sig", errors="replace") as fh:
        for line in fh:
            if not line.startswith("#"):
                break
            key, sep, value = line[1:].strip().partition(": ")
            if sep and key == "confidence":
                out["confidence text"] = value
            elif sep and key == "reading":  # which of a one-photo fit's readings the file holds
                out["reading"] = value
            elif sep and key == "strength":
                with contextlib.suppress(ValueError):
                    out["strength"] = float(value)
    return out


def load_look(path: str | os.PathLike) -> Look:
    """Load a look saved as ``.look.npz``, or a ``.cube`` / HaldCLUT ``.png`` LUT as a look."""
    p = Path(path)
    if not p.is_file():
        raise InputError("a folder, not a look file" if p.is_dir() else "no such file", p)
    try:  # one cause for every format (a .cube said a raw PermissionError, a .look.npz "corrupt")
        with open(p, "rb"):
            pass
    except OSError as exc:
        raise InputError(f"cannot read ({exc.strerror or exc})", p) from None
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
            label_mappings = {lab: _mapping_from(z, f"label{lab}_", mapping) for lab in labels}
            label_luts = {lab: Lut(z[f"label{lab}_lut"]) for lab in labels}
            candidates = [Reading(**{k: c[k] for k in ("kind", "note", "confidence")},
                                  mapping=_mapping_from(z, f"cand{i}_"), lut=Lut(z[f"cand{i}_lut"]))
                          for i, c in enumerate(meta.get("candidates", []), 1)]
            if not 1 <= int(meta.get("picked", 1)) <= max(1, len(candidates)):
                raise ValueError(f"picked reading {meta['picked']} of {len(candidates)}")
    except LiveFilterError as exc:
        raise InputError(f"corrupt look file: {exc.problem}", p) from None
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile, json.JSONDecodeError, EOFError) as exc:
        # numpy calls any file that is not an .npz archive "pickled data" and suggests loading it unsafely: never
        why = "not an .npz archive" if "pickle" in str(exc) else f"{type(exc).__name__}: {exc}"
        raise InputError(f"not a livefilter look file or corrupt ({why})", p) from None
    return Look(lut=lut, mapping=mapping, label_mappings=label_mappings, label_luts=label_luts, meta=meta,
                candidates=candidates)


def check_look_format(path: str | os.PathLike):
    """The format a look saved to ``path`` gets (by its extension), or an InputError naming the ones there are:
    ``fit`` checks its output with it before the fit."""
    fmt = format_of(path)
    if fmt is None or (fmt.name != "look" and fmt.write is None):
        raise InputError(f"unknown look format; use {LOOK_EXT}, .cube or .png (HaldCLUT)", Path(path))
    return fmt


def pick_option(look: Look, n: int, where=None) -> Look:
    """``look.pick(n)`` for a ``--pick N`` option: an error says the option and names the look's file ``where``."""
    try:
        return look.pick(n)
    except InputError as exc:
        problem = exc.problem
        if not look.candidates and (reading := look.meta.get("reading")):  # a .cube of reading 2 of 4 (its text)
            which = reading_text(reading) if isinstance(reading, dict) else reading
            problem = f"this file holds reading {which} alone; --pick chooses among the readings a .look.npz keeps"
        raise InputError(f"--pick {n}: {problem}", where) from None


def as_look(look) -> Look:
    """The one way from what a caller holds to a :class:`Look`: a Look as it is; a :class:`Lut` as a look of that
    LUT alone (named by its title, else "lut"); an (N, N, N, 3) float array indexed [r, g, b] as a look of that
    table (the renderer's :func:`~livefilter.render.as_lut`); anything else as a look file path (:func:`load_look`,
    with its errors)."""
    if isinstance(look, Look):
        return look
    if isinstance(look, np.ndarray):
        look = as_lut(look)
    if isinstance(look, Lut):
        return Look(look, meta={"name": look.title or "lut"})
    return load_look(look)


# The baked table keeps values outside [0, 1] (renderers clip after interpolating): clipping at the nodes
# would put the clip's kink between nodes, where trilinear interpolation misses it by up to 2.4 code values
# (measured); unclipped, the baked LUT stays within 1 code value of the direct calculation. The wide bounds
# only keep absurd extrapolated corners out of files.
BAKE_RANGE = (-1.0, 2.0)


def bake(mapping, size: int = 33, title: str = "") -> Lut:
    """Evaluate ``mapping`` on a size^3 grid as a :class:`Lut` (see BAKE_RANGE)."""
    grid = identity_table(size)
    return Lut(np.clip(mapping(grid.reshape(-1, 3)), *BAKE_RANGE).reshape(grid.shape), title=title)
