"""Train the de-filter network (tools/defilter_net.py) on (filtered, original) pairs made on the fly.

Data: the TRAINING split of ../shared/data/photos and of the looks of --kinds (../shared/data/looks/film and
looks/creative; every 5th file per folder is validation and never used here), each kind drawn equally often, plus
random synthetic looks from tools/synth_looks.py (a fresh pool of looks is drawn every --refresh steps;
--synth-creative of them with the creative-grade operations). A pair is (F(A), A) for a photo crop A and a look F. Loss:
  L1(guess, A) + 0.5 * L1 of channel means + --transfer * transfer loss,
the transfer loss being what the product is scored on: the seed's quartic is fitted (differentiable ridge least
squares) from the guess to the template and applied to another photo B; it is compared with F(B).

    python tools/train_defilter.py --out runs/train [--minutes 60] [--resume | --init CKPT]

Checkpoints (model, optimiser, step, log) are written every --ckpt-minutes to OUT/last.pt; OUT/log.jsonl has the
train and validation losses. CUDA is used when present.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
from _train_extra import require

require("torch")

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _shared_data import load_photo, looks, photos  # noqa: E402
from defilter_net import DefilterNet, SegDefilterNet  # noqa: E402
from synth_looks import random_look  # noqa: E402

from livefilter.luts import read_lut  # noqa: E402
from livefilter.luts.lut import resample  # noqa: E402

LUT_N = 33


def lut_tensor(lut) -> torch.Tensor:
    """(3, N, N, N) indexed [c, b, g, r] for grid_sample (D=b, H=g, W=r)."""
    t = lut.normalized()
    if t.size != LUT_N:
        t = resample(t, LUT_N)
    return torch.from_numpy(np.ascontiguousarray(t.table.transpose(3, 2, 1, 0)))


def apply_luts(luts: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Apply per-sample LUTs (B, 3, N, N, N) to images (B, 3, H, W) in [0, 1], trilinear."""
    b, _, h, w = x.shape
    grid = (x.permute(0, 2, 3, 1) * 2 - 1).reshape(b, 1, h, w, 3)  # (x=r, y=g, z=b)
    out = F.grid_sample(luts, grid, mode="bilinear", padding_mode="border", align_corners=True)
    return out.reshape(b, 3, h, w).clamp(0, 1)


def quartic_features(x: torch.Tensor) -> torch.Tensor:
    """(B, P, 3) colours -> (B, 3, P, 9): the seed's terms per output channel."""
    feats = []
    for c, (o1, o2) in enumerate(((1, 2), (0, 2), (0, 1))):
        own, a, b = x[..., c], x[..., o1], x[..., o2]
        cols = [torch.ones_like(own)] + [own**k for k in range(1, 5)] + [0.5 * (a**k + b**k) for k in range(1, 5)]
        feats.append(torch.stack(cols, -1))
    return torch.stack(feats, 1)


def fit_quartic(src: torch.Tensor, dst: torch.Tensor, ridge: float = 1e-3, weight: torch.Tensor | None = None):
    """Ridge least squares toward identity, batched: (B, P, 3) -> coefficients (B, 3, 9); ``weight`` (B, P): each
    colour pair's weight (a soft segment mask), None: all 1."""
    X = quartic_features(src)
    if weight is None:
        weight = torch.ones(src.shape[:2], device=src.device)
    p = weight.sum(1)[:, None, None, None] + 1e-6
    ident = torch.zeros(3, 9, device=src.device)
    ident[:, 1] = 1
    Xw = X * weight[:, None, :, None]
    A = Xw.transpose(-1, -2) @ X + ridge * p * torch.eye(9, device=src.device)
    rhs = Xw.transpose(-1, -2) @ dst.permute(0, 2, 1)[..., None] + ridge * p * ident[None, ..., None]
    return torch.linalg.solve(A, rhs)[..., 0]


