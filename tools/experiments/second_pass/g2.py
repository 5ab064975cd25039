"""Throw-away: the network's change on its own guess (a second pass), per template of the rule rows."""
import json, sys
sys.path.insert(0, "/work/main"); sys.path.insert(0, "/work/main/tools")
import numpy as np
from _shared_data import load_photo, look_family, looks, photos
import livefilter as lf
from livefilter.look.defilter import defilter, guess_change
split, out = sys.argv[1], sys.argv[2]
if split == "train":
    film = [p for i, p in enumerate(looks("train")) if i % 3 == 0]
    creative = [p for i, p in enumerate(looks("train", kinds=("creative",))) if i % 2 == 0]
    items = [p for p in film + creative if look_family(p) in ("color", "creative")]
elif split == "train_old":
    items = [p for p in looks("train", kinds=("film", "creative")) if look_family(p) in ("color", "creative")][::2]
    split = "train"
else:
    items = [p for p in looks(split, kinds=("film", "creative")) if look_family(p) in ("color", "creative")]
pics = [load_photo(p, 384) for p in photos(split)]
rng = np.random.default_rng(0)
rows = []
for k, path in enumerate(items):
    ia, *ibs = (int(i) for i in rng.choice(len(pics), 4, replace=False))
    T = lf.render(pics[ia], lf.read_lut(path))
    s, G = defilter(T)
    s2, G2 = defilter(G)
    _, A2 = defilter(pics[ia])  # the network on the true original (a diagnostic only)
    rows.append({"g": guess_change(s, G), "g2": guess_change(s2, G2), "g_orig": guess_change(_, A2),
                 "contrast_T": float(s.std()), "contrast_G": float(G.std())})
json.dump(rows, open(out, "w"))
