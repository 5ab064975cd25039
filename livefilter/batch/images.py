"""Photos at rest: one image graded with the same rendering degree as a video frame (faces protected)."""

from __future__ import annotations

from pathlib import Path

from ..imageio import metadata_for_copy, read_image, webp_is_lossless, write_image
from ..look import as_look
from .degree import FrameDegree, photo_degree


def grade_image(look, rgb, *, face_protect: bool = True, strength: float = 1.0, interp: str = "trilinear",
                degree_estimator: FrameDegree | None = None):
    """The graded uint8 (H, W, 3) image with the rendering degree a video frame gets: faces found on it get less of
    the look, and a look that keeps its template's scene (a .look.npz from ``fit``) is scaled by the scene
    similarity (``degree_estimator``: one from :func:`photo_degree` for this look, kept across photos; it then
    decides face protection, ``face_protect`` making the estimator only when none is given)."""
    est = degree_estimator or photo_degree(look, face_protect)
    try:
        est.reset()
        degree = est.update(rgb) if est.face_protect or est.scene_features is not None else None
    finally:
        if degree_estimator is None:
            est.close()
    return look.apply(rgb, strength=strength, interp=interp, degree=degree)


def apply_image(look, src, dst, *, face_protect: bool = True, strength: float = 1.0, interp: str = "trilinear",
                quality: int = 95, allow_large: bool = False, inputs: tuple = (), degree_estimator=None) -> Path:
    """Grade an image file into ``dst`` (written atomically; PNG/TIFF/WebP alpha kept, laid on white in a format
    without it; a lossless WebP written lossless; the EXIF and XMP metadata and the resolution kept
    (:func:`~livefilter.imageio.metadata_for_copy`), the orientation reset since the pixels are turned upright)."""
    look = as_look(look)
    rgb, alpha = read_image(src, with_alpha=True, allow_large=allow_large, still_only=True)
    out = grade_image(look, rgb, face_protect=face_protect, strength=strength, interp=interp,
                      degree_estimator=degree_estimator)
    return write_image(dst, out, alpha, quality=quality, inputs=(src, *inputs), **metadata_for_copy(src),
                       lossless=webp_is_lossless(src))  # a lossless WebP stays lossless
