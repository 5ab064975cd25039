"""Reading and writing still images as uint8 RGB arrays.

Pillow decodes (it knows EXIF orientation, palettes, CMYK JPEGs, 16-bit PNGs, AVIF and ICC profiles); every failure
becomes an :class:`ImageReadError` naming the file. HEIC / HEIF photos (a phone camera's default) are read and
written with pillow-heif, the ``heic`` extra: without it such a file is one clear error, not skipped.
"""

from __future__ import annotations

import functools
import io
import os
import re
import struct
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError, features

from . import srgb
from .errors import ImageReadError, InputError, OutputError
from .fileio import atomic_output
from .render.checks import check_rgb

#: sound files: named in errors for what they are (a sound file given as a template or an input to grade)
AUDIO_EXTS = (".m4a", ".mp3", ".aac", ".wav", ".flac", ".ogg", ".opus", ".wma", ".aif", ".aiff")
#: the image files livefilter reads as photos (apply, a folder of frames as a live source)
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".jfif", ".jpe", ".tif", ".tiff", ".bmp", ".webp", ".avif", ".heic", ".heif")
#: image files read but not written (a GIF's 256 colours would band a graded photo): graded into .png
READ_ONLY_IMAGE_EXTS = (".gif", ".jp2")
#: every image file graded as a photo (apply, a live source)
READABLE_IMAGE_EXTS = IMAGE_EXTS + READ_ONLY_IMAGE_EXTS
#: camera RAW files: refused by name. Pillow opens some of them (a DNG, a CR2 or a NEF is a TIFF inside) and gives
#: the small preview stored first, so a "photo" read from one was a thumbnail in its camera's own colours
RAW_EXTS = (".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".rw2", ".raw",
            ".rwl", ".pef", ".srw", ".x3f", ".3fr", ".fff", ".iiq", ".erf", ".kdc", ".dcr", ".mrw", ".mef", ".mos")
RAW_PROBLEM = "a camera RAW file: livefilter reads no RAW (export it from a RAW developer as TIFF or JPEG)"

# HEIF brands (ISO/IEC 23008-12): HEVC-coded images and sequences, and the generic ones, which an AVIF file may
# carry too (it then also lists "avif" / "avis": Pillow reads it)
_HEVC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_GENERIC_BRANDS = {b"mif1", b"msf1", b"mif2", b"miaf"}
_AV1_BRANDS = {b"avif", b"avis"}
_HEIF_NEEDS = "reading and writing HEIC needs the heic extra: pip install 'livefilter[heic]'"

#: Images larger than this are refused unless the caller allows them (a guard against decompression bombs).
MAX_PIXELS = 100_000_000

# We check the size ourselves (MAX_PIXELS) with a clear error instead of Pillow's DecompressionBombError.
Image.MAX_IMAGE_PIXELS = None

_SRGB = ImageCms.createProfile("sRGB")


def _container(path: Path) -> str | None:
    """"heif" or "avif" by the file's first bytes (its ISO BMFF ftyp box; a phone's HEIC photo is at times saved as
    .jpg), else None."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return None
    if head[4:8] != b"ftyp":
        return None
    size = int.from_bytes(head[:4], "big")
    brands = {head[8:12], *(head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4))}
    if brands & _AV1_BRANDS and not brands & _HEVC_BRANDS:
        return "avif"
    return "heif" if brands & _HEVC_BRANDS or head[8:12] in _GENERIC_BRANDS else None


def _tiff_float_bits(path: Path) -> int | None:
    """The bits per sample of a TIFF whose samples are floating point (SampleFormat 3 in its first IFD: an HDR or
    linear-light export, which Pillow cannot read in colour), else None."""
    try:
        with open(path, "rb") as f:
            order = {b"II": "little", b"MM": "big"}.get(f.read(2))
            if order is None or int.from_bytes(f.read(2), order) != 42:  # (BigTIFF, 43: not looked into)
                return None
            f.seek(int.from_bytes(f.read(4), order))
            n = int.from_bytes(f.read(2), order)
            tags = {}
            for entry in (f.read(12) for _ in range(min(n, 512))):
                tag, kind, count = (int.from_bytes(entry[a:b], order) for a, b in ((0, 2), (2, 4), (4, 8)))
                if tag in (258, 339) and kind == 3:  # BitsPerSample, SampleFormat: SHORTs, the first one read
                    at = f.tell()
                    if count > 2:  # more than fit the entry: at its offset
                        f.seek(int.from_bytes(entry[8:12], order))
                        tags[tag] = int.from_bytes(f.read(2), order)
                        f.seek(at)
                    else:
                        tags[tag] = int.from_bytes(entry[8:10], order)
    except (OSError, ValueError):
        return None
    return tags.get(258) if tags.get(339) == 3 else None


@functools.cache
def heif_support() -> bool:
    """Whether HEIC / HEIF files can be read and written here (pillow-heif installed); registers its Pillow plugin
    on first use."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


