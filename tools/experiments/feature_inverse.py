"""Experiment (training data only): a de-filter guess from GLOBAL features, trained on this machine's CPU.

A ridge regression from what a template looks like as a whole (the shipped scene network's pooled feature map,
ImageNet EfficientNet-Lite0, plus colour statistics: Lab moments and percentiles, per-lightness-band casts, a 4^3
colour histogram) to the look itself: its offsets at a 7^3 lattice of the colour cube (1,029 numbers; the seed's
quartic coefficients of the inverse were tried first: they are collinear and unstable, mean |coefficient| 2.4). Trained
on training photos x training looks that tune_oneshot.py does NOT evaluate (film looks off its every-3rd draw,
creative looks off its every-2nd, synthetic seeds 3,000,000+), scored on tune_oneshot's own templates: the look
fitted from (network guess, template) pairs as fit_look fits it (seed quartic, coverage p0 0.3) against the
predicted look (the 7^3 table, trilinear) and their mean; kept weight w per row, the rule w = clip(a + b d)
refitted per variant (tune_oneshot.fit_rule; d the guess change for the network, the predicted look's mean change of
the template's colours for the others).

    python tools/train_look_prior.py --cache DIR    # the pairs: DIR/pairs_0.npz
    python tools/experiments/feature_inverse.py eval PAIRS.npz[,MORE.npz] ROWS.json
        [K/M [train[:S]|val[:S] [lofo|all [reg,mlp,stack [SHARE,...|- [covmix|-
        [NETS.npz,...]]]]]]]
        (DEFILTER_MODEL=M.onnx in the environment: another de-filter network; train:S / val:S: the same looks on
        other photos, drawn with seed S; lofo: each template scored by a
        ridge trained without its own look folder and, on training templates, without the pairs of its photos;
        all: on every pair; reg,mlp: the priors scored, the ridge and/or
        tools/experiments/prior_mlp.py's MLP, each alone and averaged with the network's look: mix, mixm;
        both: also the three looks in equal parts, mix3; SHARE,...: the ridge's look mixed in at those shares,
        mixSHARE, beside mix at 0.5; covmix: where the network's coverage trust c is low the prior's look takes
        its place instead of identity: I + w (c/2 (net - I) + (1 - c/2) (prior - I)); stack: the ridge of
        tools/experiments/prior_stack.py, whose input is the features and the network's look, NETS its pairs'
        network looks)
    python tools/experiments/feature_inverse.py compare TRAIN_ROWS.json... -- VAL_ROWS.json... [--mono-tol T]
    python tools/experiments/feature_inverse.py table ROWS.json... [--rules net A B reg A B mix A B]
        (the rule w = clip(A + B d) refitted per variant, or given: fitted on training rows, scored on validation)
"""
import json
import sys
from pathlib import Path

import numpy as np

_TOOLS = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(_TOOLS.parent))
sys.path.insert(0, str(_TOOLS))
from _shared_data import SHARED, LabScorer, defilter_from_env, load_photo, looks, photos  # noqa: E402
from train_look_prior import Ridge, folder_of, node_weights, regression_looks  # noqa: E402
from train_look_prior import draws as draws_of_pairs  # noqa: E402
from tune_oneshot import WEIGHTS, _lut, draws, fit_rule, objective, score_at, summarise  # noqa: E402

import livefilter as lf  # noqa: E402
from livefilter.look import bake, coverage_of, fit_mappings, pairing_for, pixel_pairs, prior  # noqa: E402
from livefilter.look import monochrome as mono  # noqa: E402
from livefilter.look.coverage import blend_table  # noqa: E402
from livefilter.look.fit import Pairing, load_template  # noqa: E402
from livefilter.look.sampling import WORK_SIDE, downscale  # noqa: E402
from livefilter.luts.lut import identity_table  # noqa: E402

P0 = 0.3
MIXES = {"reg": "mix", "mlp": "mixm", "mlpw": "mixw", "stack": "mixs"}  # a prior's table averaged with the network's


def predicted(offsets: np.ndarray):
    g = prior.lattice()
    return lf.Lut(np.clip(g + offsets.reshape(g.shape), 0, 1).astype(np.float32))


def pair_draws(n: int, n_photos: int = 308) -> tuple[np.ndarray, np.ndarray]:
    """(look folder, photo index) of each pair of a seed-0 build (train_look_prior.build_pairs), its draws
    replayed."""
    paths = regression_looks()
    folders, pics = [], []
    for _k, i, j, _s, _c in draws_of_pairs(n, 0, n_photos, len(paths)):
        pics.append(i)
        folders.append("synthetic" if j is None else folder_of(paths[j]))
    return np.array(folders), np.array(pics)


