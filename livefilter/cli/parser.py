"""The command line's options: every command's arguments, their types and ranges, checked while the command line
is parsed, and a usage mistake said in one line."""

from __future__ import annotations

import argparse

import numpy as np

from .._version import __version__
from ..errors import InputError
from ..imageio import PHOTO_FORMATS
from ..look.fit import SEVERAL_READINGS
from ..look.sampling import MAX_SAMPLES, MIN_SAMPLES
from ..look.settings import MAX_CANDIDATES, FitSettings
from ..media.codec import PRESETS
from .exits import EXIT_BAD_INPUT

# --fps: a frame a second at the least (below, a live run looks hung), 240 at the most (the fastest cameras)
MAX_FPS = 240


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Every option's help ends with its default, when it has one worth showing."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        # (identity: a default of 0 equals False, and --seed's 0 went unsaid)
        if (action.option_strings and "%(default)" not in text and not any(default is x for x in (
                None, False, argparse.SUPPRESS)) and action.nargs != 0):
            text += " (default: %(default)s)"
        return text


class OptionValueError(InputError):
    """An option's value is out of range or not a number (raised while the command line is parsed)."""


class _Parser(argparse.ArgumentParser):
    """Usage mistakes are one line (like every other error of the CLI) and exit 2. A bad option value becomes
    an InputError, which main() reports like any other bad input (return 2); other mistakes (a missing argument,
    an unknown command) exit through SystemExit(2) as argparse does."""

    def error(self, message):
        if message.startswith("argument ") and _VALUE_PROBLEM in message:
            raise OptionValueError(message)
        if "required: template" in message and "--test-photo" in self._given:  # it took the template as a photo
            message += " (--test-photo takes every photo after it: give the template before it)"
        self.exit(EXIT_BAD_INPUT, f"livefilter: error: {message} (see: {self.prog} --help)\n")

    def parse_known_args(self, args=None, namespace=None):
        self._given = list(args or ())  # a command's own arguments, for error()'s hints
        return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        """As argparse's, but an unknown option points to its command's help (``livefilter apply --help``)."""
        ns, extra = self.parse_known_args(args, namespace)
        if extra:
            command = getattr(ns, "command", None)
            prog = f"{self.prog} {command}" if command else self.prog
            self.exit(EXIT_BAD_INPUT, f"livefilter: error: unrecognized arguments: {' '.join(extra)} "
                                      f"(see: {prog} --help)\n")
        return ns


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


def _bench_fps(text):
    """bench-live's --fps: 0 (unpaced) or a live rate (1..MAX_FPS); 0.001 fps would make a run of hours."""
    v = _number(float)(text)
    if v != 0 and not 1 <= v <= MAX_FPS:
        raise argparse.ArgumentTypeError(f"bad value: must be 0 (as fast as possible) or 1..{MAX_FPS}, got {text}")
    return v


def _frame_size(text):
    from ..live.pipeline import parse_size  # here: `livefilter --help` does not load live/ (start-up time)

    try:
        return parse_size(text)
    except InputError as exc:
        raise argparse.ArgumentTypeError(f"bad value: {exc}") from None


