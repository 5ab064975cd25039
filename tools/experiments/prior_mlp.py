"""Experiment (training data only): would a small MLP beat the look prior's ridge regression?

The look prior's pairs (tools/train_look_prior.py's seed-0 build, 8,000 pairs; pass its cache file), each look
folder held out in turn (and the synthetic looks): mean squared error of the predicted 7^3 lattice offsets on the
held-out folder's pairs, the ridge (alpha 0.03, as shipped) against a one-hidden-layer MLP (256 ReLU units, AdamW
1e-3, weight decay 1e-4, 40 epochs of batches of 256; torch, the train extra). Not tuned: a first look.

    python tools/experiments/prior_mlp.py PAIRS.npz
"""
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from train_look_prior import Ridge  # noqa: E402


class MLP:
    def __init__(self, X, Y, hidden=256, epochs=40, wd=1e-4, seed=0, weights=None):
        """``weights``: one per output (the loss's weight of each lattice offset), or None (all 1)."""
        torch.manual_seed(seed)
        wt = torch.ones(Y.shape[1]) if weights is None else torch.tensor(np.asarray(weights, np.float32))
        self.mu, self.sd, self.ym = X.mean(0), X.std(0) + 1e-6, Y.mean(0)
        Z, T = torch.tensor((X - self.mu) / self.sd), torch.tensor(Y - self.ym)
        self.net = torch.nn.Sequential(torch.nn.Linear(X.shape[1], hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, Y.shape[1]))
        opt = torch.optim.AdamW(self.net.parameters(), 1e-3, weight_decay=wd)
        for _epoch in range(epochs):
            perm = torch.randperm(len(Z))
            for i in range(0, len(Z), 256):
                b = perm[i:i + 256]
                loss = (wt * (self.net(Z[b]) - T[b]) ** 2).mean()
                opt.zero_grad()
                loss.backward()
                opt.step()

    def __call__(self, x):
        z = ((np.atleast_2d(x) - self.mu) / self.sd).astype(np.float32)
        with torch.no_grad():
            return self.net(torch.tensor(z)).numpy() + self.ym


def main() -> int:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    torch.set_num_threads(2)
    d = np.load(sys.argv[1])
    X, Y, G = d["X"].astype(np.float32), d["Y"].astype(np.float32), d["G"]
    t0 = time.time()
    errs = {"ridge": 0.0, "mlp": 0.0}
    print("| held-out folder | pairs | ridge MSE | MLP MSE |\n|---|---|---|---|")
    for f in sorted(set(G.tolist())):
        out = G == f
        e_r = float(np.mean((Ridge(X[~out], Y[~out], 0.03)(X[out]) - Y[out]) ** 2))
        e_m = float(np.mean((MLP(X[~out], Y[~out])(X[out]) - Y[out]) ** 2))
        errs["ridge"] += e_r * out.sum() / len(G)
        errs["mlp"] += e_m * out.sum() / len(G)
        print(f"| {f} | {int(out.sum())} | {e_r:.5f} | {e_m:.5f} |", flush=True)
    base = float(np.mean((Y - Y.mean(0)) ** 2))
    print(f"\nall pairs, each scored with its folder held out: ridge {errs['ridge']:.5f}, MLP {errs['mlp']:.5f} "
          f"(mean predictor {base:.5f}); {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
