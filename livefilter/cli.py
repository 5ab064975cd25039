"""The ``livefilter`` command line: fit, apply, info.

Exit codes: 0 ok, 1 failure (an unexpected error), 2 bad usage or bad input (one line on stderr, no traceback).
Set LIVEFILTER_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from .errors import InputError, LiveFilterError, OutputError
from .look.settings import MAX_CANDIDATES, FitSettings
from .resources import DATA_DIR as SAMPLE_DIR

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
# --fps: a frame a second at the least (below, a live run looks hung), 240 at the most (the fastest cameras)
MAX_FPS = 240


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default, when it has one worth showing."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (action.option_strings and "%(default)" not in text and default not in (None, False, argparse.SUPPRESS)
                and action.nargs != 0):
            text += " (default: %(default)s)"
        return text


class _OptionValueError(InputError):
    """An option's value is out of range or not a number (raised while the command line is parsed)."""


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line (like every other error of the CLI) and exit 2. A bad option value becomes
    an InputError, which main() reports like any other bad input (return 2); other mistakes (a missing argument,
    an unknown command) exit through SystemExit(2) as argparse does."""

    def error(self, message):
        if message.startswith("argument ") and _VALUE_PROBLEM in message:
            raise _OptionValueError(message)
        self.exit(EXIT_BAD_INPUT, f"livefilter: error: {message} (see: {self.prog} --help)\n")


_VALUE_PROBLEM = ": bad value: "


def _number(kind, lo=None, hi=None, *, lo_open=False):
    """An argparse type: ``kind`` (int/float) within [lo, hi] (``lo_open``: > lo), checked at parse time."""
    def parse(text):
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad value: expected {'an integer' if kind is int else 'a number'}, "
                                             f"got {text!r}") from None
        if kind is float and not np.isfinite(v):
            raise argparse.ArgumentTypeError(f"bad value: expected a finite number, got {text!r}")
        if lo is not None and (v <= lo if lo_open else v < lo) or hi is not None and v > hi:
            if hi is None:
                rule = f"> {lo:g}" if lo_open else f">= {lo:g}"
            else:
                rule = f"{lo:g}..{hi:g}"
            raise argparse.ArgumentTypeError(f"bad value: must be {rule}, got {text}")
        return v

    parse.__name__ = kind.__name__  # argparse names the type in some messages
    return parse


def _frame_size(text):
    from .live.pipeline import parse_size

    try:
        return parse_size(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(f"bad value: {exc}") from None


def _samples(text):
    from .look.sampling import MAX_SAMPLES, MIN_SAMPLES

    return _number(int, MIN_SAMPLES, MAX_SAMPLES)(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="livefilter", formatter_class=_Formatter,
                     description="Learn a photo look from one example image and apply it.")
    parser.add_argument("--version", action="version", version=f"livefilter {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true",
                        help="show third-party libraries' own logging (MediaPipe, LiteRT) too; so does "
                             "LIVEFILTER_DEBUG=1, which also shows tracebacks")
    looks = ".cube, .3dl, .look.npz or a HaldCLUT .png"

    def add(name, **kw):
        return sub.add_parser(name, formatter_class=_Formatter, parents=[common], **kw)

    p = add("fit", help="learn a look from a photo (and optionally the photo before its filter)",
            description="Learn a look. With --original, from a before/after pair.")
    p.add_argument("template", help="the photo whose look you want (the 'after')")
    p.add_argument("--original", help="the same photo before its look (the 'before'); without it the de-filter "
                                      "network guesses it")
    p.add_argument("-o", "--output", required=True, help="output look: .cube, .look.npz or HaldCLUT .png")
    p.add_argument("--sampling", choices=("uniform", "salient", "person"), default="uniform",
                   help="where pixel pairs are taken: uniform, salient-weighted (spectral-residual saliency, or the "
                        "segmented person as the salient region)")
    p.add_argument("--segments", action="store_true",
                   help="segment the template (person / background) and learn each its own look; apply and live "
                        "then grade each region of an image with its look (.cube: one file per category too)")
    p.add_argument("--samples", type=_samples, default=8000,
                   help="pixel pairs to fit from, 4000..262144 (262144: every pixel of the 512-pixel working image)")
    p.add_argument("--lut-size", "--size", dest="lut_size", type=_number(int, 2, 256), default=33,
                   help="points per axis of the baked 3D LUT, 2..256 (--size is the old name)")
    p.add_argument("--mapping", choices=("residual", "seed"),
                   help="residual = quartic + smooth residual grid (more accurate); seed = quartic only (follows "
                        "the network's guess less). Default: residual with --original, seed from one photo")
    p.add_argument("--solver", choices=("lstsq", "lbfgs"), default="lstsq", help="quartic solver")
    p.add_argument("--seed", type=_number(int, 0), default=0, help="random seed of the sampling")
    p.add_argument("--name", help="look name (default: the template's file name)")
    p.add_argument("--candidates", type=_number(int, 1, MAX_CANDIDATES), default=FitSettings().candidates,
                   help="from one photo: how many distinct readings of its look to offer (the .look.npz keeps them "
                        "all; see --preview)")
    p.add_argument("--pick", type=_number(int, 1), default=1,
                   help="which reading the output is (1 = the automatic one)")
    p.add_argument("--preview", metavar="SHEET.png",
                   help="also write a contact sheet: the template and every reading, numbered, on a test photo")
    p.add_argument("--test-photo", metavar="PHOTO",
                   help="the photo the --preview sheet grades (default: the bundled sample)")
    p.add_argument("--save-defiltered", metavar="PATH",
                   help="write the de-filter network's guess of the original (without --original)")
    p.add_argument("--allow-large", action="store_true", help="process images over 100 megapixels")

    p = add("apply", help="apply a look to images, videos and folders",
            description=f"Apply a look ({looks}) to images and videos (files or folders). Videos: every frame, "
                        "in order, faces protected as live, audio and other streams copied, H.264 out.")
    p.add_argument("look", help=f"the look file: {looks}")
    p.add_argument("inputs", nargs="+", help="input images, videos and folders")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("-o", "--output", help="output file (one input only)")
    g.add_argument("--out-dir", help="folder for the outputs (same file names; a video whose extension cannot "
                                     "hold H.264 becomes .mp4; sub-folders kept with --recursive)")
    p.add_argument("--strength", type=_number(float, 0.0, 1.0), default=1.0, help="how much of the look, 0..1")
    p.add_argument("--no-face-protect", action="store_true", help="faces get the full look")
    p.add_argument("--interp", choices=("trilinear", "tetrahedral"), default="trilinear",
                   help="interpolation between the LUT's points")
    p.add_argument("--quality", type=_number(int, 1, 100), default=95, help="JPEG/WebP quality, 1..100")
    p.add_argument("--crf", type=_number(float, 0.0, 51.0), default=18.0,
                   help="H.264 quality of graded videos, 0..51 (lower is better)")
    # veryfast, as live recordings and OBS's x264 default: at medium x264 alone takes two cores (1080p: 9.1 fps,
    # as fast as ffmpeg decoding and encoding with no filter), at veryfast a file grades 1.4x faster
    p.add_argument("--preset", default="veryfast",
                   choices=("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower",
                            "veryslow"), help="H.264 encoder speed")
    p.add_argument("-r", "--recursive", action="store_true", help="grade the files in sub-folders too")
    p.add_argument("--skip-existing", action="store_true", help="leave inputs whose output exists (resume a batch)")
    p.add_argument("--keep-partial", action="store_true",
                   help="a video that stops part-way (corrupt data, Ctrl+C) keeps what was graded")
    p.add_argument("-j", "--jobs", type=_number(int, 1), help="files graded at once (default: one per core)")
    p.add_argument("--ray", nargs="?", const="local", metavar="local|auto|ADDRESS",
                   help="run on a Ray cluster (extra 'scale'): local starts one here; auto or ray://HOST:PORT joins "
                        "one (inputs and outputs must be on storage every node sees)")
    p.add_argument("--allow-large", action="store_true", help="process images over 100 megapixels")

    p = add("info", help="describe a look file", description=f"Describe a look file ({looks}).")
    p.add_argument("look", help="the look file")

    p = add("live", help="grade a camera (or a file, or the synthetic clip) live",
            description="Grade a live source and send it to a virtual camera, a window and/or a file.")
    p.add_argument("--template", required=True,
                   help=f"a look file ({looks}), a photo (alone or with --original), or a folder of look files "
                        "('n' in the preview cycles through them). A .png counts as a HaldCLUT only when its "
                        "pixels are one (or with --look)")
    p.add_argument("--look", action="store_true",
                   help="the --template file is a look: read a .png as a HaldCLUT without checking its content")
    p.add_argument("--original", help="the template photo before its look")
    p.add_argument("--pick", type=_number(int, 1), default=None,
                   help="which reading of a one-photo look starts live ('c' in the preview cycles them; default: the "
                        "fit's automatic one, or the reading a .look.npz was saved with)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", default=None, help="camera index or device path (default: 0, when no --input "
                                                    "or --synthetic)")
    src.add_argument("--input", help="a video or image file, or an image sequence (a folder of images or a "
                                      "pattern like frames/f_%%04d.png, played at --fps), instead of a camera")
    src.add_argument("--synthetic", action="store_true", help="the built-in synthetic clip (no camera needed)")
    p.add_argument("--loop", action="store_true", help="loop the --input video or image sequence")
    p.add_argument("--vcam", action="store_true", help="send to a virtual camera (pyvirtualcam)")
    p.add_argument("--preview", action="store_true", help="show a preview window (keys: see README); needs a "
                                                           "display")
    p.add_argument("--record", metavar="OUT.mp4", help="record the graded video")
    p.add_argument("--frame-size", "--size", dest="frame_size", type=_frame_size, default=None,
                   help="frame size WxH: asked of the camera, made by the synthetic clip, an --input file's frames "
                        "resized to it (default: 1280x720; a file's own size) (--size is the old name)")
    p.add_argument("--fps", type=_number(float, 1.0, MAX_FPS), default=30.0,
                   help=f"camera / synthetic / still-image / image-sequence frame rate, 1..{MAX_FPS}")
    p.add_argument("--backend", choices=("auto", "cpu", "cuda"), default="auto", help="render backend")
    p.add_argument("--strength", type=_number(float, 0.0, 1.0), default=1.0, help="how much of the look, 0..1")
    p.add_argument("--no-face-protect", action="store_true", help="faces get the full look")
    p.add_argument("--no-scene", action="store_true", help="no scene similarity: the full look outside faces even "
                                                           "when the frame's scene is unlike the template photo's")
    p.add_argument("--frames", type=_number(int, 1), help="stop after N frames (N >= 1)")
    p.add_argument("--duration", type=_number(float, 0.0, lo_open=True), help="stop after S seconds (S > 0)")

    p = add("demo", help="run the live pipeline on the bundled sample and synthetic clip (no camera)",
            description="Grade the built-in synthetic clip (a face, panned and zoomed) with the bundled sample "
                        "look, face protection on; write an mp4 and a before/after contact sheet.")
    p.add_argument("-o", "--out-dir", default=".", help="folder for livefilter-demo.mp4 and livefilter-demo.png")
    p.add_argument("--frames", type=_number(int, 1), default=150, help="frames of the clip (>= 1)")
    p.add_argument("--frame-size", "--size", dest="frame_size", type=_frame_size, default="1280x720",
                   help="frame size WxH (--size is the old name)")
    p.add_argument("--backend", choices=("auto", "cpu", "cuda"), default="auto", help="render backend")

    p = add("bench-live", help="measure the live pipeline: synthetic source -> null sink",
            description="Frame rate, per-stage ms (p50/p95/p99) and capture-to-output latency.")
    p.add_argument("--frame-size", "--size", dest="frame_size", type=_frame_size, default="1920x1080",
                   help="frame size WxH (--size is the old name)")
    p.add_argument("--frames", type=_number(int, 1), default=600, help="frames to measure (>= 1)")
    p.add_argument("--fps", type=_number(float, 0.0, MAX_FPS), default=30.0,
                   help=f"source rate, 0..{MAX_FPS} (0 = as fast as possible)")
    p.add_argument("--backend", choices=("auto", "cpu", "cuda"), default="auto", help="render backend")
    p.add_argument("--no-face-protect", action="store_true", help="measure without face analysis")
    p.add_argument("--scene", action="store_true", help="measure with the scene similarity on (the sample look is "
                                                        "then fitted from its photo, so it has a template scene)")
    p.add_argument("--segments", action="store_true", help="measure with a per-segment look (the sample look on the "
                   "person only, fitted with --segments): every analysed frame is segmented, several LUTs rendered")
    p.add_argument("--swap", action="store_true",
                   help="keep re-fitting the template during the run and cycling a one-photo look's readings (as "
                        "the preview's 'c' key does)")
    p.add_argument("--json", metavar="OUT", help="write the results as JSON")
    return parser


def _keep_scene(look, template) -> None:
    """Store the template's scene features in the look's metadata; a scene model that fails costs only that."""
    from .analysis.scene import default_model
    from .imageio import read_image

    try:
        look.meta["scene"] = default_model().describe(read_image(template)).to_meta()
    except (LiveFilterError, OSError, RuntimeError, ValueError) as exc:
        warnings.warn(f"{template}: the look keeps no scene (scene similarity stays 1 with it): {exc}", stacklevel=2)


def cmd_fit(args) -> int:
    from .look import describe_confidence, fit_look

    out = Path(args.output)
    from .fileio import check_output_path

    check_output_path(out, (args.template, args.original))
    if args.preview:
        check_output_path(args.preview, (args.template, args.original))
    if args.save_defiltered:
        if args.original:
            raise InputError("--save-defiltered writes the network's guess; with --original there is none")
        check_output_path(args.save_defiltered, (args.template,))
    if args.test_photo and not args.preview:
        raise InputError("--test-photo is the photo of the --preview sheet; give --preview SHEET.png too")
    test = _read(args.test_photo, args) if args.test_photo else None
    if args.original and args.pick > 1:
        raise InputError(f"--pick {args.pick}: a look learnt with --original has one reading")
    if args.pick > args.candidates:
        raise InputError(f"--pick {args.pick}: only {args.candidates} readings asked for (--candidates)")
    look = fit_look(args.template, args.original, allow_large=args.allow_large, sampling=args.sampling,
                    samples=args.samples, size=args.lut_size, mapping=args.mapping, solver=args.solver, seed=args.seed,
                    name=args.name or Path(args.template).stem, segments=args.segments, candidates=args.candidates)
    try:
        look = look.pick(args.pick)
    except InputError as exc:
        raise InputError(f"--pick {args.pick}: {exc.problem}", args.template) from None
    if out.suffix.lower() == ".npz":  # the lossless format keeps the template's scene for live's scene similarity
        _keep_scene(look, args.template)
    look.save(out, inputs=(args.template, args.original))
    how = ""
    if look.meta["original"] == "de-filter network":
        how = f", from one photo: {look.meta['guess_weight']:.2f} of the guessed look kept"
    elif look.meta["original"] == "monochrome path":
        how = ", from one black-and-white photo"
    print(f"wrote {out} ({look.meta['mapping']} mapping{how}, {look.lut.size}^3 LUT, fit {look.meta['fit_ms']:.0f} ms)")
    print(f"confidence: {describe_confidence(look.meta.get('confidence'))}"
          + (" (of reading 1; the readings below each have theirs)" if look.picked > 1 else ""))
    _print_candidates(look)
    if args.segments and "note" in look.meta["segments"]:
        print("segments: the global look for every segment (learnt from one photo: see the warning above)")
    elif args.segments:
        shares = look.meta["segments"]["shares"]
        own = ", ".join(f"{name} {shares[str(k)]:.0%}" for k, name in look.categories.items() if k in look.label_luts)
        rest = [name for k, name in look.categories.items() if k not in look.label_luts]
        print(f"segments: own look for {own or 'none'}" + (f"; global look for {', '.join(rest)} (under 10 %)"
                                                           if rest else ""))
        for path in (look.segment_paths(out).values() if out.suffix.lower() != ".npz" else ()):
            print(f"wrote {path}")
    if args.save_defiltered:
        from .imageio import write_image

        write_image(args.save_defiltered, look.defiltered, inputs=(args.template,))
        print(f"wrote {args.save_defiltered} (the de-filter network's guess of the original)")
    if args.preview:
        _write_preview(args.preview, look, args, test)
        print(f"wrote {args.preview}")
    return EXIT_OK


def _print_candidates(look) -> None:
    """The look's readings, numbered, the picked one marked."""
    from .look.readings import describe_reading

    if not look.candidates:
        return
    print(f"readings: {len(look.candidates)} (reading {look.picked} is the look's LUT; fit --pick N chooses, live "
          "--pick N starts on one)")
    for i, c in enumerate(look.meta["candidates"], 1):
        print(f"  {'*' if i == look.picked else ' '}{i} {describe_reading(c)}")


