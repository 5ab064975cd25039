"""HDR video frames (PQ or HLG) to SDR BT.709 RGB, so that a look learnt on SDR photos grades them as it grades SDR.

A phone's video is often HDR (an iPhone records HLG by default). Graded as if its code values were SDR, its colours
and the look's came out wrong (BT.2020 primaries read as BT.709 are dull, PQ's curve read as SDR's dark and flat:
a PQ grey patch came out 17 code values dark, a red one 42 less red). Each frame is therefore brought to SDR first,
as a player does on an SDR screen:

1. the decoder's R'G'B' (16-bit planar from swscale, whose white is 0.4 % short of 65535, measured per pixel format;
   its packed rgb48 garbles a 4:2:0 frame of odd width) to
   display light in nits: PQ's EOTF (SMPTE ST 2084); HLG's inverse OETF and its OOTF
   for a 1,000-nit display (BT.2100: system gamma 1.2, so that a 75 % HLG signal is reference white, 203 nits);
2. the source primaries (BT.2020, or P3, or BT.709) to BT.709, in linear light; colours outside BT.709 clipped;
3. BT.2390's EETF (the tone curve in PQ space: unchanged up to a knee, a Hermite roll-off above it) from the source
   peak (1,000 nits: HLG's nominal display; a PQ video's own from its metadata, MaxCLL or the mastering display's
   peak, else 1,000; brighter values clip) to the SDR peak at HDR reference white (203 nits, BT.2408), applied to
   the pixel's largest channel and the three scaled alike, so a bright colour keeps its hue (the curve on each
   channel turned a bright orange yellow and took a third of a lit face's chroma): from 1,000 nits, the knee is at
   88 nits, reference white lands at 90 % of the code range (229), 300 nits at 244, 400 at 250;
4. the sRGB curve to 8-bit SDR R'G'B' (the encoding of the photos the looks are learnt on), tagged BT.709 in the
   graded video.

Why not FFmpeg: its ``zscale`` (zimg) and ``libplacebo`` filters are not in PyAV's FFmpeg, and ``tonemap`` needs
``zscale`` to linearise. FFmpeg 8's swscale converts PQ / HLG to SDR through PyAV (``dst_color_trc``), but with no
tone curve there: everything above reference white clips (an HLG 90 % signal, PQ at 400 nits: 255), a sky's
highlights blown; its perceptual intent is not reachable through PyAV (docs/decisions.md, 'HDR video'). Here swscale
gives 16-bit R'G'B' (5-8 ms a 1080p frame) and one numba pass with lookup tables does the rest (PQ 6.5 ms, HLG 14 ms
on 2 threads).
"""

from __future__ import annotations

import struct

import numpy as np
from numba import njit, prange

from .. import srgb

#: AVColorTransferCharacteristic values of the HDR transfers
PQ, HLG = 16, 18
TRANSFER_NAME = {PQ: "PQ", HLG: "HLG"}
REFERENCE_WHITE = 203.0  # nits: HDR reference white (BT.2408), the SDR output's peak
SOURCE_PEAK = 1000.0  # nits: HLG's nominal display; a PQ video's peak unless its metadata says (content_peak)

# BT.2100 constants
_M1, _M2 = 2610 / 16384, 2523 / 4096 * 128
_C1, _C2, _C3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
_HLG_A = 0.17883277
_HLG_B = 1 - 4 * _HLG_A
_HLG_C = 0.5 - _HLG_A * np.log(4 * _HLG_A)
_HLG_GAMMA = 1.2  # system gamma at a 1,000-nit display

# chromaticities (x, y) of R, G, B per AVColorPrimaries value; D65 white for all three
_PRIMARIES = {1: ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)),  # BT.709
              9: ((0.708, 0.292), (0.170, 0.797), (0.131, 0.046)),  # BT.2020
              12: ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060))}  # P3-D65 (SMPTE EG 432-1)
_D65 = (0.3127, 0.3290)
BT2020 = 9

_OUT_PER_NIT = 50  # tone curve's gain table: nits 0..SOURCE_PEAK in steps of 0.02
_ENCODE_STEPS = 65536  # sRGB curve table over linear [0, 1] (a step is 0.05 code values near black)
_OOTF_STEPS = 65536  # HLG's OOTF gain, by the scene's luminance (indexed by its square root: the pass took 2x longer)


def pq_eotf(e: np.ndarray) -> np.ndarray:
    """PQ code value [0, 1] -> nits."""
    p = np.power(np.clip(e, 0, 1), 1 / _M2)
    return 10000 * np.power(np.maximum(p - _C1, 0) / (_C2 - _C3 * p), 1 / _M1)


