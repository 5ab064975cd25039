"""Export a trained de-filter checkpoint to models/defilter.onnx (run by livefilter with onnxruntime, no torch).

    python tools/export_onnx.py [--ckpt runs/train/last.pt] [--out models/defilter.onnx]

The graph takes (1, 3, H, W) float32 RGB in [0, 1] with H, W multiples of 4 (dynamic) and returns the guessed
original of the same shape. A segmentation-aware checkpoint (train_defilter.py --segments; by default written to
models/defilter_seg.onnx) takes a second input, "mask": (1, 1, H, W) float32, the soft person mask. The export is
checked against PyTorch on a real photo; the sha256 and size are
printed for models/NOTICE.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
from _train_extra import require

require("torch", "onnx")

import torch  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from defilter_net import DefilterNet, SegDefilterNet  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def load_model(ckpt: Path) -> DefilterNet:
    ck = torch.load(ckpt, map_location="cpu", weights_only=False)
    a = ck.get("args", {})
    model = (SegDefilterNet if a.get("segments") else DefilterNet)(a.get("width", 32), a.get("size", 128))
    model.load_state_dict(ck["model"])
    return model.eval()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ckpt", default=str(ROOT / "runs" / "train" / "last.pt"))
    ap.add_argument("--out", help="default: models/defilter.onnx, or models/defilter_seg.onnx for a "
                    "segmentation-aware checkpoint")
    args = ap.parse_args(argv)
    model = load_model(Path(args.ckpt))
    seg = isinstance(model, SegDefilterNet)
    args.out = args.out or str(ROOT / "models" / ("defilter_seg.onnx" if seg else "defilter.onnx"))
    x = torch.rand(1, 3, 96, 128)
    inputs, names, axes = (x,), ["template"], {"template": {2: "h", 3: "w"}, "original": {2: "h", 3: "w"}}
    if seg:
        inputs, names = (x, torch.rand(1, 1, 96, 128)), ["template", "mask"]
        axes["mask"] = {2: "h", 3: "w"}
    tmp = Path(args.out).with_suffix(".onnx.tmp")
    torch.onnx.export(model, inputs, str(tmp), input_names=names, output_names=["original"], dynamic_axes=axes,
                      opset_version=17, dynamo=False)
    import onnxruntime as ort

    from livefilter.imageio import read_image

    img = read_image(ROOT / "livefilter" / "data" / "sample_after.jpg")
    import cv2

    small = cv2.resize(img, (128, 84), interpolation=cv2.INTER_AREA)
    inp = (small.astype(np.float32) / 255).transpose(2, 0, 1)[None]
    sess = ort.InferenceSession(str(tmp), providers=["CPUExecutionProvider"])
    feed = {"template": inp}
    if seg:  # the product's mask of the same picture
        from livefilter.analysis.segments import Segmenter, resize_mask

        with Segmenter() as s:
            feed["mask"] = resize_mask(s.mask(small), small.shape[:2]).astype(np.float32)[None, None]
    got = sess.run(None, feed)[0]
    with torch.no_grad():
        ref = model(*(torch.from_numpy(v) for v in feed.values())).numpy()
    err = float(np.abs(got - ref).max())
    if err > 1e-4:
        tmp.unlink()
        raise SystemExit(f"ONNX and PyTorch disagree (max {err:.2e}); not installed")
    tmp.replace(args.out)
    data = Path(args.out).read_bytes()
    print(f"wrote {args.out}: {len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()}, "
          f"max |onnx - torch| {err:.1e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
