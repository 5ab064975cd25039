"""livefilter fit: learn a look from a photo (and the photo before its look), write it, say how it was read."""

from __future__ import annotations

import math
import shlex
import sys
import warnings
from pathlib import Path

from ..analysis.scene import SceneFeatures, default_model, similarity
from ..errors import InputError, LiveFilterError, OutputError
from ..fileio import check_distinct_outputs, check_output_path
from ..imageio import animation_frames, image_format, on_white, read_image, write_image
from ..look import describe_confidence, fit_look
from ..look.character import character, reading_character
from ..look.fit import MAX_TEMPLATES, SEVERAL_READINGS, fit_video
from ..look.look import check_look_format, pick_option
from ..look.settings import MAX_CANDIDATES, FitSettings
from ..look.stills import LOOKED_AT, STILLS, is_video, video_stills
from ..resources import DATA_DIR
from .exits import EXIT_FAIL, EXIT_OK
from .info import print_readings

HALD_SIZE = 64  # the points of a level-8 HaldCLUT, which a .png output is (luts.write_hald)
LUT_SIZE = 33  # --lut-size's default (given as None: a 33 asked for with a .png is said)
MAX_TEST_PHOTOS = 6  # the contact sheet's rows
GATE = FitSettings().segment_min_gain  # what a segment's own look must gain to be kept (code values)


def _scene_share(look, test) -> float | None:
    """The test photo's scene similarity to the template of a look that keeps its template's scene (what `apply`
    and `live` give it of the look), None without a scene."""
    if "scene" not in look.meta:
        return None
    try:
        return similarity(SceneFeatures.from_meta(look.meta["scene"]), default_model().describe(test))
    except (LiveFilterError, OSError, RuntimeError, ValueError):
        return None  # the template's scene was computed with the same model: it would have failed there too


def _scene_lines(look, tests, names) -> list[str]:
    """What `apply` and `live` give the test photos of the look, so that the reading picked on the contact sheet is
    not met weaker without a word: one line for one photo, one for several (a line each said the same words)."""
    if look.monochrome:  # given whole (a share of it left colour in a grey picture)
        return [f"{names[0] + ': ' if len(names) == 1 else ''}a black-and-white look: apply and live give every "
                "picture all of it, faces and unlike scenes too"]
    shares = [_scene_share(look, t) for t in tests]
    if len(names) > 1:
        each = ", ".join(f"{n} {'the whole look' if round(s, 2) >= 1.0 else f'{s:.0%}'}"
                         for n, s in zip(names, shares) if s is not None)
        whole = "each reading" if look.candidates else "the look"
        return [f"apply and live give {each} (each photo's scene against the template's), faces less (the sheet "
                f"shows {whole} whole; apply and live --no-scene --no-face-protect: all of it)"] if each else []
    name, s = names[0], shares[0]
    if s is None:
        return []
    if round(s, 2) >= 1.0:
        return [f"{name}: a scene like the template's: apply and live give it the whole look, faces less of it (the "
                "sheet shows it whole; --no-face-protect: faces too)"]
    return [f"{name}: its scene differs from the template's (similarity {s:.2f}): apply and live give it {s:.0%} of "
            "the look, faces less (the sheet shows it whole; apply and live --no-scene --no-face-protect: all of it)"]


