"""Re-create the golden one-photo look used by tests/test_golden_oneshot.py from the shipped de-filter model.

The test fits a look from the bundled template ALONE (livefilter/data/sample_after.jpg, through
models/defilter.onnx with onnxruntime, the look prior models/look_prior.npz and the look library
models/look_library.npz: no torch) and compares it with
tests/data/golden_oneshot.npz. The golden records the models' sha256, so after a new model is shipped the test
fails and says to run this:

    python tools/make_golden.py            # writes tests/data/golden_oneshot.npz
    python tools/make_golden.py --check    # compares a fresh fit with the committed golden, writes nothing

A 9^3 LUT is kept (the fitted quartic evaluated on the grid: 9 KB), plus the kept guess weight.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "livefilter" / "data" / "sample_after.jpg"
GOLDEN = ROOT / "tests" / "data" / "golden_oneshot.npz"
SIZE = 9


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def model_path() -> Path:
    from livefilter.fileio import MODELS_DIR

    return MODELS_DIR / "defilter.onnx"


def prior_sha256() -> str | None:
    from livefilter.look import prior

    return sha256(prior.PRIOR_PATH) if prior.PRIOR_PATH.is_file() else None


def library_sha256() -> str | None:
    from livefilter.look import library

    return sha256(library.LIBRARY_PATH) if library.LIBRARY_PATH.is_file() else None


def fit() -> dict:
    """The one-photo fit the golden holds: table (9, 9, 9, 3) float32, guess weight, file hashes."""
    import livefilter as lf

    look = lf.fit_look(TEMPLATE, size=SIZE)
    if look.meta.get("original") != "de-filter network":
        raise SystemExit(f"expected the template to go through the de-filter network, got {look.meta['original']}")
    return {"table": np.asarray(look.lut.table, np.float32), "guess_weight": float(look.meta["guess_weight"]),
            "model_sha256": sha256(model_path()), "prior_sha256": prior_sha256(),
            "library_sha256": library_sha256(), "template_sha256": sha256(TEMPLATE),
            "template": TEMPLATE.relative_to(ROOT).as_posix(), "size": SIZE}


def load_golden(path: Path = GOLDEN) -> dict:
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        return {"table": z["table"], **meta}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare a fresh fit with the golden; write nothing")
    ap.add_argument("--out", type=Path, default=GOLDEN)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    new = fit()
    if args.check:
        old = load_golden(args.out)
        diff = float(np.abs(new["table"] - old["table"]).max() * 255)
        print(f"model {new['model_sha256'][:12]} (golden made with {old['model_sha256'][:12]}); table max diff "
              f"{diff:.4f} code values; guess weight {new['guess_weight']:.4f} vs {old['guess_weight']:.4f}")
        same = all(new[k] == old.get(k) for k in ("model_sha256", "prior_sha256", "library_sha256"))
        return 0 if same and diff <= 0.5 else 1
    meta = {k: v for k, v in new.items() if k != "table"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_name(args.out.name + ".tmp.npz")
    np.savez_compressed(tmp, table=new["table"], meta=np.array(json.dumps(meta, sort_keys=True)))
    tmp.replace(args.out)
    print(f"wrote {args.out} (model {meta['model_sha256'][:12]}, guess weight {meta['guess_weight']:.4f}, "
          f"{args.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
