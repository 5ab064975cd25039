"""Re-create the third-party model files in models/ from their published source, and verify them.

face_detection_short_range.tflite: MediaPipe's BlazeFace short-range face detector (Apache-2.0), taken from the
mediapipe 0.10.21 wheel on PyPI (mediapipe/modules/face_detection/). mediapipe 1.2.x ships no model files and
its usual download URL is not reachable from every machine, so the file is committed and this script documents
(and repeats) where it came from.

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
        for name, spec in FILES.items():
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
                            spec["wheel"], "-d", tmp], check=True)
            wheel = next(Path(tmp).glob("mediapipe-*.whl"))
            with zipfile.ZipFile(wheel) as z, z.open(spec["member"]) as src, open(Path(tmp) / name, "wb") as dst:
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
