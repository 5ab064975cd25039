"""The GPU-machine round's preparation (tools/pack_shared.py, tools/device_round.sh): the packed copy keeps every
name, so the split rule picks the same files; photos come at the training's size; looks stay close to the
originals; the tools read the copy through LIVEFILTER_SHARED_DATA. Runs on a small fake ../shared/data."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import livefilter as lf
from livefilter.luts import write_hald

from .conftest import ROOT


@pytest.fixture
def fake_shared(tmp_path):
    root = tmp_path / "data"
    rng = np.random.default_rng(0)
    for folder, n in (("photos/a", 6), ("photos/b", 2)):
        (root / folder).mkdir(parents=True)
        for i in range(n):
            img = rng.integers(0, 256, (300, 400, 3), dtype=np.uint8)
            Image.fromarray(img).save(root / folder / f"p{i}.jpg", quality=95)
    (root / "looks/film/color/X").mkdir(parents=True)
    (root / "looks/creative/y").mkdir(parents=True)
    for folder, k in (("looks/film/color/X", 3), ("looks/creative/y", 2)):
        for i in range(k):
            ident = lf.Lut.identity(33).table
            t = np.clip(ident ** (0.7 + 0.2 * i) * np.array([1.0, 0.95, 0.9]), 0, 1)
            write_hald(root / folder / f"l{i}.png", lf.Lut(t.astype(np.float32)), level=8)
    return root


def _run(args, env=None):
    return subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})}, cwd=ROOT)


def test_pack_keeps_names_sizes_and_looks(fake_shared, tmp_path):
    out = tmp_path / "packed"
    res = _run([ROOT / "tools" / "pack_shared.py", "--out", out, "--side", 96],
               {"LIVEFILTER_SHARED_DATA": str(fake_shared)})
    assert res.returncode == 0, res.stderr
    names = sorted(p.relative_to(fake_shared) for p in fake_shared.rglob("*.*"))
    assert sorted(p.relative_to(out) for p in out.rglob("*.*")) == names
    for p in out.rglob("*.jpg"):
        assert max(Image.open(p).size) == 96
    for p in fake_shared.rglob("*.png"):
        packed = lf.read_lut(out / p.relative_to(fake_shared))
        assert packed.size == 25  # level 5
        x = np.random.default_rng(1).random((4000, 3))
        err = np.abs(packed.apply_float(x) - lf.read_lut(p).apply_float(x)).mean() * 255
        assert err < 1.0, (p, err)
    # the tools' split rule through the environment variable picks the same files from the copy
    code = ("import sys; sys.path.insert(0, 'tools'); from _shared_data import SHARED, photos, looks; "
            "print(SHARED); print([str(p.relative_to(SHARED)) for p in photos('val')]); "
            "print([str(p.relative_to(SHARED)) for p in looks('train', kinds=('film', 'creative'))])")
    a = _run(["-c", code], {"LIVEFILTER_SHARED_DATA": str(fake_shared)}).stdout.splitlines()
    b = _run(["-c", code], {"LIVEFILTER_SHARED_DATA": str(out)}).stdout.splitlines()
    assert a[0] == str(fake_shared) and b[0] == str(out)
    assert a[1:] == b[1:] and "photos/a/p0.jpg" in a[1] and "photos/a/p5.jpg" in a[1]


def test_device_round_without_arguments_or_data_says_what_to_do(tmp_path):
    res = subprocess.run(["bash", str(ROOT / "tools" / "device_round.sh")], capture_output=True, text=True)
    assert res.returncode == 2 and "device_round.sh check" in res.stderr and "pack_shared.py" in res.stderr
    env = {**os.environ, "OUT": str(tmp_path / "out")}
    if (ROOT / ".device" / "shared" / "photos").is_dir():
        pytest.skip("this checkout has a packed .device/shared")
    res = subprocess.run(["bash", str(ROOT / "tools" / "device_round.sh"), "train", "1"], capture_output=True,
                         text=True, env=env)
    assert res.returncode == 2 and "pack_shared.py" in res.stderr


FAKE_PYTHON = r'''
import json, os, pathlib, sys
a = sys.argv[1:]
with open(os.environ["FAKE_LOG"], "a") as f:
    f.write(json.dumps(a) + "\n")
if a[0] == "-c" and "print(" in a[1]:  # the checkpoint's excess weight
    print("6.0")
elif a[0] == "-c":  # the model alone, saved to the last argument
    pathlib.Path(a[-1]).write_bytes(b"weights")
elif a[0].endswith("train_defilter.py"):
    out = pathlib.Path(a[a.index("--out") + 1])
    (out / "log.jsonl").write_text("{}\n")
    (out / "last.pt").write_bytes(b"checkpoint")
    print("\n[val] step 2  transfer 0.06\ndone: 2 steps", file=sys.stderr)
elif a[0].endswith("export_onnx.py"):
    pathlib.Path(a[a.index("--out") + 1]).write_bytes(b"onnx")
'''


def _fake_round(tmp_path, excess=None, mode="train", rc=0):
    """tools/device_round.sh train (or heldout) in a copy of the checkout's shape, every Python call answered by a
    stand-in (no torch here): returns the train_defilter.py calls, the files the round leaves for the device to
    send and what it printed."""
    repo = tmp_path / "repo"
    (repo / "tools").mkdir(parents=True)
    (repo / "tools" / "device_round.sh").write_text((ROOT / "tools" / "device_round.sh").read_text())
    (repo / "models").mkdir()
    (repo / "models" / "defilter_train_checkpoint.pt").write_bytes(b"shipped")
    (repo / ".device" / "shared" / "photos").mkdir(parents=True)
    (repo / ".device" / "heldout").mkdir()
    (repo / ".device" / "heldout" / "weights.pt").write_bytes(b"held-out start")
    (tmp_path / "fake.py").write_text(FAKE_PYTHON)
    py = tmp_path / "python"
    py.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{tmp_path / "fake.py"}" "$@"\n')
    py.chmod(0o755)
    out, log = tmp_path / "out", tmp_path / "calls.jsonl"
    env = {**os.environ, "PYTHON": str(py), "OUT": str(out), "TRAIN_DIR": str(tmp_path / "work"),
           "FAKE_LOG": str(log)}
    env.pop("EXCESS", None)
    if excess:
        env["EXCESS"] = excess
    res = subprocess.run(["bash", str(repo / "tools" / "device_round.sh"), mode, "1"], capture_output=True,
                         text=True, env=env, timeout=60)
    assert res.returncode == rc, res.stdout + res.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    trains = [c for c in calls if c[0].endswith("train_defilter.py")]
    return trains, sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()), res.stdout + res.stderr


def test_device_round_trains_on_with_the_shipped_checkpoints_excess_weight(tmp_path):
    trains, files, _ = _fake_round(tmp_path)
    assert len(trains) == 1 and trains[0][trains[0].index("--excess") + 1] == "6.0"
    assert "--resume" in trains[0]
    assert files == ["defilter.onnx", "log.jsonl", "train.log", "weights.pt"]


def test_device_round_sweeps_excess_weights_within_the_eight_files_that_come_back(tmp_path):
    trains, files, stdout = _fake_round(tmp_path, "6 12 24 48")
    assert sorted(float(t[t.index("--excess") + 1]) for t in trains) == [6, 12, 24, 48]
    assert len({t[t.index("--out") + 1] for t in trains}) == 4  # each its own folder
    assert len(files) <= 8 and all(f.count("/") <= 2 for f in files)
    assert {f"excess_{w}/weights.pt" for w in (6, 12, 24, 48)} <= set(files)
    assert stdout.count("done: 2 steps") == 4


def test_device_round_heldout_trains_from_its_start_with_the_shipped_excess_weight(tmp_path):
    trains, files, _ = _fake_round(tmp_path, mode="heldout")
    assert len(trains) == 1 and trains[0][trains[0].index("--excess") + 1] == "6.0"
    assert "--hold-out-tuned-looks" in trains[0]
    assert trains[0][trains[0].index("--init") + 1] == ".device/heldout/weights.pt"
    assert files == ["defilter.onnx", "log.jsonl", "train.log", "weights.pt"]


def test_device_round_heldout_refuses_a_list_of_weights_before_training(tmp_path):
    trains, _, said = _fake_round(tmp_path, "6 12", mode="heldout", rc=2)
    assert trains == [] and "EXCESS is one weight" in said