def _open(p: Path, exif_warnings: bool = False) -> Image.Image:
    """Pillow's image of ``p``; its "Corrupt EXIF data" warning (a JPEG's, on opening) only with ``exif_warnings``
    (:func:`metadata_for_copy` says it once, naming the file: it came once per opening, naming none)."""
    with warnings.catch_warnings():
        if not exif_warnings:
            warnings.filterwarnings("ignore", "Corrupt EXIF", UserWarning)
        kind = _container(p)
        if kind == "avif":  # Pillow's own reader (pillow-heif, once registered, would take a "mif1" AVIF and fail)
            return Image.open(p, formats=["AVIF"] if features.check("avif") else None)
        if kind == "heif" and not heif_support():
            raise ImageReadError(f"a HEIC / HEIF photo: {_HEIF_NEEDS}", p)
        if p.suffix.lower() in (".heic", ".heif"):
            heif_support()  # a brand the list above lacks: pillow-heif, when installed, may still know it
        return Image.open(p)


def _to_srgb(img: Image.Image, path) -> tuple[Image.Image, bool]:
    """The image in sRGB by its ICC profile, and whether a usable profile said how (then its nclx tags do not)."""
    icc = img.info.get("icc_profile")
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return img, bool(icc)
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        desc = ImageCms.getProfileDescription(src).lower()
        if "srgb" in desc:
            return img, True
        out_mode = "RGBA" if img.mode == "RGBA" else "RGB"
        return ImageCms.profileToProfile(img, src, _SRGB, outputMode=out_mode), True
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        warnings.warn(f"{path}: ignoring its ICC colour profile ({exc})", stacklevel=3)
        return img, False


# nclx colour tags (ISO/IEC 23091-2 code points), which a HEIC / AVIF photo carries instead of an ICC profile
_NCLX_WIDE = {9: "BT.2020", 12: "Display P3"}  # primaries converted to sRGB's; BT.709's (1) and unset (2) are sRGB's
_NCLX_HDR = (16, 18)  # PQ, HLG transfers: an HDR photo


def _nclx(img: Image.Image, p: Path) -> tuple[int, int] | None:
    """(colour primaries, transfer) of a HEIC / AVIF photo's nclx colour box; None without one. pillow-heif gives
    a HEIC's; Pillow keeps an AVIF's to itself, so its ``colr`` box is read from the file (ISO/IEC 14496-12: size,
    "colr", "nclx", primaries, transfer, matrix as big-endian u16). A usable ICC profile beside it says it all."""
    tags = img.info.get("nclx_profile")
    if isinstance(tags, dict):
        return int(tags.get("color_primaries", 2)), int(tags.get("transfer_characteristics", 2))
    if img.format != "AVIF":
        return None
    data = p.read_bytes()
    at = data.find(b"colrnclx")
    if at < 0 or at + 12 > len(data):
        return None
    return int.from_bytes(data[at + 8:at + 10], "big"), int.from_bytes(data[at + 10:at + 12], "big")


