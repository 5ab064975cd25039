"""The ``livefilter`` command line: fit, apply, info.

Exit codes: 0 ok, 1 failure (an unexpected error), 2 bad usage or bad input (one line on stderr, no traceback).
Set LIVEFILTER_DEBUG=1 to see tracebacks.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

from . import __version__
from .errors import InputError, LiveFilterError, OutputError

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT = 0, 1, 2
IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp")
SAMPLE_DIR = Path(__file__).resolve().parent / "data"


def _add_common_image_flags(p):
    p.add_argument("--allow-large", action="store_true", help="process images over 100 megapixels")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livefilter", description="Learn a photo look from one example image and apply it.")
    parser.add_argument("--version", action="version", version=f"livefilter {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("fit", help="learn a look from a photo (and optionally the photo before its filter)",
                       description="Learn a look. With --original, from a before/after pair.")
    p.add_argument("template", help="the photo whose look you want (the 'after')")
    p.add_argument("--original", help="the same photo before its look (the 'before')")
    p.add_argument("-o", "--output", required=True, help="output look: .cube, .look.npz or HaldCLUT .png")
    p.add_argument("--sampling", choices=("uniform", "salient"), default="uniform",
                   help="where pixel pairs are taken (default uniform)")
    p.add_argument("--samples", type=int, default=8000, help="pixel pairs to fit from (>= 4000, default 8000)")
    p.add_argument("--size", type=int, default=33, help="LUT size (2..256, default 33)")
    p.add_argument("--mapping", choices=("residual", "seed"), default="residual",
                   help="residual = quartic + smooth residual grid (default, more accurate); seed = quartic only")
    p.add_argument("--solver", choices=("lstsq", "lbfgs"), default="lstsq", help="quartic solver (default lstsq)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the sampling (default 0)")
    p.add_argument("--name", help="look name (default: the template's file name)")
    p.add_argument("--preview", metavar="SHEET.png", help="also write a contact sheet showing the look")
    _add_common_image_flags(p)

    p = sub.add_parser("apply", help="apply a look to images",
                       description="Apply a look (.cube, .look.npz or HaldCLUT .png) to images.")
    p.add_argument("look", help="the look file")
    p.add_argument("inputs", nargs="+", help="input images")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("-o", "--output", help="output image (one input only)")
    g.add_argument("--out-dir", help="folder for the outputs (same file names)")
    p.add_argument("--strength", type=float, default=1.0, help="how much of the look, 0..1 (default 1)")
    p.add_argument("--interp", choices=("trilinear", "tetrahedral"), default="trilinear")
    p.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality (default 95)")
    _add_common_image_flags(p)

    p = sub.add_parser("info", help="describe a look file")
    p.add_argument("look", help="the look file")
    return parser


def cmd_fit(args) -> int:
    from .look import fit_look

    out = Path(args.output)
    from .fileio import check_output_path

    check_output_path(out, (args.template, args.original))
    if args.preview:
        check_output_path(args.preview, (args.template, args.original))
    if not 2 <= args.size <= 256:
        raise InputError(f"--size must be 2..256, got {args.size}")
    look = fit_look(args.template, args.original, allow_large=args.allow_large, sampling=args.sampling,
                    samples=args.samples, size=args.size, mapping=args.mapping, solver=args.solver, seed=args.seed,
                    name=args.name or Path(args.template).stem)
    look.save(out, inputs=(args.template, args.original))
    print(f"wrote {out} ({look.meta['mapping']} mapping, {look.lut.size}^3 LUT, fit {look.meta['fit_ms']:.0f} ms)")
    if args.preview:
        _write_preview(args.preview, look, args)
        print(f"wrote {args.preview}")
    return EXIT_OK


def _read(path, args):
    from .imageio import read_image

    return read_image(path, allow_large=args.allow_large, min_size=2)


def _write_preview(path, look, args) -> None:
    from .imageio import read_image, write_image
    from .preview import contact_sheet

    tiles = [("template", _read(args.template, args))]
    if args.original:
        tiles.append(("original", _read(args.original, args)))
    test = read_image(SAMPLE_DIR / "sample_test.jpg")
    tiles += [("test image", test), ("test image + look", look.apply(test))]
    write_image(path, contact_sheet(tiles), inputs=(args.template, args.original))


def cmd_apply(args) -> int:
    from .fileio import check_output_path
    from .imageio import read_image, write_image
    from .look import load_look

    if not 0.0 <= args.strength <= 1.0:
        raise InputError(f"--strength must be in [0, 1], got {args.strength}")
    if args.output and len(args.inputs) > 1:
        raise InputError(f"-o takes one input, got {len(args.inputs)}; use --out-dir for several")
    if args.out_dir and not Path(args.out_dir).is_dir():
        raise OutputError("output folder does not exist", args.out_dir)
    look = load_look(args.look)
    jobs = []
    for src in args.inputs:
        dst = Path(args.output) if args.output else Path(args.out_dir) / Path(src).name
        if dst.suffix.lower() not in IMAGE_EXTS:
            raise OutputError(f"unsupported output extension {dst.suffix!r}; use one of {', '.join(IMAGE_EXTS)}",
                              dst)
        check_output_path(dst, (src, args.look))
        jobs.append((src, dst))
    for src, dst in jobs:
        t = time.perf_counter()
        rgb, alpha = read_image(src, with_alpha=True, allow_large=args.allow_large)
        out = look.apply(rgb, strength=args.strength, interp=args.interp)
        write_image(dst, out, alpha, quality=args.quality, inputs=(src, args.look))
        print(f"wrote {dst} ({(time.perf_counter() - t) * 1e3:.0f} ms)")
    return EXIT_OK


def cmd_info(args) -> int:
    from .look import load_look
    from .lut import identity_table

    look = load_look(args.look)
    lut = look.lut
    dev = np.abs(np.clip(lut.normalized().table, 0, 1) - identity_table(lut.size)).mean() * 255
    print(f"look:      {look.name}")
    print(f"file:      {args.look}")
    print(f"LUT:       {lut.size}^3, domain {list(lut.domain_min)} .. {list(lut.domain_max)}")
    print(f"strength:  mean distance from identity {dev:.2f} (0-255 scale)")
    if look.mapping is not None:
        print(f"mapping:   {look.mapping.kind}")
    if look.label_luts:
        print(f"segments:  {sorted(look.label_luts)}")
    for k, v in look.meta.items():
        if k not in ("name",) and v not in (None, "", []):
            print(f"{k + ':':<10} {v}")
    return EXIT_OK


COMMANDS = {"fit": cmd_fit, "apply": cmd_apply, "info": cmd_info}


def _show_warning(message, category, filename, lineno, file=None, line=None):
    print(f"livefilter: warning: {message}", file=sys.stderr)


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = _show_warning
        return _run(args)


def _run(args) -> int:
    debug = os.environ.get("LIVEFILTER_DEBUG")
    try:
        return COMMANDS[args.command](args)
    except LiveFilterError as exc:
        if debug:
            raise
        print(f"livefilter: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
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