def val_draws(pics, seed: int = 0):
    """tools/eval_looks.py's templates, drawn as it draws them (its defaults: every validation film and creative
    look, 30 + 30 held-out synthetic looks, the narrow family); items as tune_oneshot's (a path or a seed).
    ``seed``: other photos for the same looks (0: eval_looks.py's own draws)."""
    from _shared_data import is_narrow, look_family

    real = looks("val", kinds=("film", "creative"))
    items = [(str(q.relative_to(SHARED)), look_family(q), q) for q in real]
    items += [(f"synthetic {8_000_000 + i}", "synthetic", (8_000_000 + i, False)) for i in range(30)]
    items += [(f"synthetic creative {8_500_000 + i}", "synthetic creative", (8_500_000 + i, True)) for i in range(30)]
    items += [(name, "narrow", it) for name, fam, it in items if fam in ("color", "creative")]
    narrow = [i for i, q in enumerate(pics) if is_narrow(q)]
    rng = np.random.default_rng(seed)
    for k, (name, family, item) in enumerate(items):
        ia, *ibs = rng.choice(len(pics), 4, replace=False)
        if family == "narrow":
            ia = narrow[rng.integers(len(narrow))]
            ibs = [i for i in ibs if i != ia][:3]
        yield k, len(items), name, family, item, ia, ibs


def guesses(row: dict) -> list[str]:
    """The variants a row holds: net, and per prior its own table and its mean with the network's (mixS: S of the
    ridge's look and 1 - S of the network's)."""
    return [k[:-len(" change")] for k in row if k.endswith(" change")]