def _from_nclx(rgb: np.ndarray, primaries: int, transfer: int, path) -> np.ndarray:
    """A photo tagged (nclx) with wide primaries or an HDR transfer, as sRGB: an HDR photo brought to SDR as an
    HDR video's frames are (media/hdr.py: BT.2390's tone curve, hues kept); Display P3 or BT.2020 primaries to sRGB's
    in linear light, the colours outside sRGB clipped (read as sRGB, a P3 red was 21 code values less red). A
    BT.709-type transfer is taken as sRGB's curve, as the rest of livefilter takes such photos."""
    if transfer in _NCLX_HDR:
        from .media.hdr import TRANSFER_NAME, ToSDR

        if str(path) not in _SAID_HDR:  # once a photo: a looping image sequence, a fit reading it again
            _SAID_HDR.add(str(path))
            warnings.warn(f"{path}: an HDR photo ({TRANSFER_NAME[transfer]}): brought to SDR as an SDR screen shows "
                          "it", stacklevel=3)
        return ToSDR({"color_trc": transfer, "color_primaries": primaries})(rgb.astype(np.uint16) * 257)
    if primaries not in _NCLX_WIDE:
        return rgb
    from .media.hdr import to_bt709

    m = to_bt709(primaries).astype(np.float32)
    out = np.empty_like(rgb)
    for y in range(0, rgb.shape[0], 512):  # in bands: a 12 MP photo's float copy would be 150 MB
        lin = _SRGB_DECODE[rgb[y:y + 512]] @ m.T
        out[y:y + 512] = _SRGB_ENCODE[np.rint(np.clip(lin, 0, 1) * 4095).astype(np.int32)]
    return out


_SAID_HDR: set[str] = set()
_SRGB_DECODE = srgb.decode(np.arange(256) / 255).astype(np.float32)  # 8-bit code value -> linear light
_SRGB_ENCODE = np.rint(255 * srgb.encode(np.arange(4096) / 4095)).astype(np.uint8)  # linear * 4095 -> code value


