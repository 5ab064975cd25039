"""Build the look library (livefilter/look/library.py) and write models/look_library.npz.

Looks: every TRAINING look of ../shared/data (film: colour, black-and-white, PictureFX, CC BY-SA 4.0; creative
grades, CC0) and random synthetic looks (tools/synth_looks.py, seeds 4,000,000+, half of them creative). Entries:
each TRAINING photo (128 px) graded with ENTRIES_PER_PHOTO looks drawn at random (seed 0); an entry keeps the look
statistics of the graded photo, projected on their first DIMS principal components, and which look it is. The looks
are kept as offsets from identity at a GRID^3 lattice (float16: within 0.46 dE00 of the full look on photos, 13^3;
9^3 gave 0.72, 17^3 0.34 at twice the size).

Deterministic: one thread for every numerical step and a zip with fixed timestamps, so the same data gives the same
bytes (`--check` rebuilds and compares with the shipped file).

    python tools/build_look_library.py [--out models/look_library.npz] [--check]
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import SHARED, load_photo, looks, photos  # noqa: E402
from synth_looks import random_look  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import library  # noqa: E402
from livefilter.luts.lut import identity_table  # noqa: E402

GRID = 13
DIMS = 64
ENTRIES_PER_PHOTO = 60
SYNTHETIC = 120
SYNTH_SEED = 4_000_000


def library_looks(root: Path = SHARED, synthetic: int = SYNTHETIC) -> list[tuple[str, str, lf.Lut]]:
    """(name, folder, Lut) of every library look: the training split's real looks, then the synthetic ones."""
    out = []
    for p in looks("train", root, kinds=("film", "creative")):
        rel = p.relative_to(root / "looks")
        # the shared data's own HaldCLUTs: the check that a .png is a Hald and not a photo is not needed (half the
        # build's time went to it)
        out.append((str(rel.with_suffix("")), str(rel.parent), lf.read_lut(p, check_content=False)))
    for i in range(synthetic):
        creative = i % 2 == 1
        out.append((f"synthetic{' creative' if creative else ''} {SYNTH_SEED + i}", "synthetic",
                    random_look(SYNTH_SEED + i, creative=creative)[0]))
    return out


def build(root: Path = SHARED, n_photos: int = 0, synthetic: int = SYNTHETIC, per_photo: int = ENTRIES_PER_PHOTO,
          log=print) -> dict:
    """The library's arrays (see LookLibrary), from ``root``'s training split; ``n_photos`` > 0: only that many."""
    from threadpoolctl import threadpool_limits

    cv2.setNumThreads(1)
    items = library_looks(root, synthetic)
    pics = photos("train", root)
    if n_photos:
        pics = pics[:n_photos]
    grid = identity_table(GRID).reshape(-1, 3).astype(np.float64)
    offsets = np.stack([np.clip(F.apply_float(grid), 0, 1).reshape(GRID, GRID, GRID, 3) - grid.reshape(
        GRID, GRID, GRID, 3) for _, _, F in items]).astype(np.float16)
    rng = np.random.default_rng(0)
    stats, entry_look = [], []
    t0 = time.time()
    for i, p in enumerate(pics):
        img = load_photo(p, library.SIDE)
        px = img.reshape(-1, 3).astype(np.float64) / 255.0
        for j in rng.choice(len(items), min(per_photo, len(items)), replace=False):
            graded = np.clip(items[j][2].apply_float(px) * 255.0 + 0.5, 0, 255).astype(np.uint8).reshape(img.shape)
            stats.append(library.look_statistics(graded))
            entry_look.append(int(j))
        if i % 20 == 0:
            log(f"[{i + 1}/{len(pics)}] {time.time() - t0:.0f} s")
    X = np.asarray(stats, np.float64)
    groups = library.group_index()
    with threadpool_limits(1):
        mean = X.mean(0)
        Xc = X - mean
        scale = np.ones(X.shape[1])
        for g in range(len(library.GROUPS)):  # each group to unit RMS (its total variance 1)
            sel = groups == g
            scale[sel] = 1.0 / max(float(np.sqrt((Xc[:, sel] ** 2).sum(1).mean())), 1e-12)
        Z = Xc * scale
        _, sv, vt = np.linalg.svd(Z, full_matrices=False)
        comps = vt[:DIMS]
        comps *= np.sign(comps[np.arange(len(comps)), np.abs(comps).argmax(1)])[:, None]  # a fixed sign per axis
        entries = (Z @ comps.T).astype(np.float16)
    meta = {"grid": GRID, "dims": DIMS, "side": library.SIDE, "photos": len(pics), "entries": len(entry_look),
            "looks": [n for n, _, _ in items], "folders": [f for _, f, _ in items],
            "explained variance": round(float((sv[:DIMS] ** 2).sum() / (sv ** 2).sum()), 4),
            "data": "TRAINING split of ../shared/data (photos; film looks CC BY-SA 4.0, creative looks CC0) and "
                    f"synthetic looks (tools/synth_looks.py, seeds {SYNTH_SEED}..{SYNTH_SEED + synthetic - 1})"}
    return {"mean": mean.astype(np.float32), "scale": scale.astype(np.float32), "components": comps.astype(np.float32),
            "entries": entries, "entry_look": np.asarray(entry_look, np.int16), "offsets": offsets,
            "meta": np.asarray(__import__("json").dumps(meta, sort_keys=True))}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(library.LIBRARY_PATH))
    ap.add_argument("--photos", type=int, default=0, help="only the first N training photos (a quick check)")
    ap.add_argument("--synthetic", type=int, default=SYNTHETIC)
    ap.add_argument("--check", action="store_true", help="rebuild into a temporary file and compare with --out")
    args = ap.parse_args(argv)
    if not SHARED.is_dir():
        print(f"needs {SHARED}", file=sys.stderr)
        return 2
    out = Path(args.out)
    target = out.with_name(out.name + ".check") if args.check else out
    t0 = time.time()
    arrays = build(SHARED, args.photos, args.synthetic, log=lambda s: print(s, file=sys.stderr))
    library.save_npz_exact(target, dict(sorted(arrays.items())))
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"wrote {target} ({target.stat().st_size:,} bytes, sha256 {digest}, {time.time() - t0:.0f} s)")
    if args.check:
        same = out.is_file() and out.read_bytes() == target.read_bytes()
        target.unlink()
        print("same bytes as " + str(out) if same else f"DIFFERENT from {out}")
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
