import sys

import numpy as np
import pytest

import livefilter as lf
import livefilter.look.defilter as dfl
import livefilter.look.monochrome as mono

from .conftest import ROOT


@pytest.fixture
def no_cache(monkeypatch):
    monkeypatch.setattr(dfl, "_sessions", {})


def test_missing_model_names_the_file_and_the_fix(tmp_path, monkeypatch, no_cache, photo):
    monkeypatch.setattr(dfl, "MODEL_PATH", tmp_path / "defilter.onnx")
    with pytest.raises(lf.ModelError) as exc:
        lf.fit_look(photo)
    msg = str(exc.value)
    assert "defilter.onnx" in msg and "--original" in msg and "reinstall" in msg


def test_corrupt_model(tmp_path, monkeypatch, no_cache, photo):
    bad = tmp_path / "defilter.onnx"
    bad.write_bytes(b"\x08\x07not an onnx model")
    monkeypatch.setattr(dfl, "MODEL_PATH", bad)
    with pytest.raises(lf.ModelError, match="cannot be loaded"):
        lf.fit_look(photo)


def test_preset_size():
    assert dfl.preset_size(512, 768) == (84, 128)
    assert dfl.preset_size(10, 10) == (128, 128)
    h, w = dfl.preset_size(1, 4000)
    assert h >= 4 and w == 128 and h % 4 == 0


@pytest.fixture
def exported(tmp_path, monkeypatch, no_cache):
    """A randomly initialised network exported with tools/export_onnx.py (needs torch and onnx)."""
    torch = pytest.importorskip("torch", reason="torch is not installed (the 'train' extra)")
    pytest.importorskip("onnx", reason="onnx is not installed (the 'train' extra)")
    sys.path.insert(0, str(ROOT / "tools"))
    from defilter_net import DefilterNet
    from export_onnx import main as export

    torch.manual_seed(0)
    net = DefilterNet(8)
    for p in net.parameters():  # make the output differ from the input so the comparison means something
        torch.nn.init.normal_(p, 0, 0.05)
    torch.save({"model": net.state_dict(), "args": {"width": 8, "size": 128}}, tmp_path / "ck.pt")
    assert export(["--ckpt", str(tmp_path / "ck.pt"), "--out", str(tmp_path / "defilter.onnx")]) == 0
    monkeypatch.setattr(dfl, "MODEL_PATH", tmp_path / "defilter.onnx")
    return net


def test_onnx_matches_pytorch(exported, photo):
    import torch

    small, guess = dfl.defilter(photo)
    with torch.no_grad():
        ref = exported(torch.from_numpy(small.astype(np.float32) / 255).permute(2, 0, 1)[None])[0]
    ref = np.clip(ref.permute(1, 2, 0).numpy() * 255 + 0.5, 0, 255).astype(np.uint8)
    assert np.abs(ref.astype(int) - guess).max() <= 1
    assert np.abs(guess.astype(int) - small).mean() > 0.5  # the network did something


