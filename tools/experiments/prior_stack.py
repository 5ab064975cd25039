"""Experiment (training data only): the look prior STACKED on the network's look (issue 8, one photo).

The shipped one-photo look averages the network's look and the ridge prior's in fixed halves (fit.PRIOR_SHARE).
Here a regression sees both: its input is the prior's features of the template AND the network's look of it (the
seed quartic fitted from (network guess, template) pairs, with the product's coverage fall-back p0 0.3, as offsets
at the prior's 7^3 lattice), so it can learn where the network is right, where it shrinks a look, and where it
invents one. Target: the look's true lattice offsets. Pairs: tools/train_look_prior.py's seed-0 build (TRAINING
photos x looks tune_oneshot does not evaluate, and synthetic looks), replayed.

    python tools/experiments/prior_stack.py build OUT.npz [K/M]     # the network's look of each pair (part K of M)
        (DEFILTER_MODEL=M.onnx in the environment: another de-filter network's look)
    python tools/experiments/prior_stack.py cv PAIRS.npz NET.npz[,MORE.npz]
        (each look folder held out in turn: lattice error of the network's look, the ridge's, their mean and the
        stacked regressions; plain and weighted by where training photos' colours lie)
"""
import sys
import time
from pathlib import Path

import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
from _shared_data import SHARED, defilter_from_env  # noqa: E402
from train_look_prior import Ridge, node_weights, pair_templates  # noqa: E402

from livefilter.look import coverage_of, fit_mappings, pairing_for, pixel_pairs, prior  # noqa: E402
from livefilter.look.fit import load_template  # noqa: E402

P0 = 0.3  # the product's one-photo coverage fall-back (fit.COVERAGE_P0["network"])
# the stacked ridge's strength: the lowest held-out-folder error weighted by photo colours of 0.01-3 (cv, 0.3)
STACK_ALPHA = 0.3


def lattice_look(glob, cov) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fitted mapping at the prior's lattice: (offsets with the coverage fall-back, offsets without, coverage
    trust at the nodes)."""
    g = prior.lattice().reshape(-1, 3)
    raw = np.clip(glob(g), 0, 1) - g
    c = cov.trust_at(g, P0)
    return (c[:, None] * raw).ravel(), raw.ravel(), c


def network_look(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """The network's look of template t at the lattice: lattice_look's three and the guess change d."""
    p = pairing_for(load_template(t), monochrome=False)
    pairs = pixel_pairs(p)
    glob, _ = fit_mappings(pairs, "seed")
    return (*lattice_look(glob, coverage_of(p, pairs)), float(p.change))


def build(out: str, part: str = "0/1", n: int = 8000) -> None:
    si, sn = map(int, part.split("/"))
    K, NET, RAW, C, D = [], [], [], [], []
    t0 = time.time()
    for k, t, _look, _group in pair_templates(n, 0):
        if k % sn != si:
            continue
        net, raw, c, d = network_look(t)
        K.append(k), NET.append(net), RAW.append(raw), C.append(c), D.append(d)
        if len(K) % 500 == 0:
            np.savez_compressed(out, K=np.array(K), NET=np.array(NET, np.float32), RAW=np.array(RAW, np.float32),
                                C=np.array(C, np.float32), D=np.array(D))
            print(f"{len(K)} pairs, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    np.savez_compressed(out, K=np.array(K), NET=np.array(NET, np.float32), RAW=np.array(RAW, np.float32),
                        C=np.array(C, np.float32), D=np.array(D))


def load(pairs: str, nets: str):
    z = np.load(pairs)
    X, Y, G = z["X"].astype(np.float64), z["Y"].astype(np.float64), z["G"]
    parts = [np.load(q) for q in nets.split(",")]
    order = np.argsort(np.concatenate([q["K"] for q in parts]))
    NET, C, D = (np.concatenate([q[k] for q in parts])[order].astype(np.float64) for k in ("NET", "C", "D"))
    assert len(NET) == len(X), "the network's looks do not cover every pair"
    return X, Y, G, NET, C, D


def held_out(fit, G):
    """Predictions for every pair from models fitted without its look folder: fit(train_mask, test_mask) -> pred."""
    out = None
    for f in sorted(set(G.tolist())):
        te = G == f
        pred = fit(~te, te)
        if out is None:
            out = np.zeros((len(G), pred.shape[1]))
        out[te] = pred
    return out


def cross_validate(pairs: str, nets: str) -> None:
    X, Y, G, NET, C, D = load(pairs, nets)
    alpha = 0.01
    wts = node_weights()
    reg = held_out(lambda tr, te: Ridge(X[tr], Y[tr], alpha)(X[te]), G)
    mix = 0.5 * (NET + reg)
    XN = np.hstack([X, NET])
    preds = {"identity": np.zeros_like(Y), "net": NET, "reg": reg, "mix": mix}
    for a in (0.01, 0.03, 0.1, 0.3):
        preds[f"stack [X, net] alpha {a}"] = held_out(lambda tr, te, a=a: Ridge(XN[tr], Y[tr], a)(XN[te]), G)
        preds[f"stack residual of net alpha {a}"] = NET + held_out(
            lambda tr, te, a=a: Ridge(XN[tr], Y[tr] - NET[tr], a)(XN[te]), G)
        preds[f"stack residual of mix alpha {a}"] = mix + held_out(
            lambda tr, te, a=a: Ridge(XN[tr], Y[tr] - mix[tr], a)(XN[te]), G)
    # per lattice offset: y = a net + b reg + c (coverage trust x net) + e, fitted on out-of-folder reg predictions
    cn = np.repeat(C, 3, axis=1)

    def per_node(tr, te):
        out = np.zeros((te.sum(), Y.shape[1]))
        for j in range(Y.shape[1]):
            A = np.stack([NET[:, j], reg[:, j], cn[:, j] * reg[:, j], np.ones(len(Y))], 1)
            coef = np.linalg.lstsq(A[tr], Y[tr, j], rcond=None)[0]
            out[:, j] = A[te] @ coef
        return out
    preds["per-node combination of net, reg, trust x reg"] = held_out(per_node, G)
    synth = G == "synthetic"
    print("| look | MSE all | weighted by photo colours | real looks (weighted) | synthetic (weighted) |")
    print("|---|---|---|---|---|")
    for name, P in preds.items():
        e = (P - Y) ** 2
        print(f"| {name} | {e.mean():.5f} | {(e * wts).mean():.5f} | {(e[~synth] * wts).mean():.5f} | "
              f"{(e[synth] * wts).mean():.5f} |", flush=True)


if __name__ == "__main__":
    if not SHARED.is_dir():
        sys.exit(f"needs {SHARED}")
    defilter_from_env()  # another de-filter network (e.g. device_round.sh heldout's)
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "build":
        build(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "0/1")
    elif cmd == "cv":
        cross_validate(sys.argv[2], sys.argv[3])
    else:
        sys.exit(__doc__)