def evaluate(pairs: str, out: str, part: str = "0/1", which: str = "train", lofo: bool = True,
             variants: tuple = ("reg",), shares: tuple = (), covmix: bool = False, nets: str | None = None) -> None:
    si, sn = map(int, part.split("/"))
    which, _, draw_seed = which.partition(":")  # train:S / val:S: the same looks on other photos (seed S)
    draw_seed = int(draw_seed or 0)
    files = [np.load(q) for q in pairs.split(",")]  # several caches (seeds) joined with commas
    X, Y = np.concatenate([d["X"] for d in files]), np.concatenate([d["Y"] for d in files])
    if "stack" in variants:  # tools/experiments/prior_stack.py: the ridge sees the network's look of each pair too
        from prior_stack import STACK_ALPHA, lattice_look
        from prior_stack import load as load_stack

        X_pairs, _, _, net_pairs, _, _ = load_stack(pairs, nets)
        X_stack = np.hstack([X_pairs, net_pairs])
    if len(files) == 1:
        groups, pair_photo = pair_draws(len(X))
        if "G" in files[0]:
            assert (groups == files[0]["G"]).all(), "the pairs are not a seed-0 build"
    else:  # the photos of other seeds' pairs are not replayed: validation only (no validation photo is in them)
        if which == "train":
            raise SystemExit("several pair files: validation templates only")
        groups, pair_photo = np.concatenate([d["G"] for d in files]), None
    # the ridge strength: the held-out-folder error is flat over 0.003-0.1 (tools/train_look_prior.py picks 0.03 on
    # these pairs); 0.01 here
    alpha = 0.01

    cache = {}

    def model_for(kind, item, photos_used):
        """The ridge (or, kind "mlp", tools/experiments/prior_mlp.py's MLP) trained without the template's own look
        folder (synthetic: without synthetic looks) and, on training templates, without the pairs made from its
        photos (A and the B's: the prior would know them). Models are kept per key (validation: per folder)."""
        key = ("synthetic" if not isinstance(item, Path) else folder_of(item)) if lofo else "none"
        keep = groups != key
        if which == "train" and lofo:
            keep &= ~np.isin(pair_photo, list(photos_used))
            key = (key, tuple(sorted(int(i) for i in photos_used)))
        if (kind, key) not in cache:
            if kind == "stack":
                cache[(kind, key)] = Ridge(X_stack[keep], Y[keep], STACK_ALPHA)
            elif kind in ("mlp", "mlpw"):
                from prior_mlp import MLP
                cache[(kind, key)] = MLP(X[keep].astype(np.float32), Y[keep].astype(np.float32),
                                         weights=node_weights() if kind == "mlpw" else None)
            else:
                cache[(kind, key)] = Ridge(X[keep], Y[keep], alpha)
            if which == "train":  # one template per key: nothing to reuse
                return cache.pop((kind, key))
        return cache[(kind, key)]
    pics = [load_photo(p, 384) for p in photos(which)]
    rows = []
    for k, n, name, family, item, ia, ibs in (draws(pics, 40, seed=draw_seed) if which == "train"
                                                 else val_draws(pics, draw_seed)):
        if k % sn != si:
            continue
        F = _lut(item)
        T = lf.render(pics[ia], F)
        scorer = LabScorer([lf.render(pics[i], F) for i in ibs], pixels=16384)
        bs = [pics[i] for i in ibs]
        row = {"look": name, "family": family, "identity": scorer(bs), "mono stat": mono.monochrome_residual(T)}
        if row["mono stat"] < 0.03:  # the monochrome path's score (the product takes it below its threshold)
            mpair = Pairing(downscale(T, WORK_SIDE), None, "monochrome")
            row["monochrome path"] = scorer.lut(bake(fit_mappings(pixel_pairs(mpair), "residual")[0]), bs)
        net = pairing_for(load_template(T), monochrome=False)
        small = net.template
        p = net
        pairs_ = pixel_pairs(p)
        glob, _ = fit_mappings(pairs_, "seed")
        t_net, cov = bake(glob).table, coverage_of(p, pairs_)
        px = small.reshape(-1, 3) / 255.0
        feats = prior.template_features(T)
        ident = identity_table(33)
        tables, changes = {}, {"net": p.change}
        for g in variants:
            inp = np.concatenate([feats, lattice_look(glob, cov)[0]]) if g == "stack" else feats
            pred = predicted(np.asarray(model_for(g, item, [ia, *ibs])(inp)).reshape(-1))
            tables[g] = np.clip(pred.apply_float(ident.reshape(-1, 3)).reshape(ident.shape), 0, 1).astype(np.float32)
            changes[g] = float(np.abs(pred.apply_float(px) - px).mean() * 255)
        for g in variants:
            if g in MIXES:
                changes[MIXES[g]] = (changes["net"] + changes[g]) / 2
        if set(variants) == {"reg", "mlp"}:
            changes["mix3"] = (changes["net"] + changes["reg"] + changes["mlp"]) / 3
        for sh in shares:  # the rule's d stays the plain mean of the two changes, as fit_look's
            changes[f"mix{sh}"] = changes["mix"]
        if covmix:
            changes["covmix"] = changes["mix"]
            c_nodes = cov.trust_at(ident, P0)[..., None]  # the network's coverage trust at the table's nodes
        for w in WEIGHTS:
            b_net = blend_table(t_net, cov, P0, w)
            blended = {"net": b_net}
            for g in variants:
                blended[g] = blend_table(tables[g], None, 0.0, w)
                if g in MIXES:
                    blended[MIXES[g]] = (b_net + blended[g]) / 2
            if set(variants) == {"reg", "mlp"}:  # the network's, the ridge's and the MLP's, in equal parts
                blended["mix3"] = (b_net + blended["reg"] + blended["mlp"]) / 3
            for sh in shares:
                blended[f"mix{sh}"] = (1 - sh) * b_net + sh * blended["reg"]
            if covmix:  # the network's half where the template shows colours, the prior's look where it shows none
                s_net = 0.5 * c_nodes
                blended["covmix"] = ident + w * (s_net * (t_net - ident) + (1 - s_net) * (tables["reg"] - ident))
            for gname, tab in blended.items():
                row[f"{gname} p0={P0} w={w}"] = scorer.lut(lf.Lut(tab), bs)
        for gname, c in changes.items():
            row[f"{gname} change"] = c
        rows.append(row)
        print(f"[{k + 1}/{n}] {name} ({family}) id {row['identity']:.2f} " + " ".join(
            f"{g} {row[f'{g} p0={P0} w=1.0']:.2f}" for g in guesses(row)), file=sys.stderr, flush=True)
    Path(out).write_text(json.dumps({"alpha": alpha, "pairs": len(X), "split": which,
                                     "left out": "the template's look folder" if lofo else "nothing",
                                     "rows": rows}))


def table(paths, tol: float = 0.01, rules: dict | None = None) -> None:
    """The rule refitted per variant; B&W templates below the monochrome threshold ``tol`` take the monochrome
    path (rows made before that was recorded have none: tol 0 for them)."""
    rows = [r for p in paths for r in json.loads(Path(p).read_text())["rows"]]
    fams = ["all"] + sorted({r["family"] for r in rows})
    print("| guess | a | b | objective | " + " | ".join(fams) + " | worse | worst excess |")
    print("|---|---|---|---|" + "---|" * len(fams) + "---|---|")
    for g in guesses(rows[0]):
        view = [{**{k[len(g) + 1:]: v for k, v in r.items() if k.startswith(g + " ")},
                 **{k: r[k] for k in ("identity", "family", "mono stat", "monochrome path") if k in r}}
                for r in rows]
        for v in view:
            v["guess change"] = v.pop("change")
        if rules:  # rules fitted elsewhere (on training templates): scored as they are
            a, b = rules[g]
            scores = [score_at(r, P0, float(np.clip(a + b * r["guess change"], 0, 1)), tol) for r in view]
            o = objective(scores, view)
        else:
            o, a, b, _ = fit_rule(view, P0, tol)
        s = summarise(view, P0, a, b, tol)
        print(f"| {g} | {a} | {b} | {o:.2f} | " + " | ".join(f"{s.get(f, {}).get('ours', float('nan')):.2f}"
                                                         for f in fams)
              + f" | {s['all']['worse']}/{len(rows)} | {s['all']['worst excess']:+.2f} |")
    print(f"\n{len(rows)} templates; identity {np.mean([r['identity'] for r in rows]):.2f}; monochrome threshold {tol}")