def test_fit_from_template_alone_edge_cases(exported, photo):
    look = lf.fit_look(photo)
    assert np.isfinite(look.lut.table).all() and look.defiltered is not None
    assert look.meta["original"] == "de-filter network"
    tiny = photo[::40, ::40].copy()  # smaller than the preset size
    assert np.isfinite(lf.fit_look(tiny).lut.table).all()
    huge = np.ascontiguousarray(np.tile(photo, (4, 4, 1)))
    assert np.isfinite(lf.fit_look(huge).lut.table).all()
    gray = np.repeat(photo.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    assert np.isfinite(lf.fit_look(gray).lut.table).all()
    with pytest.warns(UserWarning, match="ill-defined"):
        flat = lf.fit_look(np.full((64, 64, 3), 90, np.uint8))
    assert np.isfinite(flat.lut.table).all()


def test_one_photo_look_is_the_seed_quartic_kept_at_guess_weight(exported, photo, sample_after):
    from livefilter.look import guess_weight_for

    look = lf.fit_look(photo)
    small, guess = dfl.defilter(photo)
    prior_change = (look.meta["look_prior"] or {}).get("change")  # with the look prior, the rule sees its change too
    w = look.meta["guess_weight"]
    assert w == pytest.approx(guess_weight_for(dfl.guess_change(small, guess), prior_change), abs=1e-3)
    assert look.meta["mapping"] == "seed" and 0 < w < 1
    full = lf.fit_look(photo, guess_weight=1.0).lut.table
    none = lf.fit_look(photo, guess_weight=0.0).lut.table
    ident = lf.Lut.identity(33).table
    assert np.abs(none - ident).max() < 1e-4  # nothing of the guessed look kept: identity
    assert np.abs(full - ident).mean() > 1e-3  # the (random) network's look is not identity
    # the fit is linear in its targets (and the prior's look is mixed in at the same weight), so the weight blends
    # the full look with identity exactly
    assert np.allclose(look.lut.table, ident + w * (full - ident), atol=1e-4)
    with pytest.raises(lf.InputError, match="guess_weight"):
        lf.fit_look(photo, guess_weight=1.5)
    pair = lf.fit_look(sample_after, photo)  # with an original: the residual mapping, nothing shrunk
    assert pair.meta["mapping"] == "residual" and pair.meta["guess_weight"] is None


def test_cli_fit_template_alone(exported, tmp_path, sample_after, capsys):
    from livefilter.cli import main

    code = main(["fit", str(sample_after), "-o", str(tmp_path / "l.cube"), "--save-defiltered",
                 str(tmp_path / "guess.png"), "--preview", str(tmp_path / "sheet.png")])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "from one photo" in out and "of the guessed look kept" in out
    assert lf.read_image(tmp_path / "guess.png").shape[1] == 128
    assert (tmp_path / "l.cube").is_file() and (tmp_path / "sheet.png").is_file()


def test_guess_weight_rule():
    from livefilter.look import guess_weight_for

    ws = [guess_weight_for(d) for d in (0, 2, 5, 10, 20, 60)]
    assert ws == sorted(ws) and ws[0] < 0.5 and ws[-1] == 1.0  # a small change is mostly noise, a large one a look


def test_monochrome_tone_curve_is_monotone_and_hedged(exported, photo):
    gray = np.repeat(photo.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    v = np.linspace(0, 1, 101)
    full, half = mono.mono_tone_curve(gray, 1.0)(v), mono.mono_tone_curve(gray, 0.5)(v)
    assert np.all(np.diff(full) >= 0) and full.min() >= 0 and full.max() <= 1
    assert np.allclose(half, v + 0.5 * (full - v))
    assert np.allclose(mono.mono_tone_curve(gray, 0.0)(v), v)


def test_monochrome_templates_need_no_model(tmp_path, monkeypatch, no_cache, photo, sample_test):
    monkeypatch.setattr(dfl, "MODEL_PATH", tmp_path / "missing.onnx")
    gray = np.repeat(photo.mean(axis=2, keepdims=True).astype(np.uint8), 3, axis=2)
    sepia = (gray * np.array([1.0, 0.9, 0.72])).astype(np.uint8)  # a warm tone, no channel clipped
    assert mono.is_monochrome(gray) and mono.is_monochrome(sepia) and not mono.is_monochrome(photo)
    test = lf.read_image(sample_test)
    with pytest.warns(UserWarning, match="tone curve is taken as identity"):
        out = lf.fit_look(gray).apply(test).astype(int)
    assert lf.fit_look(gray).meta["original"] == "monochrome path"
    assert np.abs(out[..., 0] - out[..., 2]).mean() < 2  # colours become grey
    lum = test.astype(float) @ mono.LUMA
    assert np.abs(out.mean(2) - lum).mean() < 4  # at Rec. 601 luma
    toned = lf.fit_look(sepia).apply(test).astype(int)
    assert (toned[..., 0] - toned[..., 2]).mean() > 8  # the sepia tint is kept


class _RecordingSession:
    """Stands in for an onnxruntime session: records what it is fed and returns the template (a 'do nothing' guess)."""

    def __init__(self):
        self.feeds = []

    def run(self, _outputs, feed):
        self.feeds.append({k: v.copy() for k, v in feed.items()})
        return [feed["template"]]


def test_the_segmentation_aware_guess_gets_the_person_mask(monkeypatch, tmp_path, photo):
    """fit_look(segments=True) from one photo (with FitSettings.segments_from_guess) asks the FIG. 3 model (with the
    template's soft person mask at the preset size) when models/defilter_seg.onnx is there, the FIG. 2 model
    (template only) otherwise and for ordinary fits."""
    from livefilter.look import fit, pairing

    seg_path = tmp_path / "defilter_seg.onnx"
    sessions = {dfl.MODEL_PATH: _RecordingSession(), seg_path: _RecordingSession()}
    monkeypatch.setattr(dfl, "_load", lambda path=None: sessions[dfl.MODEL_PATH if path is None else path])
    monkeypatch.setattr(dfl, "SEG_MODEL_PATH", seg_path)
    monkeypatch.setattr(pairing, "monochrome_guess", lambda tpl: None)
    on = fit.FitSettings(segments_from_guess=True)  # the FIG. 3 guess serves segments learnt from one photo

    lf.fit_look(photo, segments=True, settings=on)  # no seg model file yet: the FIG. 2 network
    assert len(sessions[dfl.MODEL_PATH].feeds) == 1 and not sessions[seg_path].feeds
    seg_path.write_bytes(b"present")
    look = lf.fit_look(photo, segments=True, settings=on)
    (feed,) = sessions[seg_path].feeds
    assert set(feed) == {"template", "mask"}
    assert feed["mask"].shape == (1, 1, *feed["template"].shape[2:])
    assert 0.0 <= feed["mask"].min() and feed["mask"].max() <= 1.0
    assert look.meta["original"] == "segmentation-aware de-filter network"
    lf.fit_look(photo)  # an ordinary fit stays on the FIG. 2 network
    assert len(sessions[dfl.MODEL_PATH].feeds) == 2 and len(sessions[seg_path].feeds) == 1