def _to_rgb_array(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Convert any Pillow mode to (uint8 RGB, uint8 alpha or None)."""
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        a = np.asarray(img)
        if mode == "I" and a.max(initial=0) <= 255:
            g = np.clip(a, 0, 255).astype(np.uint8)
        else:
            g = (np.clip(a, 0, 65535).astype(np.uint32) >> 8).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2), None
    if mode == "F":
        a = np.asarray(img, dtype=np.float32)
        hi = 1.0 if a.max(initial=0) <= 1.0 else 255.0
        g = np.clip(a / hi * 255 + 0.5, 0, 255).astype(np.uint8)
        return np.repeat(g[:, :, None], 3, axis=2), None
    has_alpha = mode in ("RGBA", "LA", "PA", "La", "RGBa") or (mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = np.asarray(img.convert("RGBA"))
        return np.ascontiguousarray(rgba[:, :, :3]), np.ascontiguousarray(rgba[:, :, 3])
    return np.asarray(img.convert("RGB")), None


def read_image(
    path: str | os.PathLike,
    *,
    with_alpha: bool = False,
    allow_large: bool = False,
    min_size: int = 1,
    still_only: bool = False,
):
    """Read an image file as a uint8 RGB array of shape (H, W, 3).

    EXIF orientation is applied; grayscale, palette, CMYK, 16-bit and ICC-tagged images are converted to sRGB, and so
    are HEIC / AVIF photos tagged (nclx) Display P3, BT.2020 or HDR (PQ, HLG: brought to SDR).
    With ``with_alpha`` returns ``(rgb, alpha_or_None)``. Refuses images over :data:`MAX_PIXELS` unless
    ``allow_large`` and images smaller than ``min_size`` pixels on a side. An animated image (WebP, PNG, GIF) gives its
    first frame (:func:`animation_frames` tells); with ``still_only`` it is refused (a graded copy of the first
    frame alone would lose the animation).
    """
    p = Path(path)
    if not p.exists():
        raise ImageReadError("no such file", p)
    if p.is_dir():
        raise ImageReadError("is a folder, not an image", p)
    if p.suffix.lower() in RAW_EXTS:
        raise ImageReadError(RAW_PROBLEM, p)
    if p.is_file() and p.stat().st_size == 0:  # was "not an image, or an image format that cannot be read"
        raise ImageReadError("empty file (0 bytes)", p)
    try:
        with warnings.catch_warnings(), _open(p) as img:
            # Pillow's "Corrupt EXIF data" (on opening a JPEG, again on turning it upright) named no file:
            # metadata_for_copy says it once, naming it
            warnings.filterwarnings("ignore", "Corrupt EXIF", UserWarning)
            w, h = img.size
            if w == 0 or h == 0:
                raise ImageReadError(f"image has no pixels ({w}x{h})", p)
            if w * h > MAX_PIXELS and not allow_large:
                raise ImageReadError(
                    # the exact count: "100 megapixels, over the 100 MP limit" read as a contradiction
                    f"image is {w}x{h} = {w * h:,} pixels, over the limit of {MAX_PIXELS:,} ({MAX_PIXELS / 1e6:g} "
                    "megapixels; pass --allow-large / allow_large=True to process it anyway)",
                    p,
                )
            if still_only and (n := _animation_frames(img)) > 1:
                raise ImageReadError(f"an animated image ({n} frames): only still images are graded (all but its "
                                     "first frame would be lost)", p)
            img.load()
            tags = _nclx(img, p)
            img = ImageOps.exif_transpose(img)
            img, by_icc = _to_srgb(img, p)
            rgb, alpha = _to_rgb_array(img)
            if tags is not None and not by_icc:  # a grey HDR photo too (its primaries change no grey)
                rgb = _from_nclx(rgb, *tags, p)
    except ImageReadError:
        raise
    except PermissionError as exc:  # a file the user may not read: said as such, not as an undecodable image
        raise ImageReadError(f"cannot read ({exc.strerror})", p) from None
    except UnidentifiedImageError:
        if p.suffix.lower() == ".avif" and not features.check("avif"):
            raise ImageReadError("this Pillow was built without AVIF (its wheels have it)", p) from None
        if p.suffix.lower() in AUDIO_EXTS:  # no picture in it (a video's extension reads its stills)
            raise ImageReadError("a sound file: no picture to read", p) from None
        if (bits := _tiff_float_bits(p)) is not None:  # it said "not an image"
            raise ImageReadError(f"a TIFF of {bits}-bit floating-point samples (HDR or linear light), which livefilter "
                                 "does not read: save it as an 8- or 16-bit TIFF, a PNG or a JPEG", p) from None
        raise ImageReadError("not an image, or an image format that cannot be read", p) from None
    except (OSError, ValueError, SyntaxError, EOFError, RuntimeError) as exc:  # RuntimeError: pillow-heif's
        msg = str(exc).strip() or type(exc).__name__
        if "truncated" in msg.lower():
            msg = "image file is truncated"
        raise ImageReadError(f"cannot decode image: {msg}", p) from None
    h, w = rgb.shape[:2]
    if min(h, w) < min_size:
        raise ImageReadError(f"image is {w}x{h}; need at least {min_size}x{min_size} pixels", p)
    rgb = np.ascontiguousarray(rgb)
    return (rgb, alpha) if with_alpha else rgb


def _animation_frames(img) -> int:
    # an animated WebP, PNG (APNG) or GIF; a TIFF's pages (a scanner's thumbnail, a layer) and a phone's MPO JPEG
    # (a depth map or a preview) are not an animation. An APNG's default image outside its animation is no frame.
    if img.format not in ("WEBP", "PNG", "GIF", "AVIF"):
        return 1
    return int(getattr(img, "n_frames", 1)) - int(img.format == "PNG" and bool(img.info.get("default_image")))


def animation_frames(path: str | os.PathLike) -> int:
    """How many frames an animated image file (WebP, PNG, GIF, AVIF) holds: 1 for a still image or one that cannot
    be read."""
    try:
        with _open(Path(path)) as img:
            return _animation_frames(img)
    except (OSError, ValueError, SyntaxError, EOFError, RuntimeError, ImageReadError):
        return 1


_WRITABLE = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".jfif": "JPEG", ".jpe": "JPEG", ".tif": "TIFF",
             ".tiff": "TIFF", ".bmp": "BMP", ".webp": "WEBP", ".avif": "AVIF", ".heic": "HEIF", ".heif": "HEIF"}


# Orientation (EXIF tag 274): read_image applies it to the pixels, so a graded copy says 1 ("as stored")
_ORIENTATION = 0x0112
# formats whose Pillow writer takes an EXIF block, a quality and an alpha channel
_EXIF_FORMATS = ("JPEG", "PNG", "TIFF", "WEBP", "AVIF", "HEIF")
_DPI_FORMATS = ("JPEG", "PNG", "TIFF")
JPEG_XMP_MAX = 65504  # bytes of XMP in a JPEG's one APP1 segment (Pillow refuses more)
_QUALITY_FORMATS = ("JPEG", "WEBP", "AVIF", "HEIF")
_ALPHA_FORMATS = ("PNG", "TIFF", "WEBP", "AVIF", "HEIF")
#: JPEG and AVIF keep their colour at full resolution (4:4:4) from this quality up, 4:2:0 below (smaller files):
#: halving it put more error into a graded photo than the grade's own fit (docs/decisions.md, 'JPEG chroma')
FULL_CHROMA_QUALITY = 90
_CHROMA = {"JPEG": 0, "AVIF": "4:4:4"}  # Pillow's spelling of 4:4:4 for each


# a TIFF's own layout in its first IFD (sizes, sample format, strips and tiles, compression, its ICC profile, its
# XMP, carried apart): not the photo's metadata, and wrong in a copy (a TIFF's EXIF copied into a JPEG said its
# un-rotated size and 16 bits per sample)
_TIFF_LAYOUT = frozenset({254, 255, 256, 257, 258, 259, 262, 266, 273, 277, 278, 279, 280, 281, 284, 317, 320, 322,
                          323, 324, 325, 338, 339, 340, 341, 513, 514, 529, 530, 531, 532, 700, 34675})
_XMP_ORIENTATION = re.compile(rb'(tiff:Orientation(?:="|>))[0-9]')


def metadata_for_copy(path: str | os.PathLike) -> dict:
    """What a graded copy of an image file keeps of its metadata, as :func:`write_image`'s keywords: ``exif`` (camera,
    lens, exposure, dates, GPS...: its orientation reset to 1, since :func:`read_image` has applied it; a TIFF's
    layout tags left out), ``xmp`` (captions, keywords, ratings, rights: its orientation reset too), ``dpi``. A
    part that cannot be parsed is left out with a warning naming the file. Also says, naming the file, what the copy
    cannot keep: a 16-bit image is graded and written in 8 bits per channel, a TIFF's pages after its first are not
    graded. (IPTC blocks are not kept: Pillow writes none.)"""
    p = Path(path)
    out: dict = {}
    try:
        # Pillow's own warnings ("Corrupt EXIF data", on opening a JPEG too) are said here once, naming the file
        with warnings.catch_warnings(record=True) as said:
            warnings.simplefilter("always")
            with _open(p, exif_warnings=True) as img:
                loses = _what_a_copy_loses(img, p)  # first: reading the EXIF of a PNG loads its pixels
                exif = img.getexif()
                if exif:
                    for ifd in (0x8769, 0x8825):  # the Exif and GPS sub-IFDs, loaded so that they are written back
                        if ifd in exif:
                            exif.get_ifd(ifd)
                    if img.format in ("TIFF", "MPO") or any(t in exif for t in (256, 257, 273)):
                        for tag in _TIFF_LAYOUT & set(exif):
                            del exif[tag]
                    if exif.get(_ORIENTATION, 1) != 1:
                        exif[_ORIENTATION] = 1
                    if exif:  # (a TIFF's tags may all have been its layout)
                        out["exif"] = exif.tobytes()
                if isinstance(xmp := img.info.get("xmp"), (bytes, str)) and xmp:
                    xmp = xmp.encode() if isinstance(xmp, str) else xmp
                    out["xmp"] = _XMP_ORIENTATION.sub(rb"\g<1>1", xmp)
                if dpi := _dpi(img):
                    out["dpi"] = dpi
    except Exception as exc:  # noqa: BLE001 - metadata is optional: any parse failure only drops it
        warnings.warn(f"{p}: its metadata cannot be read and is not copied ({type(exc).__name__}: {exc})",
                      stacklevel=2)
        return {}
    if damaged := [str(w.message).strip() for w in said if "EXIF" in str(w.message)]:
        warnings.warn(f"{p}: its EXIF metadata is damaged ({damaged[0]}); what could be read is copied",
                      stacklevel=2)
    for w in said:  # Pillow's others, as they came
        if "EXIF" not in str(w.message):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    for line in loses:
        warnings.warn(line, stacklevel=2)
    return out


def _dpi(img) -> tuple[int, int] | None:
    """The resolution the file states, in whole dots per inch (1..65535, what JPEG can store); None when it states
    none (Pillow gives a TIFF without resolution tags 1 dpi)."""
    dpi = img.info.get("dpi")
    if not dpi or len(dpi) != 2 or img.format == "TIFF" and not {282, 283} <= set(img.tag_v2):
        return None
    try:
        dpi = tuple(round(float(d)) for d in dpi)
    except (TypeError, ValueError):
        return None
    return dpi if all(1 <= d <= 65535 for d in dpi) else None


def _what_a_copy_loses(img, p: Path) -> list[str]:
    lines = []
    if (bits := _bits_per_sample(img)) > 8:
        lines.append(f"{p}: a {bits}-bit image is graded and written in 8 bits per channel")
    if img.format == "TIFF" and (n := int(getattr(img, "n_frames", 1))) > 1:
        lines.append(f"{p}: a TIFF of {n} pages: only the first is graded and written")
    return lines


def _bits_per_sample(img) -> int:
    """The bits per channel the file stores (Pillow opens a 48-bit PNG or TIFF as 8-bit RGB)."""
    if img.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        return 16 if img.mode.startswith("I;16") else 32
    if img.format == "TIFF":
        bps = img.tag_v2.get(258, (8,))
        return int(max(bps) if isinstance(bps, tuple) else bps)
    if img.format == "PNG" and img.tile:  # the decoder's raw mode: "RGB;16B" for 48 bits
        return 16 if str(img.tile[0].args).endswith(";16B") else 8
    return 8


#: the photo formats an output folder can be written in (``photo_format``), as their extensions
PHOTO_FORMATS = ("jpg", "png", "tif", "webp", "avif", "heic")


def check_photo_format(photo_format: str | None) -> str | None:
    """``photo_format`` ("jpg", ".JPG", "jpeg"...) as one of PHOTO_FORMATS, or None; refused with the formats there
    are, or where it cannot be written here (HEIC without its extra)."""
    if photo_format is None:
        return None
    name = str(photo_format).lower().lstrip(".")
    name = {"jpeg": "jpg", "tiff": "tif", "heif": "heic"}.get(name, name)
    if name not in PHOTO_FORMATS:
        raise InputError(f"photo format must be one of {', '.join(PHOTO_FORMATS)}, got {photo_format!r}")
    if name == "heic" and not heif_support():  # said before any work
        raise InputError(f"photo format heic: {_HEIF_NEEDS}")
    if name == "avif" and not features.check("avif"):
        raise InputError("photo format avif: this Pillow was built without AVIF (its wheels have it)")
    return name


def image_format(path: str | os.PathLike) -> str:
    """The format an image written to ``path`` gets (from its extension), or an OutputError naming the ones there
    are: commands check their image outputs with it before any work."""
    p = Path(path)
    fmt = _WRITABLE.get(p.suffix.lower())
    if fmt is None:
        raise OutputError(f"unsupported image extension {p.suffix!r}; use one of {', '.join(sorted(_WRITABLE))}", p)
    if fmt == "HEIF" and not heif_support():
        raise OutputError(_HEIF_NEEDS, p)
    if fmt == "AVIF" and not features.check("avif"):
        raise OutputError("this Pillow was built without AVIF (its wheels have it)", p)
    return fmt


def webp_is_lossless(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a lossless WebP (its image chunk VP8L, not VP8): a graded copy of it is written lossless.
    Read chunk by chunk (an ICC profile or EXIF block before the image can be large)."""
    try:
        with open(path, "rb") as f:
            head = f.read(12)
            if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
                return False
            while len(chunk := f.read(8)) == 8:  # fourcc, little-endian size, payload padded to an even length
                fourcc, size = chunk[:4], int.from_bytes(chunk[4:], "little")
                if fourcc in (b"VP8 ", b"VP8L", b"ANMF"):
                    return fourcc == b"VP8L"
                f.seek(size + (size & 1), os.SEEK_CUR)
    except OSError:
        pass
    return False