def compare(train_paths, val_paths, tol: float = 0.01) -> None:
    """Each variant's rule fitted on the TRAINING rows, then scored as it is on the validation rows. ``tol``: the
    monochrome threshold the rows are scored with (0.01, as every table in tools/results/experiments was made; the
    product's is monochrome.MONO_TOL, 0.005: --mono-tol on the command line)."""
    def load(paths):
        return [r for q in paths for r in json.loads(Path(q).read_text())["rows"]]

    def view(rows, g):
        out = []
        for r in rows:
            v = {k[len(g) + 1:]: x for k, x in r.items() if k.startswith(g + " ")}
            v.update({k: r[k] for k in ("identity", "family", "mono stat", "monochrome path") if k in r})
            v["guess change"] = v.pop("change")
            out.append(v)
        return out

    def line(rows, a, b):
        sc = [score_at(r, P0, float(np.clip(a + b * r["guess change"], 0, 1)), tol) for r in rows]
        ex = [x - r["identity"] for x, r in zip(sc, rows)]

        def fam(fs):
            return np.mean([x for x, r in zip(sc, rows) if r["family"] in fs])

        return (f"{np.mean(sc):.2f} | {objective(sc, rows):.2f} | {sum(e > 0 for e in ex)}/{len(rows)} | "
                f"{max(ex):+.2f} | {fam(('color', 'bw', 'picturefx')):.2f} | {fam(('color',)):.2f} | "
                f"{fam(('creative',)):.2f} | {fam(('narrow',)):.2f} | {fam(('synthetic', 'synthetic creative')):.2f}")

    train, val = load(train_paths), load(val_paths)
    print("| guess | rule (fitted on training) | split | mean | objective | worse than nothing | worst excess | film | "
          "film colour | creative | narrow | synthetic |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for g in guesses(train[0]):
        _, a, b, _ = fit_rule(view(train, g), P0, tol)
        for name, rows in (("training", train), ("validation", val)):
            print(f"| {g} | {a}, {b} | {name} | {line(view(rows, g), a, b)} |")


if __name__ == "__main__":
    if not SHARED.is_dir():
        sys.exit(f"needs {SHARED}")
    defilter_from_env()  # another de-filter network (e.g. device_round.sh heldout's)
    cmd = sys.argv[1] if len(sys.argv) > 1 else ""
    if cmd == "eval":
        evaluate(sys.argv[2], sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "0/1",
                 sys.argv[5] if len(sys.argv) > 5 else "train", not (len(sys.argv) > 6 and sys.argv[6] == "all"),
                 tuple(sys.argv[7].split(",")) if len(sys.argv) > 7 else ("reg",),
                 tuple(float(v) for v in sys.argv[8].split(",")) if len(sys.argv) > 8 and sys.argv[8] != "-" else (),
                 len(sys.argv) > 9 and sys.argv[9] == "covmix", sys.argv[10] if len(sys.argv) > 10 else None)
    elif cmd == "compare":  # compare TRAIN_ROWS... -- VAL_ROWS... [--mono-tol T]
        args = sys.argv[2:]
        tol = 0.01
        if "--mono-tol" in args:
            i = args.index("--mono-tol")
            tol, args = float(args[i + 1]), args[:i] + args[i + 2:]
        i = args.index("--")
        compare(args[:i], args[i + 1:], tol)
    elif cmd == "table":  # table ROWS.json... [--rules net A B mix A B reg A B]
        args = sys.argv[2:]
        rules = None
        if "--rules" in args:
            i = args.index("--rules")
            r = args[i + 1:]
            rules = {r[k]: (float(r[k + 1]), float(r[k + 2])) for k in range(0, len(r), 3)}
            args = args[:i]
        first = json.loads(Path(args[0]).read_text())["rows"]
        table(args, 0.01 if any("monochrome path" in r for r in first) else 0.0, rules)
    else:
        sys.exit(__doc__)