def pq_inverse(nits: np.ndarray) -> np.ndarray:
    """nits -> PQ code value [0, 1]."""
    y = np.power(np.clip(nits / 10000, 0, 1), _M1)
    return np.power((_C1 + _C2 * y) / (1 + _C3 * y), _M2)


def hlg_inverse_oetf(e: np.ndarray) -> np.ndarray:
    """HLG code value [0, 1] -> scene linear light [0, 1]."""
    e = np.clip(e, 0, 1)
    with np.errstate(over="ignore"):
        return np.where(e <= 0.5, e * e / 3, (np.exp((e - _HLG_C) / _HLG_A) + _HLG_B) / 12)


def eetf(nits: np.ndarray, source_peak: float = SOURCE_PEAK, target_peak: float = REFERENCE_WHITE) -> np.ndarray:
    """BT.2390's EETF (black level 0): nits on a ``source_peak`` display -> nits on a ``target_peak`` one (a source
    no brighter than the target: unchanged up to its peak)."""
    if target_peak >= source_peak:  # nothing to roll off (the curve's knee would be at its end: a division by 0)
        return np.minimum(np.asarray(nits, np.float64), source_peak)
    top = pq_inverse(np.float64(source_peak))
    e1 = pq_inverse(nits) / top  # normalised to the source range
    max_lum = pq_inverse(np.float64(target_peak)) / top
    ks = 1.5 * max_lum - 0.5
    t = (e1 - ks) / (1 - ks)
    spline = ((2 * t**3 - 3 * t**2 + 1) * ks + (t**3 - 2 * t**2 + t) * (1 - ks)
              + (-2 * t**3 + 3 * t**2) * max_lum)
    e2 = np.where(e1 < ks, e1, np.where(e1 <= 1, spline, max_lum))
    return pq_eotf(e2 * top)


def _to_xyz(primaries) -> np.ndarray:
    xy = np.array(primaries, np.float64)
    m = np.stack([xy[:, 0] / xy[:, 1], np.ones(3), (1 - xy[:, 0] - xy[:, 1]) / xy[:, 1]])  # columns: X, Y, Z of R, G, B
    w = np.array([_D65[0] / _D65[1], 1.0, (1 - _D65[0] - _D65[1]) / _D65[1]])
    return m * np.linalg.solve(m, w)


def to_bt709(primaries: int) -> np.ndarray:
    """3 x 3 matrix: linear RGB in these primaries (BT.709, BT.2020, P3-D65; any other: BT.2020, HDR's) -> linear
    BT.709 RGB."""
    return np.linalg.solve(_to_xyz(_PRIMARIES[1]), _to_xyz(_PRIMARIES.get(primaries, _PRIMARIES[BT2020])))


def luminance_weights(primaries: int) -> np.ndarray:
    """Y of linear R, G, B in these primaries (BT.2020: 0.2627, 0.6780, 0.0593), for HLG's OOTF."""
    return _to_xyz(_PRIMARIES.get(primaries, _PRIMARIES[BT2020]))[1]


def _input_table(transfer: int, white: float) -> np.ndarray:
    """float32 [65536]: 16-bit code value -> display nits for PQ, scene light [0, 1] for HLG; ``white``: the value
    that stands for the signal's 1.0."""
    e = np.arange(65536, dtype=np.float64) / white
    return (pq_eotf(e) if transfer == PQ else hlg_inverse_oetf(e)).astype(np.float32)


def content_peak(frame) -> float | None:
    """A PQ frame's peak in nits from its metadata: the content light level (MaxCLL), else the mastering display's
    maximum; None without either. (PyAV gives the side data as FFmpeg's C structs: AVContentLightMetadata is two
    unsigned ints; AVMasteringDisplayMetadata's max_luminance the rational at byte 72, has_luminance the int at 84.)"""
    found = {}
    entries = frame.side_data
    for item in entries:  # PyAV 18 yields the side data; PyAV 19 its types, a mapping's keys
        sd = item if hasattr(item, "buffer_size") else entries.get(item)
        name = getattr(sd.type, "name", str(sd.type))
        data = bytes(sd)
        if name == "CONTENT_LIGHT_LEVEL" and len(data) >= 8:
            found["cll"] = struct.unpack_from("<I", data)[0]
        elif name == "MASTERING_DISPLAY_METADATA" and len(data) >= 88 and struct.unpack_from("<i", data, 84)[0]:
            num, den = struct.unpack_from("<ii", data, 72)
            found["mastering"] = num / den if den else 0
    peak = found.get("cll") or found.get("mastering")
    return float(min(max(peak, REFERENCE_WHITE), 10000.0)) if peak else None