def on_white(rgb: np.ndarray, alpha: np.ndarray | None) -> np.ndarray:
    """A picture with transparency as it looks laid on white (where a format or a sheet has no transparency)."""
    if alpha is None or int(np.min(alpha)) == 255:
        return rgb
    a = alpha[..., None].astype(np.float32) / 255
    return (rgb * a + 255 * (1 - a) + 0.5).astype(np.uint8)


def _xmp_keywords(fmt: str, xmp: bytes) -> dict:
    """An XMP packet as each Pillow writer takes it: PNG an iTXt chunk, the others ``xmp`` (a TIFF's: with its EXIF,
    see write_image)."""
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt("XML:com.adobe.xmp", xmp.decode("utf-8", "replace"))
        return {"pnginfo": info}
    return {"xmp": xmp}


def check_quality(quality) -> None:
    """A JPEG / WebP / AVIF / HEIC quality is a whole number 1..100 (500 was passed on to Pillow)."""
    if isinstance(quality, bool) or not isinstance(quality, (int, np.integer)) or not 1 <= quality <= 100:
        raise InputError(f"quality must be a whole number 1..100, got {quality!r}")


def write_image(path: str | os.PathLike, rgb: np.ndarray, alpha: np.ndarray | None = None, *,
                quality: int = 95, inputs: tuple = (), exif: bytes | None = None, xmp: bytes | None = None,
                dpi: tuple | None = None, lossless: bool = False) -> Path:
    """Write a uint8 RGB image atomically (temporary name, then rename); format from the extension. ``exif``
    (an EXIF block) and ``xmp`` (an XMP packet), e.g. from :func:`metadata_for_copy`, are written into JPEG, PNG,
    TIFF, WebP, AVIF and HEIC files, ``dpi`` into JPEG, PNG and TIFF (a TIFF is written uncompressed: Pillow's
    compressed TIFF writer, libtiff, cannot write an EXIF block's sub-IFDs). JPEG and
    AVIF keep full-resolution colour (4:4:4) at ``quality`` >= FULL_CHROMA_QUALITY, 4:2:0 below. ``lossless``: a
    WebP written lossless (``quality`` unused). ``alpha`` where the format has none: the picture laid on white, with
    a warning naming the input (``inputs[0]``)."""
    p = Path(path)
    fmt = image_format(p)
    check_quality(quality)
    rgb = check_rgb(np.asarray(rgb), "image", empty=False)
    if alpha is not None:
        alpha = np.asarray(alpha)
        alpha = alpha[..., 0] if alpha.ndim == 3 and alpha.shape[2] == 1 else alpha
        if alpha.dtype != np.uint8 or alpha.shape != rgb.shape[:2]:
            raise InputError(f"alpha must be uint8 of the image's size {rgb.shape[:2]}, got {alpha.dtype} "
                             f"{alpha.shape}")
    if alpha is not None and fmt in _ALPHA_FORMATS:
        img = Image.fromarray(np.dstack([rgb, alpha]), "RGBA")
    else:
        if (laid := on_white(rgb, alpha)) is not rgb:  # what was stored under the transparent parts showed
            rgb = laid
            warnings.warn(f"{inputs[0] if inputs else p}: a {p.suffix} file holds no transparency: its transparent "
                          "parts are laid on white (write .png, .webp or .tif to keep them)", stacklevel=2)
        img = Image.fromarray(rgb, "RGB")
    kwargs = {"quality": quality} if fmt in _QUALITY_FORMATS else {}
    if lossless and fmt == "WEBP":
        kwargs = {"lossless": True}
    if fmt in _CHROMA and quality >= FULL_CHROMA_QUALITY:
        kwargs["subsampling"] = _CHROMA[fmt]
    if exif and fmt in _EXIF_FORMATS:
        kwargs["exif"] = exif
    if xmp and fmt == "TIFF":  # tag 700 among the EXIF block's (Pillow's tiffinfo= took the EXIF block's place)
        tags = Image.Exif()
        if exif:
            tags.load(exif)
        tags[700] = xmp
        kwargs["exif"] = tags
    elif xmp and fmt == "JPEG" and len(xmp) > JPEG_XMP_MAX:  # one APP1 segment (a PNG's or TIFF's may be larger)
        warnings.warn(f"{inputs[0] if inputs else p}: its XMP metadata ({len(xmp):,} bytes) is over the "
                      f"{JPEG_XMP_MAX:,} a JPEG holds: not copied", stacklevel=2)
    elif xmp and fmt in _EXIF_FORMATS:
        kwargs |= _xmp_keywords(fmt, xmp)
    if dpi and fmt in _DPI_FORMATS:
        kwargs["dpi"] = dpi
    try:
        with atomic_output(p, inputs) as tmp:
            img.save(tmp, format=fmt, **kwargs)
    except (ValueError, RuntimeError, struct.error) as exc:  # an encoder's refusal: this file fails, named
        raise OutputError(f"cannot write the image ({type(exc).__name__}: {exc})", p) from None
    return p