def eval_quartic(coefs: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return (quartic_features(x) @ coefs[..., None])[..., 0].permute(0, 2, 1)


def _at_least(img: np.ndarray, side: int) -> np.ndarray:
    import cv2

    h, w = img.shape[:2]
    if min(h, w) >= side:
        return img
    s = side / min(h, w)
    return cv2.resize(img, (max(side, round(w * s)), max(side, round(h * s))), interpolation=cv2.INTER_LINEAR)


class Data:
    def __init__(self, split: str, side: int, crop: int, n_synth: int, seed: int, real_fraction: float,
                 kinds=("film",), synth_creative: float = 0.0, segments: bool = False, split_fraction: float = 0.0,
                 only_looks: set | None = None):
        self.crop, self.n_synth, self.real_fraction = crop, n_synth, real_fraction
        self.synth_creative = synth_creative
        self.split_fraction = split_fraction if segments else 0.0
        self.rng = np.random.default_rng(seed)
        imgs = [_at_least(load_photo(p, side), crop) for p in photos(split)]
        self.photos = [torch.from_numpy(i).permute(2, 0, 1).float().div(255) for i in imgs]
        self.masks = None
        if segments:  # the product's soft person mask of each photo, at the photo's size
            from livefilter.analysis.segments import Segmenter, resize_mask

            with Segmenter() as seg:
                self.masks = [torch.from_numpy(resize_mask(seg.mask(i), i.shape[:2])).float()[None] for i in imgs]
            share = np.array([float((m >= 0.5).float().mean()) for m in self.masks])
            self.people = np.flatnonzero((share >= 0.1) & (share <= 0.9))
            print(f"{split}: {len(self.people)} of {len(imgs)} photos with people", file=sys.stderr)
        # one pool per kind, drawn equally often: 120 creative grades are not drowned by 236 film looks
        # only_looks: the real looks allowed (None: every look of the split)
        self.real = [torch.stack([lut_tensor(read_lut(p)) for p in looks(split, kinds=(k,))
                                  if only_looks is None or p in only_looks]) for k in kinds]
        self.synth_seed = 10_000_000 + seed * 1_000_000 if split == "train" else 9_000_000
        self.refresh()

    def refresh(self):
        seeds = self.rng.integers(self.synth_seed, self.synth_seed + 999_999, self.n_synth)
        creative = self.rng.random(self.n_synth) < self.synth_creative
        self.synth = torch.stack([lut_tensor(random_look(int(s), creative=bool(c))[0])
                                  for s, c in zip(seeds, creative)])

    def real_look(self):
        pool = self.real[self.rng.integers(len(self.real))]
        return pool[self.rng.integers(len(pool))]

    def crop_photo(self, i):
        """A random crop of photo i (and of its mask when there are masks: the two stacked, 4 channels)."""
        p = self.photos[i] if self.masks is None else torch.cat([self.photos[i], self.masks[i]])
        _, h, w = p.shape
        c = self.crop
        y, x = self.rng.integers(0, h - c + 1), self.rng.integers(0, w - c + 1)
        out = p[:, y:y + c, x:x + c]
        return out.flip(-1) if self.rng.random() < 0.5 else out

    def look(self, real: bool):
        return self.real_look() if real else self.synth[self.rng.integers(len(self.synth))]

    def batch(self, n):
        """(A, B, luts) or, with masks, (A, B, luts, luts2, split): A and B (n, 4, c, c) with the mask as the 4th
        channel; a split pair (split[i]) has its person graded with luts and its background with luts2, both
        photos from those with people."""
        split = self.rng.random(n) < self.split_fraction
        a_idx = self.rng.integers(0, len(self.photos), n)
        b_idx = (a_idx + self.rng.integers(1, len(self.photos), n)) % len(self.photos)
        for i in np.flatnonzero(split):
            a_idx[i], b_idx[i] = self.rng.choice(self.people, 2, replace=False)
        real = self.rng.random(n) < self.real_fraction
        luts = torch.stack([self.look(r) for r in real])
        A = torch.stack([self.crop_photo(i) for i in a_idx])
        B = torch.stack([self.crop_photo(i) for i in b_idx])
        if self.masks is None:
            return A, B, luts
        luts2 = torch.stack([self.look(r) for r in self.rng.random(n) < self.real_fraction])
        return A, B, luts, luts2, torch.from_numpy(split)


def graded(A, luts, luts2=None, split=None):
    """The look(s) applied: A (B, 3 or 4, H, W) -> (B, 3, H, W); split pairs get luts on the person (A's 4th
    channel, the soft mask) and luts2 on the background."""
    out = apply_luts(luts, A[:, :3].contiguous())
    if split is not None and bool(split.any()):
        m = A[:, 3:4] * split[:, None, None, None].to(A.dtype)
        out = out * m + apply_luts(luts2, A[:, :3].contiguous()) * (1 - m)
    return out


def losses(model, A, B, luts, luts2=None, split=None, n_pix=2048, transfer=1.0, excess=0.0):
    """The training loss; with masks (A and B with 4 channels, the segmentation-aware network) split pairs are
    scored on per-segment transfer: one quartic fitted on the person's pixels, one on the background's.
    ``excess``: the weight of each pair's transfer error above doing nothing's (a mean over pairs), so that a guess
    which makes a mild look's transfer worse than doing nothing costs more than the batch mean says
    (docs/decisions.md, 'de-filter excess penalty')."""
    seg = A.shape[1] == 4
    T = graded(A, luts, luts2, split)
    guess = model(T, A[:, 3:4]) if seg else model(T)
    FB = graded(B, luts, luts2, split)
    if seg:
        mA, mB, A, B = A[:, 3:4], B[:, 3:4], A[:, :3], B[:, :3]
    l1 = (guess - A).abs().mean()
    lmean = (guess.mean((2, 3)) - A.mean((2, 3))).abs().mean()
    b = A.shape[0]
    idx = torch.randint(0, A.shape[2] * A.shape[3], (n_pix,))
    g = guess.flatten(2)[:, :, idx].permute(0, 2, 1)
    t = T.flatten(2)[:, :, idx].permute(0, 2, 1)
    coefs = fit_quartic(g, t)
    bs = B.flatten(2)[:, :, idx].permute(0, 2, 1)
    fb = FB.flatten(2)[:, :, idx].permute(0, 2, 1)
    pred = eval_quartic(coefs, bs).clamp(0, 1)
    if seg and split is not None and bool(split.any()):
        wa = mA.flatten(2)[:, 0, idx]
        wb = mB.flatten(2)[:, 0, idx][..., None]
        per = eval_quartic(fit_quartic(g, t, weight=wa), bs).clamp(0, 1) * wb + \
            eval_quartic(fit_quartic(g, t, weight=1 - wa), bs).clamp(0, 1) * (1 - wb)
        pred = torch.where(split[:, None, None], per, pred)
    per_pair = (pred - fb).abs().mean((1, 2))
    ltr = per_pair.mean()
    ident_pair = (bs - fb).abs().mean((1, 2))
    over = (per_pair - ident_pair).clamp(min=0)
    total = l1 + 0.5 * lmean + transfer * ltr + excess * over.mean()
    # the same numbers for "do nothing" (guess = template), the baseline to beat
    with torch.no_grad():
        ident_l1 = (T - A).abs().mean()
        ident_tr = ident_pair.mean()
        tr_split = ident_split = float("nan")  # the split pairs alone (the per-segment benchmark's case)
        if seg and split is not None and bool(split.any()):
            tr_split = (pred - fb).abs()[split].mean().item()
            ident_split = (bs - fb).abs()[split].mean().item()
    return total, {"l1": l1.item(), "transfer": ltr.item(), "l1_identity": ident_l1.item(),
                   "transfer_identity": ident_tr.item(), "transfer_split": tr_split,
                   "transfer_split_identity": ident_split, "excess": over.mean().item(),
                   "worse": float((per_pair > ident_pair).float().mean()), "n": b}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="runs/train")
    ap.add_argument("--minutes", type=float, default=60)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--size", type=int, default=128, help="the preset size (crops of this size)")
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--transfer", type=float, default=1.0)
    ap.add_argument("--excess", type=float, default=0.0,
                    help="weight of each pair's transfer error above doing nothing's (the shipped network: 6 in its "
                         "last 50 minutes)")
    ap.add_argument("--real-fraction", type=float, default=0.5, help="share of real looks (rest synthetic)")
    ap.add_argument("--kinds", nargs="+", default=["film", "creative"], choices=("film", "creative"),
                    help="real look folders of ../shared/data/looks to train on (training split)")
    ap.add_argument("--synth-creative", type=float, default=0.6,
                    help="share of synthetic looks drawn with the creative-grade operations")
    ap.add_argument("--init", help="start from this checkpoint's weights (a fresh optimiser and step count kept)")
    ap.add_argument("--synth", type=int, default=400, help="synthetic looks in the pool")
    ap.add_argument("--refresh", type=int, default=300, help="steps between synthetic pool refreshes")
    ap.add_argument("--ckpt-minutes", type=float, default=5)
    ap.add_argument("--val-every", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--segments", action="store_true",
                    help="the segmentation-aware network (FIG. 3: person mask in, same-scale skips), --init from a "
                         "FIG. 2 checkpoint starts it at that checkpoint's guess")
    ap.add_argument("--split-fraction", type=float, default=0.5,
                    help="with --segments: share of pairs whose person and background get different looks")
    ap.add_argument("--hold-out-tuned-looks", action="store_true",
                    help="train without the training looks tools/tune_oneshot.py evaluates (only the look prior's, "
                         "train_look_prior.regression_looks): a network for which those templates are out of sample, "
                         "so that rules fitted on them are not flattered (start it from scratch: no --init/--resume "
                         "of a network that saw them)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = (SegDefilterNet if args.segments else DefilterNet)(args.width, args.size)
    model = model.to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), args.lr)
    step = 0
    if args.resume and (out / "last.pt").is_file():
        ck = torch.load(out / "last.pt", map_location=dev, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        print(f"resumed at step {step}", file=sys.stderr)
    elif args.init:
        ck = torch.load(args.init, map_location=dev, weights_only=False)
        fig2 = args.segments and not ck.get("args", {}).get("segments", False)
        model.load_fig2(ck["model"]) if fig2 else model.load_state_dict(ck["model"])
        if "opt" in ck and not fig2:
            opt.load_state_dict(ck["opt"])
        step = ck.get("step", 0)
        print(f"initialised from {args.init} (step {step})", file=sys.stderr)
    side = int(args.size * 1.5)
    only = None
    if args.hold_out_tuned_looks:
        from train_look_prior import regression_looks

        only = set(regression_looks())
    train = Data("train", side, args.size, args.synth, args.seed + step, args.real_fraction, args.kinds,
                 args.synth_creative, args.segments, args.split_fraction, only)
    val = Data("val", side, args.size, 64, 123, args.real_fraction, args.kinds, args.synth_creative,
               args.segments, args.split_fraction)
    val_batches = [val.batch(args.batch) for _ in range(4)]  # fixed validation pairs
    t_end = time.time() + args.minutes * 60
    t_ckpt = time.time() + args.ckpt_minutes * 60
    log = open(out / "log.jsonl", "a")
    run_stats = []

    def save():
        tmp = out / "last.pt.tmp"
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "args": vars(args)}, tmp)
        tmp.replace(out / "last.pt")

    def means(stats):
        # the split-pair losses exist only with --segments (NaN in every batch otherwise): left out then
        return {k: float(np.nanmean(v)) for k in stats[0] if np.isfinite(v := [s[k] for s in stats]).any()}

    def validate():
        model.eval()
        vs = []
        with torch.no_grad():
            for vb in val_batches:
                vs.append(losses(model, *(t.to(dev) for t in vb), transfer=args.transfer, excess=args.excess)[1])
        m = means(vs)
        log.write(json.dumps({"step": step, "split": "val", **m, "time": time.time()}) + "\n")
        log.flush()
        split = (f"  split pairs {m['transfer_split']:.4f} (identity {m['transfer_split_identity']:.4f})"
                 if "transfer_split" in m else "")
        print(f"\n[val] step {step}  l1 {m['l1']:.4f} (identity {m['l1_identity']:.4f})  transfer "
              f"{m['transfer']:.4f} (identity {m['transfer_identity']:.4f}){split}", file=sys.stderr)

    validate()  # the starting point, on the same pairs
    t0 = time.time()
    while time.time() < t_end:
        model.train()
        A, B, *rest = (t.to(dev) for t in train.batch(args.batch))
        lr = args.lr * 0.5 * (1 + math.cos(math.pi * min(1.0, (time.time() - t0) / (args.minutes * 60))))
        for g in opt.param_groups:
            g["lr"] = lr
        loss, st = losses(model, A.contiguous(memory_format=torch.channels_last), B, *rest, transfer=args.transfer,
                          excess=args.excess)
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        run_stats.append(st)
        if step % 20 == 0:
            m = means(run_stats)
            left = (t_end - time.time()) / 60
            print(f"\rstep {step}  l1 {m['l1']:.4f} (identity {m['l1_identity']:.4f})  transfer {m['transfer']:.4f} "
                  f"(identity {m['transfer_identity']:.4f})  lr {lr:.2e}  {left:.0f} min left", end="",
                  file=sys.stderr, flush=True)
            log.write(json.dumps({"step": step, "split": "train", **m, "time": time.time()}) + "\n")
            log.flush()
            run_stats = []
        if step % args.refresh == 0:
            train.refresh()
        if step % args.val_every == 0:
            validate()
        if time.time() > t_ckpt:
            save()
            t_ckpt = time.time() + args.ckpt_minutes * 60
    save()
    print(f"\ndone: {step} steps", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