def _gain_table(peak: float = SOURCE_PEAK) -> np.ndarray:
    """float32 [peak * _OUT_PER_NIT + 1]: a pixel's largest channel in nits (* _OUT_PER_NIT) -> the factor that takes
    its channels to SDR linear light (the tone curve from ``peak``: its output over its input, over reference
    white)."""
    nits = np.arange(int(peak * _OUT_PER_NIT) + 1, dtype=np.float64) / _OUT_PER_NIT
    with np.errstate(invalid="ignore", divide="ignore"):
        gain = np.where(nits > 0, eetf(nits, source_peak=peak) / nits, 1.0) / REFERENCE_WHITE
    return gain.astype(np.float32)


def _encode_table() -> np.ndarray:
    """uint8 [_ENCODE_STEPS + 1]: SDR linear light [0, 1] * _ENCODE_STEPS -> 8-bit code value (the sRGB curve)."""
    sdr = np.arange(_ENCODE_STEPS + 1, dtype=np.float64) / _ENCODE_STEPS
    return np.round(255 * srgb.encode(sdr)).astype(np.uint8)


def _ootf_table() -> np.ndarray:
    """float32 [_OOTF_STEPS + 1]: scene luminance * _OOTF_STEPS -> HLG's OOTF gain in nits (peak Ys^(gamma - 1))."""
    ys = np.arange(_OOTF_STEPS + 1, dtype=np.float64) / _OOTF_STEPS
    return (SOURCE_PEAK * ys ** (_HLG_GAMMA - 1)).astype(np.float32)


@njit(parallel=True, fastmath=True, cache=True)
def _convert(rgb16, out, table_in, m, lum, ootf, gain, encode):  # pragma: no cover - compiled
    h, w = rgb16.shape[0], rgb16.shape[1]
    top = np.float32(gain.shape[0] - 1)
    per_nit = np.float32(_OUT_PER_NIT)
    steps = np.float32(encode.shape[0] - 1)
    ootf_steps = np.float32(ootf.shape[0] - 1)
    hlg = ootf.shape[0] > 1
    zero, one, half = np.float32(0), np.float32(1), np.float32(0.5)
    for y in prange(h):
        src, dst = rgb16[y], out[y]
        for x in range(w):
            r = table_in[src[x, 0]]
            g = table_in[src[x, 1]]
            b = table_in[src[x, 2]]
            if hlg:  # HLG's OOTF: scene light -> nits, from the scene's luminance
                ys = min(max(lum[0] * r + lum[1] * g + lum[2] * b, zero), one)
                k = ootf[np.int32(ys * ootf_steps + half)]
                r, g, b = r * k, g * k, b * k
            # to BT.709 (outside it: clipped), then the tone curve on the largest channel, the three scaled alike
            c0 = max(m[0, 0] * r + m[0, 1] * g + m[0, 2] * b, zero)
            c1 = max(m[1, 0] * r + m[1, 1] * g + m[1, 2] * b, zero)
            c2 = max(m[2, 0] * r + m[2, 1] * g + m[2, 2] * b, zero)
            k = gain[np.int32(min(max(c0, c1, c2) * per_nit + half, top))]
            dst[x, 0] = encode[np.int32(min(c0 * k, one) * steps + half)]
            dst[x, 1] = encode[np.int32(min(c1 * k, one) * steps + half)]
            dst[x, 2] = encode[np.int32(min(c2 * k, one) * steps + half)]


class ToSDR:
    """Converts one video's HDR frames: ``ToSDR(colour, white)(rgb48)`` -> uint8 SDR BT.709 RGB of the same size;
    ``white``: the 16-bit value that stands for the signal's 1.0 (swscale's, for the frames' pixel format)."""

    def __init__(self, colour: dict, white: float = 65535.0):
        self.transfer = colour["color_trc"]
        self.name = TRANSFER_NAME[self.transfer]
        primaries = colour.get("color_primaries")
        self._table_in = _input_table(self.transfer, white)
        self._m = to_bt709(primaries).astype(np.float32)
        self._lum = luminance_weights(primaries).astype(np.float32)
        self._ootf = _ootf_table() if self.transfer == HLG else np.zeros(1, np.float32)
        #: the tone curve's source peak: a PQ video's metadata (probe's colour["peak"]), else SOURCE_PEAK
        self.peak = float(colour.get("peak") or SOURCE_PEAK) if self.transfer == PQ else SOURCE_PEAK
        self._gain, self._encode = _gain_table(self.peak), _encode_table()

    def __call__(self, rgb16: np.ndarray) -> np.ndarray:
        out = np.empty(rgb16.shape, np.uint8)
        _convert(np.ascontiguousarray(rgb16), out, self._table_in, self._m, self._lum, self._ootf, self._gain,
                 self._encode)
        return out
