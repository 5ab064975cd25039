"""Train the look prior (livefilter/look/prior.py) and write models/look_prior.npz.

Pairs: a TRAINING photo A (192 px) graded with a look F; the input is the prior's features of F(A), the target F's
offsets at the 7^3 lattice. Looks: the training film and creative looks that tools/tune_oneshot.py does NOT evaluate
(film looks off its every-3rd draw, creative looks off its every-2nd), half of the pairs; random synthetic looks
(tools/synth_looks.py, seeds 3,000,000+; half of them creative), the other half. Ridge regression on standardised
features; its strength is chosen on pairs whose look FOLDER (author or film maker) is held out. Deterministic: the
same command writes the same file on one machine; on another CPU the last bits differ (session 8, re-made on an Intel
Xeon from session 7's AMD EPYC file: the weights within 1.4e-14, the metadata's error figures in their last digits,
so another sha256).

    python tools/train_look_prior.py [--pairs 8000] [--seeds 0] [--cache DIR] [--out models/look_prior.npz]
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import SHARED, load_photo, looks, photos  # noqa: E402
from synth_looks import random_look  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import prior  # noqa: E402

ALPHAS = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3)


def regression_looks() -> list[Path]:
    """Training looks tune_oneshot.py does not evaluate."""
    film = [p for i, p in enumerate(looks("train")) if i % 3]
    creative = [p for i, p in enumerate(looks("train", kinds=("creative",))) if i % 2]
    return film + creative


def folder_of(path) -> str:
    """A look's folder (its author or film maker): the family a look generalises from, or not."""
    return str(Path(path).parent.relative_to(SHARED / "looks"))


def draws(n: int, seed: int, n_photos: int, n_looks: int):
    """The pairs' draws, the same on every run: yields (k, photo index, real look index or None, synthetic look
    seed, synthetic look creative). Replaying them tells each pair's photo and look."""
    rng = np.random.default_rng(seed)
    for k in range(n):
        a = int(rng.integers(n_photos))
        if rng.random() < 0.5:
            yield k, a, int(rng.integers(n_looks)), None, False
        else:
            yield k, a, None, 3_000_000 + 100_000 * seed + k, bool(rng.random() < 0.5)


def pair_templates(n: int, seed: int = 0):
    """The pairs' templates, the same on every run: yields (k, template F(A) at the prior's side, look F, folder)."""
    paths = regression_looks()
    real = [lf.read_lut(p) for p in paths]
    pics = [load_photo(p, prior.SIDE) for p in photos("train")]
    print(f"{len(pics)} photos, {len(paths)} film + creative looks + synthetic (seed {seed})", file=sys.stderr)
    for k, i, j, synth_seed, creative in draws(n, seed, len(pics), len(real)):
        a = pics[i]
        if j is not None:
            F, group = real[j], folder_of(paths[j])
        else:
            F, group = random_look(synth_seed, creative=creative)[0], "synthetic"
        # the float trilinear reference: lf.render would bake a 256^3 table per look (most of the time here)
        t = (np.clip(F.apply_float(a.reshape(-1, 3) / 255.0), 0, 1) * 255 + 0.5).astype(np.uint8).reshape(a.shape)
        yield k, t, F, group


def build_pairs(n: int, seed: int = 0, cache: Path | None = None):
    """(X, Y, G): n pairs' features, targets and look folders ("synthetic" for the generated looks); saved to
    ``cache`` every 1000 pairs and read back from it when complete."""
    if cache is not None and cache.is_file():
        z = np.load(cache)
        if len(z["X"]) >= n:
            return z["X"][:n], z["Y"][:n], z["G"][:n]
    X, Y, G = [], [], []
    for k, t, F, group in pair_templates(n, seed):
        X.append(prior.template_features(t))
        Y.append(prior.look_offsets(F))
        G.append(group)
        if cache is not None and ((k + 1) % 1000 == 0 or k + 1 == n):
            np.savez_compressed(cache, X=np.array(X), Y=np.array(Y), G=np.array(G))
            print(f"{k + 1} pairs", file=sys.stderr, flush=True)
    return np.array(X), np.array(Y), np.array(G)