def _read(path, args):
    from .imageio import read_image

    return read_image(path, allow_large=args.allow_large, min_size=2)


def _write_preview(path, look, args, test=None) -> None:
    from .imageio import read_image, write_image
    from .preview import contact_sheet

    tiles = [("template", _read(args.template, args))]
    if test is None:
        test = read_image(SAMPLE_DIR / "sample_test.jpg")
    if look.candidates:  # every reading on the test photo, numbered as --pick takes them
        tiles.append(("test photo", test))
        tiles += [(f"{i} {c.kind}" + (" *" if i == look.picked else ""), look.pick(i).apply(test))
                  for i, c in enumerate(look.candidates, 1)]
        write_image(path, contact_sheet(tiles, height=240), inputs=(args.template, args.test_photo))
        return
    if args.original:
        tiles.append(("original", _read(args.original, args)))
    elif look.defiltered is not None:
        tiles.append(("de-filtered guess", look.defiltered))
    tiles += [("test image", test), ("test image + look", look.apply(test))]
    write_image(path, contact_sheet(tiles), inputs=(args.template, args.original, args.test_photo))


def cmd_apply(args) -> int:
    from .batch.folders import grade_batch, plan_batch, summary
    from .batch.jobs import Options, Result
    from .batch.progress import ProgressBar
    from .media.memory import steady_memory

    steady_memory()  # a process-wide malloc setting: the program's choice (docs/decisions.md, 'malloc threshold')

    batch = plan_batch(args.look, args.inputs, output=args.output, out_dir=args.out_dir, recursive=args.recursive,
                       skip_existing=args.skip_existing)
    for j in batch.skipped:
        print(f"skipped {j.src} ({j.dst} exists)")
    opts = Options(not args.no_face_protect, args.strength, args.interp, args.quality, args.allow_large, args.crf,
                   args.preset, args.keep_partial)
    with _stop_event_on_signals() as stop:
        if len(batch.todo) == 1 and not batch.skipped and args.ray is None:
            return _apply_one(batch, opts, stop)
        bar = ProgressBar("livefilter apply", unit="files")
        done, failed = [], []

        def report(r: Result):
            bar.close()
            if r.status == "ok":
                what = f"{r.frames} frames, " if r.job.kind == "video" else ""
                print(f"wrote {r.job.dst} ({what}{r.seconds:.1f} s)", flush=True)
            elif r.status == "failed":
                failed.append(r)
                print(f"livefilter: error: {r.message}", file=sys.stderr, flush=True)
            bar(len(done) + 1, len(batch.todo))
            done.append(r)

        results = grade_batch(batch, opts, workers=args.jobs, ray=args.ray, stop=stop, on_result=report)
        bar.close()
        print(summary(results, len(batch.skipped)))
        if stop.signal:
            print(f"stopped ({stop.signal})")
            return _signal_exit(stop.signal)
    return EXIT_FAIL if failed else EXIT_OK