def cmd_fit(args) -> int:
    out = Path(args.output)
    templates = args.template  # one or several photos in the look, or a video
    video = len(templates) == 1 and is_video(templates[0])
    several = len(templates) > 1 or video
    if len(templates) > 1 and (clip := next((t for t in templates if is_video(t)), None)):
        raise InputError("a video is read from its stills: give it alone, not with other templates", clip)
    if several:
        for option, given in (("--original", args.original), ("--segments", args.segments),
                              ("--save-defiltered", args.save_defiltered)):
            if given:
                raise InputError(f"{option} goes with one photo; several photos (or a video's stills) are read "
                                 "from their look alone")
        if len(templates) > MAX_TEMPLATES:
            raise InputError(f"{len(templates)} photos given: a look is learnt from at most {MAX_TEMPLATES}")
    if args.save_defiltered and args.original:
        raise InputError("--save-defiltered writes the network's guess; with --original there is none")
    # every output checked before the fit (its folder, not an input, not another output, an image format), so a bad
    # one costs no written file and a second output never overwrites the first
    outputs = {"-o": args.output, "--preview": args.preview, "--save-defiltered": args.save_defiltered}
    for path in filter(None, outputs.values()):
        check_output_path(path, (*templates, args.original, *(args.test_photo or ())))
    check_distinct_outputs(outputs)
    for path in filter(None, (args.preview, args.save_defiltered)):
        image_format(path)
    check_look_format(out)
    if args.test_photo and not args.preview:
        raise InputError("--test-photo is the photo of the --preview sheet; give --preview SHEET.png too")
    if args.test_photo and len(args.test_photo) > MAX_TEST_PHOTOS:
        raise InputError(f"--test-photo: {len(args.test_photo)} photos given; the sheet takes at most "
                         f"{MAX_TEST_PHOTOS}, one row each")
    tests = [_read(t, args) for t in args.test_photo or ()]
    if args.original and args.pick > 1:
        raise InputError(f"--pick {args.pick}: a look learnt with --original has one reading")
    if args.original and (args.candidates or 1) > 1:  # the pair says what the look is: there is nothing to choose
        raise InputError(f"--candidates {args.candidates}: a look learnt with --original has one reading")
    candidates = args.candidates or FitSettings().candidates
    if args.pick > candidates:
        more = (f"--candidates {args.pick} asks for {args.pick}" if args.pick <= MAX_CANDIDATES
                else f"--candidates goes up to {MAX_CANDIDATES}")
        raise InputError(f"--pick {args.pick}: only {candidates} reading{'s' if candidates > 1 else ''} "
                         f"asked for ({more})")
    size = args.lut_size or LUT_SIZE
    if out.suffix.lower() == ".png":  # a HaldCLUT: level 8, baked at its own 64 points (--lut-size is a .cube's)
        if args.lut_size not in (None, HALD_SIZE):
            warnings.warn(f"--lut-size {size}: a HaldCLUT .png holds a {HALD_SIZE}^3 look (level 8) whatever the "
                          "size; --lut-size sets a .cube's and a .look.npz's", stacklevel=2)
        size = HALD_SIZE
    kw = dict(allow_large=args.allow_large, sampling=args.sampling, samples=args.samples, size=size,
              mapping=args.mapping, solver=args.solver, seed=args.seed, name=args.name or Path(templates[0]).stem,
              segments=args.segments, candidates=None if args.original else candidates)
    stills = video_stills(templates[0]) if video else None  # kept for the preview sheet
    if (len(templates) > 1 or (stills and len(stills) > 1)) and args.pick > len(SEVERAL_READINGS):
        what = f"{len(stills)} stills of a video" if video else "several photos"
        raise InputError(f"--pick {args.pick}: a look from {what} has at most {len(SEVERAL_READINGS)} readings")
    # one photo: the .look.npz keeps the template's scene for apply's and live's scene similarity (several photos
    # have no one scene: it stays 1); a .cube or HaldCLUT has no place for it
    look = (fit_video(templates[0], stills, **kw) if video else
            fit_look(templates if several else templates[0], args.original, scene=out.suffix.lower() == ".npz", **kw))
    if "several" in look.meta and (args.candidates or 0) > len(look.candidates):  # asked for more than they give
        n = len(look.candidates)
        warnings.warn(f"{n} reading{'s' if n > 1 else ''} of {args.candidates} asked: a look from several "
                      f"{'stills' if video else 'photos'} has at most {len(SEVERAL_READINGS)} (automatic, bold, "
                      "gentle)", stacklevel=2)
    look = pick_option(look, args.pick, templates[0] if len(templates) == 1 else None)
    look.save(out, inputs=(*templates, args.original))
    how = ""
    if "several" in look.meta:
        how = (f", from {look.meta['several']['photos']} {'stills' if video else 'photos'}: their readings averaged, "
               f"{look.meta['several']['strengths']['automatic']:.0%} of the average's change")
    if video:
        print("stills: " + ", ".join(label.rsplit(" at ", 1)[1] for label, _ in stills)
              + f" of {templates[0]} (the most colourful of {LOOKED_AT} times spread over it"
              + (f"; {len(stills)} of the {STILLS} wanted: the others showed a picture already taken, a blank or a "
                 "title card)" if len(stills) < STILLS else ")"))
    elif look.meta.get("original") == "de-filter network":
        # as the confidence line says it (rounded alike: 0.3345 was '0.33' here and '34%' there)
        how = f", from one photo: {round(look.meta['guess_weight'], 3):.0%} of the guessed look kept"
    elif look.meta.get("original") == "monochrome path":
        how = ", from one black-and-white photo"
    if look.picked > 1:  # the file holds that reading: the line said reading 1's share kept and confidence first
        reading = look.candidates[look.picked - 1]
        note = f" ({reading.note})" if reading.note else ""
        print(f"wrote {out} (reading {look.picked} of {len(look.candidates)}, {reading.kind}{note}, confidence "
              f"{reading.confidence.get('level', 'unknown')}; {look.lut.size}^3 LUT, fit {look.meta['fit_ms']:.0f} ms)")
        print(f"reading 1's confidence: {describe_confidence(look.meta.get('confidence'))}")
    else:
        print(f"wrote {out} ({look.meta['mapping']} mapping{how}, {look.lut.size}^3 LUT, fit "
              f"{look.meta['fit_ms']:.0f} ms)")
        print(f"confidence: {describe_confidence(look.meta.get('confidence'))}")
    if look.meta.get("border"):  # letterbox bars, a frame: left out of the fit
        sides = ", ".join(f"{k} {v}" for k, v in look.meta["border"].items() if v)
        print(f"border: a uniform border left out ({sides} px); the look is read from the picture inside it")
    for template in templates if not video else ():
        if (frames := animation_frames(template)) > 1:
            which = f"{template} is " if several else ""
            print(f"template: {which}an animated image ({frames} frames); the look is read from its first frame")
    for t in look.meta.get("templates", []):  # several photos: each one's border, as for one photo
        if t.get("border"):
            sides = ", ".join(f"{k} {v}" for k, v in t["border"].items() if v)
            print(f"border: {t['template']}: a uniform border left out ({sides} px)")
    if look.candidates:
        print_readings(look, kept=out.suffix.lower() == ".npz")
    else:  # the readings' lines say what each one does
        print(f"character: {look.character}")
    if len(look.candidates) > 1 and not args.preview:  # the choice is made by eye, on the user's own picture
        live = out if out.suffix.lower() == ".npz" else None if several else templates[0]  # .look.npz: these readings
        print("see them side by side: add --preview SHEET.png --test-photo YOUR_PHOTO "
              + (f"(or live: livefilter live --template {shlex.quote(str(live))} --preview, key c)" if live else
                 "(a .look.npz output keeps them all for live's key c)"))
    if args.segments and "note" in look.meta["segments"]:
        print("segments: the global look for every segment (learnt from one photo: see the warning above)")
    elif args.segments:
        shares = look.meta["segments"]["shares"]
        own = ", ".join(f"{name} {shares[str(k)]:.0%}" for k, name in look.categories.items() if k in look.label_luts)
        errors = look.meta["segments"].get("fit error") or {}
        # why a segment has no look of its own: too small to learn one, or its own fitted it too little better
        def gain(k):  # code values its own look fitted better than the global one, against the gate
            g = errors[str(k)]["global"] - errors[str(k)]["own"]
            if g <= 0:
                return "its own look fitted it no better"
            return f"its own look fitted it only {math.floor(g * 100) / 100:.2f} code values better, under {GATE}"

        rest = [f"{name} {shares[str(k)]:.0%} ({gain(k) if str(k) in errors else 'under 10 %'})"  # each its share
                for k, name in look.categories.items() if k not in look.label_luts]
        print(f"segments: own look for {own or 'none'}" + (f"; global look for {', '.join(rest)}" if rest else ""))
        for path in (look.segment_paths(out).values() if out.suffix.lower() != ".npz" else ()):
            print(f"wrote {path}")
    try:
        _write_extras(look, args, templates, tests, stills)
    except OutputError as exc:  # the look is written: a failure part-way (exit 1), not a refused input (2)
        print(f"livefilter: error: {exc} (the look {out} was written)", file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def _write_extras(look, args, templates, tests, stills) -> None:
    """The outputs written after the look: the network's guess and the contact sheet."""
    if args.save_defiltered:
        write_image(args.save_defiltered, look.defiltered, inputs=tuple(templates))
        h, w = look.defiltered.shape[:2]
        print(f"wrote {args.save_defiltered} (the de-filter network's guess of the original, {w}x{h}: the size the "
              "network sees)")
    if args.preview:
        _write_preview(args.preview, look, args, tests, stills)
        print(f"wrote {args.preview}")
        if tests:
            for line in _scene_lines(look, tests, args.test_photo):
                print(line)


def _read(path, args):
    """A picture for the preview sheet: its transparent parts on white (they showed the colours stored there)."""
    return on_white(*read_image(path, with_alpha=True, allow_large=args.allow_large, min_size=2))


def _sheet_caption(i: int, reading, mark: str) -> str:
    """A reading's caption on the contact sheet: its number and kind (``mark`` for the one the file is: it was a bare
    "*"), then its confidence and what it does."""
    level = reading.confidence.get("level")
    return (f"{i} {reading.kind}" + (f" ({mark})" if mark else "") + "\n"
            + (f"{level} confidence: " if level else "") + reading_character(reading))


def _write_preview(path, look, args, tests=(), stills=None) -> None:
    """The contact sheet: the template(s) (a video's stills), then a row per test photo (the bundled one by default)
    with every reading on it, numbered as --pick takes them; the first row's captions say each reading's confidence
    and what it does."""
    from ..preview import contact_grid  # here: `livefilter --help` does not load it (start-up time)

    templates = args.template
    if stills:  # a video's: each still, with its time
        tiles = [(label.rsplit(" at ", 1)[1], rgb) for label, rgb in stills]
    elif len(templates) == 1:
        tiles = [("template", _read(templates[0], args))]
    else:
        tiles = [(f"template {i}", _read(t, args)) for i, t in enumerate(templates, 1)]
    names = [Path(t).name for t in args.test_photo or ()]
    if not tests:
        tests, names = [read_image(DATA_DIR / "sample_test.jpg")], []
    blank = [("", None)] * len(tiles)  # the template(s) once, above the rows of the other test photos
    if look.candidates:  # every reading on each test photo, numbered as --pick takes them
        # a .look.npz keeps every reading, the picked one its default; a .cube or a HaldCLUT holds that one alone
        mark = "default" if Path(args.output).suffix.lower() == ".npz" else "saved"
        rows = []
        for j, test in enumerate(tests):
            label = names[j] if len(names) > 1 else "test photo"
            rows.append([*(tiles if j == 0 else blank), (label, test), *(
                (_sheet_caption(i, c, mark if i == look.picked else "") if j == 0 else f"{i} {c.kind}",
                 look.pick(i).apply(test))
                for i, c in enumerate(look.candidates, 1))])
        write_image(path, contact_grid(rows, height=240), inputs=(*templates, *(args.test_photo or ())))
        return
    if args.original:
        tiles.append(("original", _read(args.original, args)))
    elif look.defiltered is not None:
        tiles.append(("de-filtered guess", look.defiltered))
    blank = [("", None)] * len(tiles)
    rows = [[*(tiles if j == 0 else blank), (names[j] if len(names) > 1 else "test image", test),
             ("test image + look" + (f"\n{character(look.lut)}" if j == 0 else ""),
              look.apply(test))] for j, test in enumerate(tests)]
    write_image(path, contact_grid(rows), inputs=(*templates, args.original, *(args.test_photo or ())))