def _samples(text):
    return _number(int, MIN_SAMPLES, MAX_SAMPLES)(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="livefilter", formatter_class=_Formatter,
                     description="Learn a photo look from one example image and apply it.")
    parser.add_argument("--version", action="version", version=f"livefilter {__version__}")
    # before the command as after it (`livefilter -v info x`: "unrecognized arguments: -v"); its own dest, since a
    # command's default would overwrite a shared one
    parser.add_argument("-v", "--verbose", dest="verbose_first", action="store_true", help="as each command's -v")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _Parser(add_help=False)
    common.add_argument("-v", "--verbose", action="store_true",
                        help="show third-party libraries' own logging (MediaPipe, LiteRT) too; so does "
                             "LIVEFILTER_DEBUG=1, which also shows tracebacks")
    looks = ".cube, .3dl, .look.npz or a HaldCLUT .png"

    def add(name, **kw):
        return sub.add_parser(name, formatter_class=_Formatter, parents=[common], **kw)

    p = add("fit", help="learn a look from a photo, several photos or a video (and optionally the photo before its "
                        "filter)",
            description="Learn a look. With --original, from a before/after pair; from several photos in the same "
                        "look, or a video's stills, more surely than from one.")
    p.add_argument("template", nargs="+", help="the photo whose look you want (the 'after'); or up to 8 photos in "
                                               "the same look (shots of one film stock, one creator's grade); or a "
                                               "video (5 of its stills)")
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
    p.add_argument("--lut-size", "--size", dest="lut_size", type=_number(int, 2, 256), default=None,
                   help="points per axis of the baked 3D LUT of a .cube or .look.npz, 2..256, default 33 (a "
                        "HaldCLUT .png is 64, level 8; --size is the old name)")
    p.add_argument("--mapping", choices=("residual", "seed"),
                   help="residual = quartic + smooth residual grid (more accurate); seed = quartic only (follows "
                        "the network's guess less). Default: residual with --original, seed from one photo")
    p.add_argument("--solver", choices=("lstsq", "lbfgs"), default="lstsq", help="quartic solver")
    p.add_argument("--seed", type=_number(int, 0), default=0, help="random seed of the sampling")
    p.add_argument("--name", help="look name (default: the (first) template's file name)")
    p.add_argument("--candidates", type=_number(int, 1, MAX_CANDIDATES),
                   help=f"from one photo: how many distinct readings of its look to offer (default "
                        f"{FitSettings().candidates}; several photos or a video give at most {len(SEVERAL_READINGS)}; "
                        "the .look.npz keeps them all; see --preview)")
    p.add_argument("--pick", type=_number(int, 1), default=1,
                   help="which reading the output is (1 = the automatic one)")
    p.add_argument("--preview", metavar="SHEET.png",
                   help="also write a contact sheet: the template and every reading, numbered, on a test photo")
    p.add_argument("--test-photo", metavar="PHOTO", nargs="+",
                   help="the photo(s) the --preview sheet grades, one row each, up to 6: your own pictures, to "
                   "choose a reading on (default: the bundled sample)")
    p.add_argument("--save-defiltered", metavar="PATH",
                   help="write the de-filter network's guess of the original (without --original; of the "
                   "picture inside the template's border, if it has one)")
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
    p.add_argument("--pick", type=_number(int, 1), default=None,
                   help="which reading of a .look.npz saved with several applies (default: the one it was saved "
                        "with; `livefilter info LOOK` lists them)")
    p.add_argument("--no-scene", action="store_true",
                   help="no scene similarity: the full look outside faces even where a photo's scene is unlike the "
                        "template's (a .look.npz from fit carries the template's scene; other looks never use it)")
    p.add_argument("--strength", type=_number(float, 0.0, 1.0), default=1.0, help="how much of the look, 0..1")
    p.add_argument("--no-face-protect", action="store_true", help="faces get the full look")
    p.add_argument("--interp", choices=("trilinear", "tetrahedral"), default="trilinear",
                   help="interpolation between the LUT's points")
    p.add_argument("--format", choices=PHOTO_FORMATS, default=None,
                   help="with --out-dir: write every photo in this format (default: each in its own)")
    p.add_argument("--quality", type=_number(int, 1, 100), default=95, help="JPEG/WebP quality, 1..100")
    p.add_argument("--crf", type=_number(float, 0.0, 51.0), default=18.0,
                   help="H.264 quality of graded videos, 0..51 (lower is better)")
    # veryfast, as live recordings and OBS's x264 default: at medium x264 alone takes two cores (1080p: 9.1 fps,
    # as fast as ffmpeg decoding and encoding with no filter), at veryfast a file grades 1.4x faster
    p.add_argument("--preset", default="veryfast", choices=PRESETS, help="H.264 encoder speed")
    p.add_argument("-r", "--recursive", action="store_true", help="grade the files in sub-folders too")
    p.add_argument("--skip-existing", action="store_true", help="leave inputs whose output exists (resume a batch)")
    p.add_argument("--keep-partial", action="store_true",
                   help="a video that stops part-way (corrupt data, Ctrl+C) keeps what was graded, as "
                        "NAME.partial.EXT beside the output")
    p.add_argument("--grade-damaged", action="store_true",
                   help="a video frame the decoder flags as damaged (a lost packet in a recording) is graded as it "
                        "conceals it, as players show it, instead of stopping there; a warning says how many")
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
                   help=f"a look file ({looks}), a photo (alone or with --original), a video (its stills, as "
                        "fit reads them), or a folder of look files "
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
    p.add_argument("--duration", type=_number(float, 0.0, lo_open=True),
                   help="stop after S seconds of the input (S > 0): on a file's own clock, a camera's from its first "
                   "frame")
    p.add_argument("--allow-large", action="store_true", help="read template and input photos over 100 megapixels")

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
    p.add_argument("--fps", type=_bench_fps, default=30.0,
                   help=f"source rate, 1..{MAX_FPS}, or 0: as fast as possible")
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
