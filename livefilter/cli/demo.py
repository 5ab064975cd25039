"""livefilter demo: the live pipeline on the bundled sample look and the synthetic clip (no camera needed): an mp4
and a before/after contact sheet."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import cv2
import numpy as np

from ..errors import OutputError
from ..fileio import check_output_folder, check_output_path
from ..imageio import write_image
from ..resources import sample_path
from .exits import EXIT_FAIL, EXIT_OK, signal_exit
from .samples import sample_look
from .signals import stop_event_on_signals

# live/ and the contact sheet are imported where they are used: `livefilter --help` does not load them (start-up time)


def cmd_demo(args) -> int:
    from ..live.pipeline import LivePipeline
    from ..live.sinks import VideoFileSink
    from ..live.sources import SyntheticSource
    from ..preview import contact_sheet

    size = args.frame_size
    out_dir = Path(args.out_dir)
    check_output_folder(out_dir)
    mp4, sheet = out_dir / "livefilter-demo.mp4", out_dir / "livefilter-demo.png"
    check_output_path(sheet)
    look = sample_look()
    picks = {0, args.frames // 2, args.frames - 1}
    shots = []

    source = SyntheticSource(size, fps=30.0, frames=args.frames)
    # every frame of the clip is wanted, so the demo pushes frames through process() instead of the threaded
    # latest-frame loop (which would drop frames it cannot keep up with)
    video = VideoFileSink(mp4, fps=30.0)
    p = LivePipeline(source, [video], look=look, backend=args.backend, analysis_every=1)
    # Ctrl+C, SIGTERM, SIGHUP: the frame in hand finishes, then the demo stops (an exception raised wherever the
    # signal came, as before, could leave a lock held: a SIGTERM once left the demo running)
    with stop_event_on_signals() as stop:
        complete = False
        try:
            for i in range(args.frames):
                if stop.is_set():
                    break
                frame = source.read()
                out = p.process(frame)
                if i in picks:
                    shots.append((frame, out.copy(), p.degree))
            complete = not stop.is_set()
        finally:
            if not complete:  # a demo clip is all or nothing (a part replaced the last run's clip)
                video.discard()
            p.close()
    if stop.is_set():
        print(f"livefilter: stopped ({stop.signal}): nothing written", file=sys.stderr)
        return signal_exit(stop.signal)
    stats = p.stats.summary()
    tiles = []
    for i, (before, after, _) in enumerate(shots):
        tiles += [(f"frame {i + 1}: camera", before), ("with the look (face protected)", after)]
    if shots:
        d = shots[-1][2]
        dimg = np.ones(shots[-1][0].shape[:2], np.float32) if d is None else cv2.resize(
            d, shots[-1][0].shape[1::-1], interpolation=cv2.INTER_LINEAR)
        tiles.append(("rendering degree", np.repeat((dimg[:, :, None] * 255).astype(np.uint8), 3, axis=2)))
    try:
        write_image(sheet, contact_sheet(tiles, height=200))
    except OutputError as exc:  # the clip is written: a failure part-way (exit 1), as fit's preview
        print(f"livefilter: error: {exc} ({mp4} was written)", file=sys.stderr)
        return EXIT_FAIL
    print(f"wrote {mp4} ({stats['frames']} frames) and {sheet}")
    print(f"render p50 {stats.get('render', {}).get('p50_ms', 0):.1f} ms/frame on {size[0]}x{size[1]}, "
          f"face analysis p50 {stats.get('analysis', {}).get('p50_ms', 0):.1f} ms")
    # the next step on photos that ship with the package: a newcomer has a command to copy, not a placeholder
    template, test = (shlex.quote(str(sample_path(n))) for n in ("sample_after.jpg", "sample_test.jpg"))
    look_out, sheet_out = (shlex.quote(str(out_dir / n)) for n in ("look.look.npz", "sheet.png"))
    print(f"next, learn a look from a photo (here the bundled graded sample) and see its readings on another:\n"
          f"  livefilter fit {template} -o {look_out} --preview {sheet_out} --test-photo {test}")
    return EXIT_OK