def _apply_one(batch, opts, stop) -> int:
    """One file: errors raise as before (bad input: exit 2; corrupt data part-way through a video: exit 1)."""
    from .batch.jobs import grade_file
    from .batch.progress import ProgressBar

    job = batch.todo[0]
    bar = ProgressBar(job.src.name) if job.kind == "video" else None
    try:
        r = grade_file(batch.look, job, opts, stop=stop, progress=bar, extra_inputs=batch.extra_inputs)
    finally:
        if bar is not None:
            bar.close()
    if r.status == "ok":
        print(f"wrote {job.dst} ({r.seconds * 1e3:.0f} ms)" if job.kind == "image" else
              f"wrote {job.dst} ({r.frames} frames, {r.fps:.1f} fps)")
        return EXIT_OK
    kept = f"kept the {r.frames} graded frames in {job.dst}" if r.message.endswith("(kept)") else "nothing written"
    print(f"stopped ({stop.signal or 'interrupted'}) after {r.frames} of {r.expected} frames: {kept}")
    return _signal_exit(stop.signal)


def _stop_signals() -> tuple:
    """The signals that stop a run cleanly: Ctrl+C, SIGTERM, and SIGHUP (the terminal or SSH session closed)."""
    import signal

    return tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def _signal_exit(name: str | None) -> int:
    """The shell's code for a run ended by signal ``name`` (128 + its number; Ctrl+C when unknown)."""
    import signal

    return 128 + (signal.Signals[name].value if name else signal.SIGINT.value)


