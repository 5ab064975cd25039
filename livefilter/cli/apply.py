"""livefilter apply: grade photos, videos and folders with a look. The work is batch/'s (the plan, the look read,
each file graded, one bad file failing alone); this module says what happened and sets the exit status."""

from __future__ import annotations

import dataclasses
import logging
import sys
import time

from ..look.character import character
from ..look.look import pick_option
from .exits import EXIT_FAIL, EXIT_OK, signal_exit
from .signals import stop_event_on_signals

SKIPPED_SHOWN = 3  # files skipped as done named one a line, unless -v

# batch/ is imported where it is used: `livefilter --help` does not load it (start-up time)


def cmd_apply(args) -> int:
    from ..analysis.scene import UNLIKE_NOTE
    from ..batch.degree import scene_of
    from ..batch.folders import grade_batch, plan_batch, summary
    from ..batch.jobs import Options, Result, count
    from ..batch.progress import ProgressBar
    from ..media.memory import steady_memory

    steady_memory()  # a process-wide malloc setting: the program's choice (docs/decisions.md, 'malloc threshold')

    batch = plan_batch(args.look, args.inputs, output=args.output, out_dir=args.out_dir, recursive=args.recursive,
                       skip_existing=args.skip_existing, photo_format=args.format)
    if args.pick is not None:
        batch.look = pick_option(batch.look, args.pick, args.look)
    if len(readings := batch.look.candidates) > 1:  # which reading grades, and what it does (it went unsaid)
        n = batch.look.picked
        print(f"reading {n} of {len(readings)} ({readings[n - 1].kind}): "
              + character(batch.look.lut, strength=args.strength)  # at the strength it grades at
              + (f" (at strength {args.strength:g})" if args.strength != 1 else "")
              + ("; --pick N grades with another" if args.pick is None else ""))
    if args.no_scene:  # the template's scene is what the scene similarity compares with: without it, none
        batch.look = dataclasses.replace(batch.look, meta={k: v for k, v in batch.look.meta.items() if k != "scene"})
    if line := batch.ignored_line(None if args.verbose else 3):  # -v: every file named
        print(line)
    one_file = len(batch.todo) == 1 and not batch.skipped and args.ray is None
    if batch.todo and scene_of(batch.look) is not None and not (one_file and batch.todo[0].kind == "image"):
        print(f"scene: {UNLIKE_NOTE}")  # one photo's own line says the share it got
    for j in batch.skipped if args.verbose else batch.skipped[:SKIPPED_SHOWN]:  # a resumed batch: a line each
        print(f"skipped {j.src} ({j.dst} exists)")
    if len(batch.skipped) > SKIPPED_SHOWN and not args.verbose:
        print(f"skipped {len(batch.skipped) - SKIPPED_SHOWN} more whose output exists (-v names them)")
    if not one_file and (replaced := [j.dst for j in batch.todo if j.dst.exists()]):  # (they went without a word)
        print(f"replacing {count(len(replaced), 'existing file')} ({', '.join(str(p) for p in replaced[:2])}"
              f"{', ...' if len(replaced) > 2 else ''}): --skip-existing leaves them")
    if args.crf < 1 and any(j.kind == "video" for j in batch.todo):  # x264's lossless mode: said once, up front
        logging.getLogger("livefilter").warning(
            "--crf under 1 is lossless: x264 writes H.264's High 4:4:4 Predictive profile, which most players and "
            "browsers do not play (--crf 1 and above play everywhere)")
    opts = Options(not args.no_face_protect, args.strength, args.interp, args.quality, args.allow_large, args.crf,
                   args.preset, args.keep_partial, grade_damaged=args.grade_damaged)
    started = time.monotonic()
    with stop_event_on_signals() as stop:
        if one_file:
            return _apply_one(batch, opts, stop)
        bar = ProgressBar("livefilter apply", unit="files")
        done, failed = [], []

        def report(r: Result):
            bar.close()
            if r.status == "ok":
                what = f"{count(r.frames, 'frame')}, " if r.job.kind == "video" else ""
                took = f"{r.seconds * 1e3:.0f} ms" if r.seconds < 1 else f"{r.seconds:.1f} s"  # not "0.0 s"
                print(f"wrote {r.job.dst} ({what}{took})", flush=True)
            elif r.status == "failed":
                failed.append(r)
                print(f"livefilter: error: {r.message}", file=sys.stderr, flush=True)
            bar(len(done) + 1, len(batch.todo))
            done.append(r)

        results = grade_batch(batch, opts, workers=args.jobs, ray=args.ray, stop=stop, on_result=report)
        bar.close()
        took = time.monotonic() - started  # (on a terminal only the progress bar said how long a batch took)
        print(f"{summary(results, len(batch.skipped))} in {took:.1f} s")
        if stop.signal and any(r.status == "interrupted" for r in results):  # (a signal once all was done: no stop)
            if not args.skip_existing and any(r.status == "ok" for r in results):  # the same command re-graded all
                print("to grade only the files not finished, run the same command with --skip-existing")
            print(f"stopped ({stop.signal})")
            return signal_exit(stop.signal)
    return EXIT_FAIL if failed else EXIT_OK


def _apply_one(batch, opts, stop) -> int:
    """One file: its errors raise to main() (bad input: exit 2; corrupt data part-way through a video: exit 1), a
    video's progress drawn in frames."""
    from ..batch.degree import photo_degree, protects_faces, scene_of
    from ..batch.jobs import count, grade_file
    from ..batch.progress import ProgressBar
    from ..batch.video import partial_path

    job = batch.todo[0]
    bar = ProgressBar(job.src.name) if job.kind == "video" else None
    # a photo: say what share of the look its scene gave it (a look that keeps its template's scene) and how many
    # faces got less of it (the contact sheet shows each reading whole: a face graded less went unsaid)
    est = (photo_degree(batch.look, opts.face_protect) if job.kind == "image" and (
        scene_of(batch.look) or protects_faces(batch.look, opts.face_protect)) else None)
    try:
        r = grade_file(batch.look, job, opts, stop=stop, progress=bar, extra_inputs=batch.extra_inputs,
                       degree_estimator=est)
        s = est.scene_score if est is not None else None
        faces = est.faces if est is not None else 0
    finally:
        if bar is not None:
            bar.close()
        if est is not None:
            est.close()
    if r.status == "ok":
        scene = (f"; its scene differs from the template's: {s:.0%} of the look, --no-scene for all of it"
                 if s is not None and round(s, 2) < 1.0 else "")
        if faces:
            who = "a face keeps more of its" if faces == 1 else f"{faces} faces keep more of their"
            scene += f"; {who} own colour, --no-face-protect for the whole look"
        print(f"wrote {job.dst} ({r.seconds * 1e3:.0f} ms{scene})" if job.kind == "image" else
              f"wrote {job.dst} ({count(r.frames, 'frame')}, {r.fps:.1f} fps)")
        return EXIT_OK
    kept = (f"kept the {r.frames} graded frames in {partial_path(job.dst)}" if r.message.endswith("(kept)") else
            "nothing written")
    print(f"stopped ({stop.signal or 'interrupted'}) after {r.frames} of {r.expected} frames: {kept}")
    return signal_exit(stop.signal)
