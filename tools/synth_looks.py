"""Random photo looks for training the de-filter network: deterministic from a seed.

A look is a chain of 2-5 operations drawn from what real photo filters do, each with a random strength:
per-channel tone curves, contrast, gamma, lifted blacks / faded highlights, saturation and vibrance, white
balance (temperature and tint), split toning (shadow and highlight tints, teal/orange included), channel mixing
(black-and-white with random channel weights, sepia and other tinted monochromes), hue rotation,
cross-processing, and a smooth random 3D-LUT perturbation; with ``creative=True`` also what colourists and filter
apps do: teal & orange, bleach bypass, matte / faded blacks, crushed or lifted shadows, day-for-night, colour pops
(selective saturation), strong casts, hue-vs-hue bends and tinted fades. The chain is evaluated on a 33^3 grid and
returned as a :class:`livefilter.Lut`, so it applies to any image at render speed.

    python tools/synth_looks.py --count 20 --out looks/ [--seed 0]   # writes look_0000.cube ...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from livefilter.luts.lut import Lut, identity_table  # noqa: E402

LUMA = np.array([0.2126, 0.7152, 0.0722])


def _luma(x):
    return (x @ LUMA)[..., None]


def _curve(rng, n_knots=6, strength=0.15):
    """A random monotone curve on [0, 1] through (0, lo) and (1, hi)."""
    inc = rng.gamma(2.0 / strength, size=n_knots)
    knots = np.concatenate([[0], np.cumsum(inc)])
    knots = knots / knots[-1]
    xs = np.linspace(0, 1, n_knots + 1)
    return lambda v: np.interp(np.clip(v, 0, 1), xs, knots)


def op_tone_curves(rng, x):
    per_channel = rng.random() < 0.6
    if per_channel:
        s = rng.uniform(0.05, 0.5)
        return np.stack([_curve(rng, strength=s)(x[..., c]) for c in range(3)], -1)
    return _curve(rng, strength=rng.uniform(0.1, 0.6))(x)


def op_contrast(rng, x):
    k = rng.uniform(-0.6, 1.0)
    s = x * x * (3 - 2 * x)
    pivot = rng.uniform(0.35, 0.65)
    return np.clip(x + k * (s - x) + rng.uniform(-0.05, 0.05) * (x - pivot), 0, 1)


def op_gamma(rng, x):
    g = np.exp(rng.normal(0, 0.3, 3 if rng.random() < 0.3 else 1))
    return np.clip(x, 0, 1) ** g


def op_fade(rng, x):
    lo = rng.uniform(0, 0.2, 3 if rng.random() < 0.4 else 1)
    hi = 1 - rng.uniform(0, 0.2, 3 if rng.random() < 0.4 else 1)
    return lo + (hi - lo) * x


def op_saturation(rng, x):
    y = _luma(x)
    if rng.random() < 0.5:
        return y + (x - y) * rng.uniform(0.3, 1.7)
    sat = x.max(-1, keepdims=True) - x.min(-1, keepdims=True)  # vibrance: boost the unsaturated colours more
    k = rng.uniform(-0.6, 1.0)
    return y + (x - y) * (1 + k * (1 - sat))


def op_white_balance(rng, x):
    t, tint = rng.normal(0, 0.12), rng.normal(0, 0.06)
    gains = np.array([1 + t, 1 - tint, 1 - t])
    return x * gains / max(1.0, gains.max() * rng.uniform(0.9, 1.1))


def op_split_tone(rng, x):
    y = _luma(x)
    if rng.random() < 0.4:  # the teal & orange of film grading
        sh, hl = np.array([-0.6, 0.1, 0.6]), np.array([0.6, 0.15, -0.6])
    else:
        sh, hl = rng.normal(0, 0.5, 3), rng.normal(0, 0.5, 3)
    a = rng.uniform(0.02, 0.12)
    bal = rng.uniform(0.3, 0.7)
    ws = np.clip(1 - y / bal, 0, 1)
    wh = np.clip((y - bal) / (1 - bal), 0, 1)
    return x + a * (ws * sh + wh * hl)


def op_mix(rng, x):
    kind = rng.random()
    if kind < 0.45:  # black and white with film-like channel weights, maybe tinted (sepia, cyanotype...)
        w = rng.dirichlet([2, 3, 1])
        y = (x @ w)[..., None]
        if rng.random() < 0.5:
            tint = np.array([0.12, 0.03, -0.1]) if rng.random() < 0.6 else rng.normal(0, 0.1, 3)
            y = y + tint * y * (1 - y) * 4 * rng.uniform(0.3, 1.0)
        return np.broadcast_to(y, x.shape)
    m = np.eye(3) + rng.normal(0, 0.12, (3, 3))
    m = m / m.sum(1, keepdims=True)
    return x @ m.T


def op_hue(rng, x):
    y = _luma(x)
    c = x - y
    ang = rng.normal(0, 0.35)
    # rotate the chroma vector about the grey axis (Rodrigues, axis (1,1,1)/sqrt 3)
    k = np.ones(3) / np.sqrt(3)
    rot = np.cos(ang) * c + np.sin(ang) * np.cross(k, c) + (1 - np.cos(ang)) * (c @ k)[..., None] * k
    return y + rot


def op_cross_process(rng, x):
    out = np.empty_like(x)
    for ch, sign in zip(range(3), rng.permutation([1, -1, 1])):
        k = sign * rng.uniform(0.2, 0.8)
        s = x[..., ch] * x[..., ch] * (3 - 2 * x[..., ch])
        out[..., ch] = x[..., ch] + k * (s - x[..., ch])
    return out + rng.normal(0, 0.03, 3)


def op_lut_noise(rng, x):
    g = 5
    noise = rng.normal(0, rng.uniform(0.02, 0.08), (g, g, g, 3))
    t = np.clip(x, 0, 1) * (g - 1)
    i0 = np.minimum(t.astype(int), g - 2)
    f = t - i0
    out = np.zeros_like(x)
    for dr in (0, 1):
        for dg in (0, 1):
            for db in (0, 1):
                w = ((f[..., 0] if dr else 1 - f[..., 0]) * (f[..., 1] if dg else 1 - f[..., 1])
                     * (f[..., 2] if db else 1 - f[..., 2]))
                out += w[..., None] * noise[i0[..., 0] + dr, i0[..., 1] + dg, i0[..., 2] + db]
    return x + out


# --- what colourists and filter apps do and film emulations do not (issue 8) ---------------------------------

def _hsv_parts(x):
    """Hue in [0, 1), chroma vector about the grey axis and luma, for hue-dependent operations."""
    y = _luma(x)
    c = x - y
    # hue angle of the chroma vector in the plane orthogonal to grey (0 = red)
    u = c[..., 0] - 0.5 * (c[..., 1] + c[..., 2])
    v = (np.sqrt(3) / 2) * (c[..., 1] - c[..., 2])
    hue = (np.arctan2(v, u) / (2 * np.pi)) % 1.0
    return hue, c, y


def _hue_window(hue, centre, width):
    d = np.abs(((hue - centre + 0.5) % 1.0) - 0.5)
    return np.clip(1 - d / width, 0, 1) ** 2


def op_teal_orange(rng, x):
    """Skin/warm hues pushed to orange, the rest to teal, by luma and by hue: the blockbuster grade."""
    hue, c, y = _hsv_parts(x)
    warm = _hue_window(hue, rng.uniform(0.03, 0.1), rng.uniform(0.12, 0.25))[..., None]
    teal, orange = np.array([-0.5, 0.15, 0.45]), np.array([0.5, 0.12, -0.45])
    a = rng.uniform(0.05, 0.2)
    dark = np.clip(1 - y / rng.uniform(0.4, 0.7), 0, 1)
    out = x + a * ((1 - warm) * dark * teal + warm * orange * np.clip(y * 2, 0, 1))
    return out + rng.uniform(0, 0.08) * (1 - warm) * c  # the rest a little more saturated


def op_bleach_bypass(rng, x):
    """A desaturated, high-contrast silver-retained look: blend with a contrasty luma (overlay)."""
    y = _luma(x)
    ov = np.where(y < 0.5, 2 * x * y, 1 - 2 * (1 - x) * (1 - y))
    k = rng.uniform(0.3, 0.9)
    return (1 - k) * x + k * ov


def op_matte(rng, x):
    """Faded blacks (lifted, often tinted) and soft highlights: the matte / Instagram fade."""
    lift = rng.uniform(0.05, 0.25) * (1 + rng.normal(0, 0.25, 3) * (rng.random() < 0.6))
    roll = rng.uniform(0.0, 0.15)
    knee = rng.uniform(0.1, 0.3)
    toe = np.where(x < knee, lift + (knee - lift) * (x / knee) ** rng.uniform(0.8, 1.6), x)
    return np.clip(toe * (1 - roll) + roll * 0.5 * (1 - (1 - x) ** 2), 0, 1)


def op_shadows(rng, x):
    """Crushed or lifted shadows with a curve only below the mid-grey."""
    p = np.exp(rng.normal(0, 0.5))
    t = np.clip(x / 0.5, 0, 1)
    return np.where(x < 0.5, 0.5 * t**p, x)


def op_day_for_night(rng, x):
    """Night out of day: dark, blue, desaturated."""
    y = _luma(x)
    k = rng.uniform(0.3, 0.6)
    d = y + (x - y) * rng.uniform(0.2, 0.6)
    blue = np.array([0.65, 0.8, 1.15]) + rng.normal(0, 0.05, 3)
    return np.clip(d * blue * (1 - k), 0, 1) ** rng.uniform(1.0, 1.5)


def op_colour_pop(rng, x):
    """Selective saturation: one hue range kept or boosted, the rest drained."""
    hue, c, y = _hsv_parts(x)
    keep = _hue_window(hue, rng.random(), rng.uniform(0.06, 0.2))[..., None]
    rest = rng.uniform(0.0, 0.6)
    boost = rng.uniform(1.0, 1.5)
    return y + c * (rest + (boost - rest) * keep)


def op_strong_cast(rng, x):
    """A strong colour cast in the gains and the offsets (cyan, green, magenta, amber...)."""
    d = rng.normal(0, 1, 3)
    d /= np.linalg.norm(d)
    gains = 1 + rng.uniform(0.1, 0.35) * d
    off = rng.uniform(0, 0.08) * d
    return x * gains / max(1.0, gains.max()) + off


def op_hue_bend(rng, x):
    """Hue-vs-hue: one hue range rotated toward another (greens to teal, skies to cyan...)."""
    hue, c, y = _hsv_parts(x)
    w = _hue_window(hue, rng.random(), rng.uniform(0.08, 0.25))[..., None]
    ang = rng.uniform(-1, 1) * rng.uniform(0.3, 1.2) * w
    k = np.ones(3) / np.sqrt(3)
    rot = np.cos(ang) * c + np.sin(ang) * np.cross(k, c) + (1 - np.cos(ang)) * (c @ k)[..., None] * k
    return y + rot


def op_tinted_fade(rng, x):
    """An app filter: lower contrast and saturation, tint laid over everything."""
    y = _luma(x)
    x = y + (x - y) * rng.uniform(0.5, 1.0)
    tint = np.clip(np.array([0.5, 0.5, 0.5]) + rng.normal(0, 0.2, 3), 0, 1)
    a = rng.uniform(0.08, 0.3)
    return (1 - a) * x + a * tint


CREATIVE_OPS = {
    "teal_orange": (op_teal_orange, 2), "bleach_bypass": (op_bleach_bypass, 1), "matte": (op_matte, 2),
    "shadows": (op_shadows, 1.5), "day_for_night": (op_day_for_night, 0.5), "colour_pop": (op_colour_pop, 0.7),
    "strong_cast": (op_strong_cast, 1.5), "hue_bend": (op_hue_bend, 1.5), "tinted_fade": (op_tinted_fade, 1.5),
}

OPS = {
    "tone_curves": (op_tone_curves, 3), "contrast": (op_contrast, 3), "gamma": (op_gamma, 1),
    "fade": (op_fade, 2), "saturation": (op_saturation, 3), "white_balance": (op_white_balance, 3),
    "split_tone": (op_split_tone, 3), "mix": (op_mix, 1.5), "hue": (op_hue, 1), "cross_process": (op_cross_process, 1),
    "lut_noise": (op_lut_noise, 1.5),
}
ALL_OPS = OPS | CREATIVE_OPS


def random_look(seed: int, size: int = 33, creative: bool = False) -> tuple[Lut, list[str]]:
    """A random look (as a size^3 Lut) and the names of its operations, deterministic from ``seed``.

    ``creative`` draws from the film-like operations AND the creative-grade ones (teal & orange, bleach bypass,
    matte, day-for-night, colour pops, hue bends...); without it the draw is the one the shipped model and the
    held-out evaluation seeds were made with.
    """
    rng = np.random.default_rng(seed)
    ops = ALL_OPS if creative else OPS
    names = list(ops)
    p = np.array([ops[n][1] for n in names], dtype=float)
    chain = [str(c) for c in rng.choice(names, size=rng.integers(2, 6), replace=False, p=p / p.sum())]
    x = identity_table(size).astype(np.float64)
    for name in chain:
        x = np.clip(ops[name][0](rng, x), 0, 1)
    return Lut(x.astype(np.float32), title=f"synthetic {seed}: " + " + ".join(chain)), chain


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0, help="first seed")
    ap.add_argument("--out", required=True, help="folder for the .cube files")
    ap.add_argument("--creative", action="store_true", help="draw creative-grade operations too")
    args = ap.parse_args(argv)
    from livefilter.luts import write_cube

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for s in range(args.seed, args.seed + args.count):
        lut, chain = random_look(s, creative=args.creative)
        write_cube(out / f"look_{s:04d}.cube", lut)
        print(f"look_{s:04d}.cube  {' + '.join(chain)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