class _StopEvent(threading.Event):
    signal: str | None = None


@contextlib.contextmanager
def _stop_event_on_signals():
    """An Event set by the first Ctrl+C, SIGTERM or SIGHUP (a video in progress then ends cleanly: its temporary file
    removed, or finalised with --keep-partial); a second signal interrupts at once."""
    import signal

    stop = _StopEvent()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handler(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.signal = signal.Signals(signum).name
        stop.set()

    old = {sig: signal.signal(sig, handler) for sig in _stop_signals()}
    try:
        yield stop
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def cmd_info(args) -> int:
    from .look import describe_confidence, load_look
    from .luts.lut import identity_table

    look = load_look(args.look)
    lut = look.lut
    # exact at the 33^3 nodes over [0, 1] whatever the file's domain, shaper or 1D curves
    dev = np.abs(np.clip(lut.unit_table(33), 0, 1) - identity_table(33)).mean() * 255
    print(f"look:      {look.name}")
    print(f"file:      {args.look}")
    print(f"LUT:       {lut.describe()}")
    print(f"strength:  mean distance from identity {dev:.2f} (0-255 scale)")
    if look.mapping is not None:  # the fitted mapping (meta) and how it is stored (kind) on one line
        fitted = look.meta.get("mapping")
        print(f"mapping:   {fitted} ({look.mapping.kind})" if fitted and fitted != look.mapping.kind
              else f"mapping:   {look.mapping.kind}")
    _print_candidates(look)
    if look.label_luts:
        cats = look.categories
        print(f"segments:  {', '.join(f'{cats[k]} (label {k})' for k in sorted(look.label_luts))} have their own "
              "look" + ("; apply segments each image" if "segments" in look.meta else ""))
    if "confidence" in look.meta or "confidence text" in look.meta:
        print(f"confidence: {look.meta.get('confidence text') or describe_confidence(look.meta['confidence'])}")
    for k, v in look.meta.items():
        if k == "scene" and isinstance(v, dict):  # 1,280 numbers: what matters is that it is there
            v = "the template's scene features (live's scene similarity uses them)"
        if k not in ("name", "confidence", "confidence text", "candidates", "picked") and v not in (None, "", []) and (
                k != "mapping" or look.mapping is None):
            print(f"{k + ':':<10} {v}")
    return EXIT_OK


def _sample_look():
    from .look import fit_look

    return fit_look(SAMPLE_DIR / "sample_after.jpg", SAMPLE_DIR / "sample_before.jpg", name="sample teal & orange")


def _split_sample_look(scene: bool):
    """bench-live --segments: a per-segment look, learnt from the sample pair graded per segment (the sample look
    on the person, the background left as it was), with the template's scene when ``scene``."""
    from .analysis.segments import person_mask
    from .imageio import read_image
    from .look import fit_look

    before, after = read_image(SAMPLE_DIR / "sample_before.jpg"), read_image(SAMPLE_DIR / "sample_after.jpg")
    m = person_mask(after, size=after.shape[:2])[..., None]
    template = (after * m + before * (1 - m) + 0.5).astype(np.uint8)
    look = fit_look(template, before, segments=True, name="sample, person only")
    if not look.segmented:
        raise InputError("the sample pair gave no per-segment look")
    if scene:
        from .analysis.scene import default_model

        look.meta["scene"] = default_model().describe(template).to_meta()
    return look


def cmd_live(args) -> int:
    from .fileio import check_output_path
    from .live.pipeline import LivePipeline
    from .live.sinks import VideoFileSink, VirtualCameraSink
    from .live.sources import (
        CameraSource,
        ImageSequenceSource,
        ImageSource,
        SyntheticSource,
        VideoFileSource,
        is_sequence,
    )

    size = args.frame_size or (1280, 720)
    # everything that can be checked is checked before a device, a window or a file is opened
    if not (args.vcam or args.preview or args.record):
        raise InputError("choose where the video goes: --vcam, --preview and/or --record OUT.mp4")
    templates, template = [], args.template
    if Path(template).is_dir():
        from .luts import FORMATS, format_of

        templates = sorted(p for p in Path(template).iterdir() if p.is_file() and format_of(p) is not None)
        if not templates:
            known = ", ".join(s for f in FORMATS for s in f.suffixes)
            raise InputError(f"the template folder has no look files ({known})", template)
        template = templates[0]
    elif not Path(template).is_file():
        raise InputError("no such template file", template)
    sequence = bool(args.input) and is_sequence(args.input)  # a folder of images or f_%04d.png
    if args.input and not sequence and not Path(args.input).is_file():
        raise InputError("no such input file", args.input)
    if args.record:
        check_output_path(args.record, (args.input, args.template, args.original))
    if args.preview:
        from .live.window import display_problem

        if problem := display_problem():
            raise InputError(f"--preview needs a display: {problem}; use --record OUT.mp4 or --vcam instead")
    if args.synthetic:
        source = SyntheticSource(size, fps=args.fps)
    elif sequence:
        source = ImageSequenceSource(args.input, fps=args.fps, loop=args.loop, size=args.frame_size)
        size = source.size
    elif args.input:
        if Path(args.input).suffix.lower() in IMAGE_EXTS:
            source = ImageSource(args.input, fps=args.fps, size=args.frame_size)
        else:
            source = VideoFileSource(args.input, loop=args.loop, size=args.frame_size)
        size = source.size
    else:
        source = CameraSource(args.camera if args.camera is not None else 0, size, args.fps)
    sinks = []
    try:
        if args.record:
            # a file's audio goes along (from its start; not when looped, where it would run out of step)
            audio = args.input if args.input and isinstance(source, VideoFileSource) and not args.loop else None
            sinks.append(VideoFileSink(args.record, fps=source.fps, inputs=(args.input, args.template,
                                                                            args.original), audio_from=audio,
                                       source_timing=isinstance(source, (VideoFileSource, ImageSequenceSource))))
        if args.vcam:
            sinks.append(VirtualCameraSink(size, fps=source.fps))
        pipeline = LivePipeline(source, sinks, backend=args.backend, strength=args.strength,
                                face_protect=not args.no_face_protect, scene=not args.no_scene)
    except BaseException:
        for obj in [source, *sinks]:
            obj.close()
        raise
    window = None
    try:  # the look first: the source starts only once it is ready (a file then loses no frame at its start)
        pipeline.set_template(template, args.original, assume_look=args.look, pick=args.pick,
                              log_failure=False).result()
    except BaseException:
        pipeline.close()
        raise
    with pipeline, _stop_on_signals(pipeline):
        if args.preview:
            from .live.window import PreviewWindow

            window = PreviewWindow(pipeline, templates)
            pipeline.add_callback(window)
        print(f"livefilter live: {source.name} -> {', '.join(s.name for s in sinks) or 'preview'} "
              f"[{pipeline.backend.name}] look: {pipeline.look_name}  (Ctrl+C to stop)", flush=True)
        try:
            stats = pipeline.run(max_frames=args.frames, duration=args.duration)
        except KeyboardInterrupt:
            stats = pipeline.stats.summary()
            print("stopped")
        finally:
            if window is not None:
                window.close()
    if pipeline.stopped_by_signal:
        print(f"stopped ({pipeline.stopped_by_signal})")
    for s in sinks:
        if isinstance(s, VideoFileSink) and s.frames:
            print(f"wrote {s.path} ({s.frames} frames)")
    print(f"{stats['frames']} frames, {stats['fps']:.1f} fps")
    # an --input file cut short (its source logged where): a failure, as for apply, though what was read is kept
    return EXIT_FAIL if getattr(source, "cut_short", None) else EXIT_OK


@contextlib.contextmanager
def _stop_on_signals(pipeline=None):
    """Ctrl+C (SIGINT), SIGTERM and SIGHUP (a closed terminal or SSH session) end a run gracefully: the render
    loop finishes the frame in hand and stops, devices are released and a recording is finalised with every frame
    counted (an exception raised between a sink's write and the frame count made the two disagree by one; the
    default action of SIGTERM / SIGHUP would kill the process and leave an unfinished hidden temp file). A second
    Ctrl+C while stopping interrupts at once."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        if pipeline is not None and pipeline.running:
            pipeline.stopped_by_signal = signal.Signals(signum).name
            pipeline.stop()
        else:
            raise KeyboardInterrupt

    old = {sig: signal.signal(sig, handler) for sig in _stop_signals()}
    try:
        yield
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)


def cmd_demo(args) -> int:
    from .fileio import check_output_path
    from .imageio import write_image
    from .live.pipeline import LivePipeline
    from .live.sinks import VideoFileSink
    from .live.sources import SyntheticSource
    from .preview import contact_sheet

    size = args.frame_size
    out_dir = Path(args.out_dir)
    if not out_dir.is_dir():
        raise OutputError("output folder does not exist", out_dir)
    mp4, sheet = out_dir / "livefilter-demo.mp4", out_dir / "livefilter-demo.png"
    check_output_path(sheet)
    look = _sample_look()
    picks = {0, args.frames // 2, args.frames - 1}
    shots = []

    source = SyntheticSource(size, fps=30.0, frames=args.frames)
    # every frame of the clip is wanted, so the demo pushes frames through process() instead of the threaded
    # latest-frame loop (which would drop frames it cannot keep up with)
    p = LivePipeline(source, [VideoFileSink(mp4, fps=30.0)], look=look, backend=args.backend, analysis_every=1)
    try:
        with _stop_on_signals():
            for i in range(args.frames):
                frame = source.read()
                out = p.process(frame)
                if i in picks:
                    shots.append((frame, out.copy(), p.degree))
    finally:
        p.close()
    stats = p.stats.summary()
    tiles = []
    for i, (before, after, _) in enumerate(shots):
        tiles += [(f"frame {i + 1}: camera", before), ("with the look (face protected)", after)]
    if shots:
        import cv2

        d = shots[-1][2]
        dimg = np.ones(shots[-1][0].shape[:2], np.float32) if d is None else cv2.resize(
            d, shots[-1][0].shape[1::-1], interpolation=cv2.INTER_LINEAR)
        tiles.append(("rendering degree", np.repeat((dimg[:, :, None] * 255).astype(np.uint8), 3, axis=2)))
    write_image(sheet, contact_sheet(tiles, height=200))
    print(f"wrote {mp4} ({stats['frames']} frames) and {sheet}")
    print(f"render p50 {stats.get('render', {}).get('p50_ms', 0):.1f} ms/frame on {size[0]}x{size[1]}, "
          f"face analysis p50 {stats.get('analysis', {}).get('p50_ms', 0):.1f} ms")
    return EXIT_OK


def cmd_bench_live(args) -> int:
    import json
    import platform
    import threading

    from .live.pipeline import LivePipeline
    from .live.sinks import NullSink
    from .live.sources import SyntheticSource

    w, h = args.frame_size
    if args.segments:
        look = _split_sample_look(args.scene)
    else:  # with --scene the look comes from its template photo (a before/after pair), so the scene part has one
        look = None if args.scene else _sample_look()
    source = SyntheticSource((w, h), fps=args.fps if args.fps > 0 else 1000.0)
    if args.fps <= 0:
        source.paced = False
    sink = NullSink()
    swaps, picks = [], []
    changes, prev = [], [None]

    def degree_change(out, info):  # frame-to-frame change of the rendered degree map (None: 1 everywhere)
        d = info["degree"]
        d = np.ones((2, 2), np.float32) if d is None else d
        if prev[0] is not None:
            a = prev[0] if prev[0].shape == d.shape else np.full_like(d, float(prev[0].mean()))
            changes.append((float(np.abs(d - a).mean()), float(np.abs(d - a).max())))
        prev[0] = d

    with LivePipeline(source, [sink], look=look, backend=args.backend,
                      face_protect=not args.no_face_protect, scene=args.scene) as p:
        if args.scene and not args.segments:
            p.set_template(SAMPLE_DIR / "sample_after.jpg", SAMPLE_DIR / "sample_before.jpg").result()
        p.add_callback(degree_change)
        stop = threading.Event()

        def swapper():  # a before/after fit, then a one-photo fit whose readings are cycled as 'c' does
            before = SAMPLE_DIR / "sample_before.jpg"
            after = SAMPLE_DIR / "sample_after.jpg"
            while not stop.is_set():
                t = time.perf_counter()
                p.set_template(after, before).result()
                swaps.append((time.perf_counter() - t) * 1e3)
                p.set_template(after).result()
                for _ in range(2 * p.candidate[1]):
                    if stop.wait(0.1):
                        break
                    t = time.perf_counter()
                    p.pick_candidate(p.candidate[0] % p.candidate[1] + 1).result()
                    picks.append((time.perf_counter() - t) * 1e3)

        th = threading.Thread(target=swapper, daemon=True) if args.swap else None
        if th:
            th.start()
        try:
            stats = p.run(max_frames=args.frames)
            # read now: the capture goes on until close, and frames it replaces after the run are not the run's
            dropped = p.dropped_frames
        finally:
            stop.set()
            if th:
                th.join()
        backend = p.backend.name
        scene = p.estimator.scene
        scene_info = None if scene is None else {
            "has_template": scene.has_template, "evaluations": scene.evaluations, "threads": scene.threads,
            "score_last": round(p.scene_score, 4),
            "raw_last": None if scene.raw is None else round(scene.raw, 4),
            "evaluation_ms_median": round(float(np.median(scene.eval_ms)), 2) if scene.eval_ms else None,
            "evaluation_ms_p95": round(float(np.percentile(scene.eval_ms, 95)), 2) if scene.eval_ms else None}
    budget = 1000.0 / args.fps if args.fps > 0 else None
    ch = np.asarray(changes).reshape(-1, 2)
    result = {
        "size": f"{w}x{h}", "frames": args.frames, "source_fps": args.fps, "backend": backend,
        "face_protect": not args.no_face_protect, "scene": args.scene, "scene_analysis": scene_info,
        "segments": args.segments, "segmented_look": bool(look is not None and look.segmented),
        # per frame: the mean over the map of |d_t - d_(t-1)| and its largest value, then their mean / p99 over frames
        "degree_change": {"mean_of_mean": round(float(ch[:, 0].mean()), 5) if len(ch) else None,
                          "p99_of_mean": round(float(np.percentile(ch[:, 0], 99)), 5) if len(ch) else None,
                          "mean_of_max": round(float(ch[:, 1].mean()), 5) if len(ch) else None,
                          "p99_of_max": round(float(np.percentile(ch[:, 1], 99)), 5) if len(ch) else None},
        "template_swaps": len(swaps),
        "swap_ms_median": float(np.median(swaps)) if swaps else None, "reading_picks": len(picks),
        "pick_ms_median": float(np.median(picks)) if picks else None, "stats": stats,
        "dropped_frames": dropped,
        "latency_in_frame_times_p95": (stats["latency"]["p95_ms"] / budget) if budget else None,
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    # other work on the machine skews every figure: the load when the run ended says how much
                    "load_average_1min": round(os.getloadavg()[0], 2)},
    }
    text = json.dumps(result, indent=1)
    if args.json:
        from .fileio import atomic_output

        with atomic_output(args.json) as tmp:
            tmp.write_text(text)
    print(text)
    return EXIT_OK


COMMANDS = {"fit": cmd_fit, "apply": cmd_apply, "info": cmd_info, "live": cmd_live, "demo": cmd_demo,
            "bench-live": cmd_bench_live}


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"livefilter: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    parser = build_parser()
    # usage errors raise SystemExit(2) after one line (_Parser.error); --help and --version SystemExit(0)
    try:
        args = parser.parse_args(None if argv is None else [str(a) for a in argv])
    except _OptionValueError as exc:
        print(f"livefilter: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = _show_warning
        verbose = args.verbose or bool(os.environ.get("LIVEFILTER_DEBUG"))
        with contextlib.nullcontext() if verbose else quiet_native_logs():
            return _run(args)


# What MediaPipe / LiteRT / TensorFlow Lite / absl / glog print on the process's stderr from C++ (measured: 8 lines
# per demo run: "INFO: [environment.cc:36] Creating LiteRT environment...", "INFO: Created TensorFlow Lite XNNPACK
# delegate for CPU.", "WARNING: Logging before InitGoogle() is written to STDERR", "W0000 00:00:...
# inference_runner_litert.cc:1433] Input tensor memory is not aligned..."). GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL
# and ABSL_MIN_LOG_LEVEL (=3) each left all 8 lines, so the lines are filtered out of file descriptor 2 instead.
# OpenCV's own log lines ("[ WARN:0@0.585] global cap_v4l.cpp:915 open VIDEOIO(V4L2:/dev/video0): can't open camera
# by index" when there is no camera) and those of the FFmpeg inside OpenCV ("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x55...] moov
# atom not found", "[h264 @ 0x55...] Invalid NAL unit size") go too: our own line says what went wrong, in words.
NATIVE_LOG_LINE = re.compile(rb"^(INFO: |WARNING: Logging before InitGoogle|[IWEF]\d{4} [\d:.]+ +\d+ [\w.-]+:\d+\] "
                             rb"|\[ ?(?:WARN|INFO|ERROR|DEBUG|VERBOSE|FATAL)(?::\d+)?(?:@[\d.]+)?\] "
                             rb"|\[[\w,.-]+ @ (?:0x)?[0-9a-fA-F]+\] "
                             # a LiteRT line whose "INFO: " another worker process's line split off
                             rb"|\[[\w.-]+\.(?:cc|cpp|h):\d+\] )")


@contextlib.contextmanager
def quiet_native_logs():
    """Drop third-party native log lines from stderr (fd 2) while the block runs; everything else passes."""
    import threading

    try:
        sys.stderr.flush()
        saved = os.dup(2)
        r, w = os.pipe()
        os.dup2(w, 2)
        os.close(w)
    except OSError:  # no usable fd 2 (embedded interpreters): nothing to filter
        yield
        return

    def pump():
        with os.fdopen(r, "rb", buffering=0) as pipe, os.fdopen(os.dup(saved), "wb", buffering=0) as out:
            for line in iter(pipe.readline, b""):
                if not NATIVE_LOG_LINE.match(line):
                    out.write(line)

    t = threading.Thread(target=pump, name="lf-stderr", daemon=True)
    t.start()
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)  # closes the pipe's last write end: the pump drains what is left and ends
        t.join(timeout=2)
        os.close(saved)


def _run(args) -> int:
    debug = os.environ.get("LIVEFILTER_DEBUG")
    if args.command in ("apply", "live", "demo", "bench-live"):
        import logging

        logging.basicConfig(level=logging.DEBUG if debug else logging.INFO, format="livefilter: %(message)s",
                            stream=sys.stderr)
        if args.verbose:  # our own debug lines too (why a render backend was not used...)
            logging.getLogger("livefilter").setLevel(logging.DEBUG)
    try:
        return COMMANDS[args.command](args)
    except LiveFilterError as exc:
        if debug:
            raise
        print(f"livefilter: error: {exc}", file=sys.stderr)
        from .batch.video import VideoDecodeError
        from .live.capture import StreamError

        # corrupt data part-way through a video, a source failing part-way through a live run: failures (frames
        # were graded), not a refused input
        return EXIT_FAIL if isinstance(exc, (VideoDecodeError, StreamError)) else EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("livefilter: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one line, exit 1
        if debug:
            raise
        print(f"livefilter: failed: {type(exc).__name__}: {exc} (LIVEFILTER_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
