"""Experiment: the de-filter network fine-tuned with a penalty on each pair's excess over doing nothing.

Reading 1's tail (looks made worse than doing nothing) comes from mild looks that the network reads as strong
grades. The training loss is a batch mean, so an overshoot on a mild look costs no more than an undershoot on a
strong one. This adds, per pair, relu(transfer error - doing nothing's transfer error) x --excess to the loss, and
runs tools/train_defilter.py's loop unchanged (its arguments pass through).

    python tools/experiments/excess_loss.py --excess 6 --out runs/excess --resume --minutes 45 --lr 3e-4 --transfer 3
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))

import train_defilter as td  # noqa: E402

WEIGHT = 0.0
_losses = td.losses


def losses(model, A, B, luts, luts2=None, split=None, n_pix=2048, transfer=1.0):
    """train_defilter.losses for the FIG. 2 network (no segments), plus WEIGHT x the mean over pairs of each pair's
    transfer excess over doing nothing (one forward pass)."""
    T = td.graded(A, luts)
    guess = model(T)
    FB = td.graded(B, luts)
    l1 = (guess - A).abs().mean()
    lmean = (guess.mean((2, 3)) - A.mean((2, 3))).abs().mean()
    idx = td.torch.randint(0, A.shape[2] * A.shape[3], (n_pix,))
    g = guess.flatten(2)[:, :, idx].permute(0, 2, 1)
    t = T.flatten(2)[:, :, idx].permute(0, 2, 1)
    bs = B.flatten(2)[:, :, idx].permute(0, 2, 1)
    fb = FB.flatten(2)[:, :, idx].permute(0, 2, 1)
    pred = td.eval_quartic(td.fit_quartic(g, t), bs).clamp(0, 1)
    per = (pred - fb).abs().mean((1, 2))
    ident = (bs - fb).abs().mean((1, 2))
    excess = (per - ident.detach()).clamp(min=0)
    total = l1 + 0.5 * lmean + transfer * per.mean() + WEIGHT * excess.mean()
    with td.torch.no_grad():
        ident_l1 = (T - A).abs().mean()
    nan = float("nan")
    return total, {"l1": l1.item(), "transfer": per.mean().item(), "l1_identity": ident_l1.item(),
                   "transfer_identity": ident.mean().item(), "transfer_split": nan, "transfer_split_identity": nan,
                   "excess": excess.mean().item(), "worse": float((per > ident).float().mean()), "n": A.shape[0]}


def main() -> int:
    global WEIGHT
    argv = sys.argv[1:]
    i = argv.index("--excess")
    WEIGHT = float(argv[i + 1])
    del argv[i:i + 2]
    td.losses = losses
    return td.main(argv)


if __name__ == "__main__":
    sys.exit(main())
