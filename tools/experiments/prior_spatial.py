"""Experiment (training data only): does the look prior gain from WHERE things are in the template?

The shipped prior's features are global (livefilter/look/prior.py: the scene network's map pooled over the whole
image, colour statistics of all pixels; 305 numbers). Here each quadrant of the template's square view adds its own
pooled map (4 x 192) and colour statistics (4 x 113): 1,525 numbers. The same ridge, the same seed-0 pairs (their
draws replayed: tools/train_look_prior.py), scored end to end by tools/experiments/feature_inverse.py with these
features in place of the shipped ones.

    python tools/experiments/prior_spatial.py build PAIRS_OUT.npz
    python tools/experiments/prior_spatial.py eval PAIRS.npz ROWS.json K/M train|val
"""
import sys
from pathlib import Path

import numpy as np

_HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(_HERE.parent.parent))
sys.path.insert(0, str(_HERE.parent))
sys.path.insert(0, str(_HERE))

import livefilter as lf  # noqa: E402
from livefilter.look import prior  # noqa: E402

BASE_FEATURES = prior.template_features


def spatial_features(rgb: np.ndarray, scene=None) -> np.ndarray:
    from livefilter.analysis.scene import default_model

    small = prior.square(rgb)
    m = scene or default_model()
    _, fmap = m._run(small[..., :3])
    c, h, w = fmap.shape[1:]
    s = small.shape[0] // 2
    deep = [fmap[0].mean(axis=(1, 2))]
    stats = [prior.colour_statistics(small)]
    for i in (0, 1):
        for j in (0, 1):
            deep.append(fmap[0, :, i * h // 2:(i + 1) * h // 2, j * w // 2:(j + 1) * w // 2].mean(axis=(1, 2)))
            stats.append(prior.colour_statistics(small[i * s:(i + 1) * s, j * s:(j + 1) * s]))
    return np.concatenate(deep + stats).astype(np.float32)


def build(out: str, n: int = 8000) -> None:
    from _shared_data import load_photo, photos
    from synth_looks import random_look
    from train_look_prior import draws, folder_of, regression_looks

    paths = regression_looks()
    real = [lf.read_lut(p) for p in paths]
    pics = [load_photo(p, prior.SIDE) for p in photos("train")]
    X, Y, G = [], [], []
    for k, i, j, synth_seed, creative in draws(n, 0, len(pics), len(real)):
        a = pics[i]
        F, group = (real[j], folder_of(paths[j])) if j is not None else (random_look(synth_seed, creative=creative)[0],
                                                                         "synthetic")
        t = (np.clip(F.apply_float(a.reshape(-1, 3) / 255.0), 0, 1) * 255 + 0.5).astype(np.uint8).reshape(a.shape)
        X.append(spatial_features(t))
        Y.append(prior.look_offsets(F))
        G.append(group)
        if (k + 1) % 1000 == 0:
            print(f"{k + 1} pairs", file=sys.stderr, flush=True)
    np.savez_compressed(out, X=np.array(X), Y=np.array(Y), G=np.array(G))


if __name__ == "__main__":
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "build":
        build(sys.argv[2])
    elif cmd == "eval":
        import feature_inverse

        prior.template_features = spatial_features  # feature_inverse reads the template's features through it
        feature_inverse.evaluate(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5])
    else:
        sys.exit(__doc__)