@functools.lru_cache(maxsize=1)
def node_weights(side: int = 64) -> np.ndarray:
    """A weight per lattice offset: 0.1 + how often the TRAINING photos' colours fall near the node (trilinear
    splat, normalised to mean 1), so that an error counts the colours a camera frame has, as the score does (the
    weighted lattice errors of docs/decisions.md, 'stacked prior'); set beforehand, not tuned."""
    g = prior.GRID
    dens = np.zeros((g, g, g))
    for q in photos("train"):
        x = load_photo(q, side).reshape(-1, 3) / 255.0 * (g - 1)
        i0 = np.minimum(x.astype(int), g - 2)
        f = x - i0
        for corner in range(8):
            d = np.array([(corner >> 2) & 1, (corner >> 1) & 1, corner & 1])
            wgt = np.prod(np.where(d, f, 1 - f), axis=1)
            np.add.at(dens, tuple((i0 + d).T), wgt)
    dens = 0.1 + dens / dens.mean()
    return np.repeat(dens.ravel(), 3)  # the offsets' layout: (r, g, b, channel) flattened


class Ridge:
    """Ridge regression on standardised features, every output at once."""

    def __init__(self, X, Y, alpha: float):
        X, Y = np.asarray(X, np.float64), np.asarray(Y, np.float64)
        self.mu, self.sd = X.mean(0), X.std(0) + 1e-6
        Z = (X - self.mu) / self.sd
        self.ym = Y.mean(0)
        self.W = np.linalg.solve(Z.T @ Z + alpha * len(Z) * np.eye(Z.shape[1]), Z.T @ (Y - self.ym))

    def __call__(self, X):
        return ((np.asarray(X, np.float64) - self.mu) / self.sd) @ self.W + self.ym


def choose_alpha(X, Y, G) -> tuple[float, dict]:
    """The ridge strength with the lowest error on held-out look folders (each real folder in turn, and the
    synthetic looks), as the prior meets looks from folders it never saw."""
    folders = sorted(set(G.tolist()))
    errors = {}
    for alpha in ALPHAS:
        err = []
        for f in folders:
            out = G == f
            err.append(float(np.mean((Ridge(X[~out], Y[~out], alpha)(X[out]) - Y[out]) ** 2)) * out.sum())
        errors[alpha] = sum(err) / len(G)
        print(f"alpha {alpha}: held-out-folder MSE {errors[alpha]:.5f}", file=sys.stderr)
    return min(errors, key=errors.get), errors


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pairs", type=int, default=8000, help="pairs per seed")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--cache", help="a folder for the pairs (pairs_SEED.npz), reused when complete")
    ap.add_argument("--out", default=str(prior.PRIOR_PATH))
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"needs {SHARED}", file=sys.stderr)
        return 2
    t0 = time.time()
    parts = [build_pairs(args.pairs, s, Path(args.cache) / f"pairs_{s}.npz" if args.cache else None)
             for s in args.seeds]
    X, Y, G = (np.concatenate([p[i] for p in parts]) for i in range(3))
    alpha, errors = choose_alpha(X, Y, G)
    reg = Ridge(X, Y, alpha)
    base = float(np.mean((Y - Y.mean(0)) ** 2))
    meta = {"grid": prior.GRID, "side": prior.SIDE, "features": int(X.shape[1]), "pairs": int(len(X)),
            "seeds": args.seeds, "alpha": alpha, "held-out-folder mse": errors, "mean-predictor mse": base,
            "data": "TRAINING split of ../shared/data (photos; film and creative looks off tune_oneshot's draws) "
                    "and synthetic looks (tools/synth_looks.py, seeds 3,000,000+)",
            }  # nothing that changes from run to run: the same pairs give the same file
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    prior.save_prior(args.out, reg.W, reg.mu, reg.sd, reg.ym, meta)
    digest = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()
    print(f"wrote {args.out} ({Path(args.out).stat().st_size:,} bytes, sha256 {digest}); alpha {alpha}, "
          f"held-out-folder MSE {errors[alpha]:.5f} (mean predictor {base:.5f}); {time.time() - t0:.0f} s, "
          f"Python {platform.python_version()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
