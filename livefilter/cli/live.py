"""livefilter live: grade a camera, a file or the synthetic clip as it plays, to a virtual camera, a window and/or a
recording."""

from __future__ import annotations

import logging
import shlex
import sys
from pathlib import Path

from ..errors import InputError
from ..fileio import check_output_path
from ..imageio import READABLE_IMAGE_EXTS
from ..luts import FORMATS, format_of, look_file_kind
from .exits import EXIT_FAIL, EXIT_OK
from .signals import stop_on_signals

# live/ is imported where it is used: `livefilter --help` does not load it (start-up time)


def _check_pick(pick: int, template, original, assume_look: bool) -> None:
    """A --pick that the template's fit cannot give is refused before the fit (a video's stills take seconds to
    read): a photo or a video is read as at most FitSettings().candidates readings, a pair as one look. What the
    fit gives (fewer: near-duplicates, a video's several stills) and a look file's readings are checked after."""
    from ..look.settings import MAX_CANDIDATES, FitSettings
    from ..look.stills import is_video

    if look_file_kind(template, assume_look=assume_look) != "image":
        return  # a look file: its readings are known when it is read (with --original, the fit says it is none)
    if original is not None:
        raise InputError(f"--pick {pick}: a look from a photo and its original has one reading", template)
    most = FitSettings().candidates
    if pick > most:
        video = is_video(template)
        hint = ""
        if not video and pick <= MAX_CANDIDATES:
            q = shlex.quote(str(template))
            hint = (f" (for more: livefilter fit {q} --candidates {pick} -o LOOK.look.npz, then live --template "
                    f"LOOK.look.npz --pick {pick})")
        raise InputError(f"--pick {pick}: live reads a {'video' if video else 'photo'} as at most {most} "
                         f"readings{hint}", template)


def cmd_live(args) -> int:
    from ..live.pipeline import LivePipeline
    from ..live.sinks import VideoFileSink, VirtualCameraSink
    from ..live.sources import (
        CameraSource,
        ImageSequenceSource,
        ImageSource,
        SyntheticSource,
        VideoFileSource,
        is_sequence,
    )
    from ..media.codec import say_what_a_recording_loses
    from ..media.mux import audio_codecs

    size = args.frame_size or (1280, 720)
    # everything that can be checked is checked before a device, a window or a file is opened
    if not (args.vcam or args.preview or args.record):
        raise InputError("choose where the video goes: --vcam, --preview and/or --record OUT.mp4")
    templates, template = [], args.template
    if Path(template).is_dir():
        templates = sorted(p for p in Path(template).iterdir() if p.is_file() and format_of(p) is not None)
        if not templates:
            known = ", ".join(s for f in FORMATS for s in f.suffixes)
            raise InputError(f"the template folder has no look files ({known})", template)
        template = templates[0]
    elif not Path(template).is_file():
        raise InputError("no such template file", template)
    if args.original is not None and (templates or look_file_kind(Path(template), assume_look=args.look) != "image"):
        # the photo before the template's look: a look file has none (it read "not an image" of the .cube)
        raise InputError("--original is the photo before the template's look: it goes with one template photo, not "
                         + ("a folder" if templates else "a look file"), args.template)
    if args.pick is not None and args.pick > 1 and not templates:
        _check_pick(args.pick, template, args.original, args.look)
    sequence = bool(args.input) and is_sequence(args.input)  # a folder of images or f_%04d.png
    if args.input and not sequence and not Path(args.input).is_file():
        raise InputError("no such input file", args.input)
    if args.record:
        check_output_path(args.record, (args.input, args.template, args.original))
    if args.preview:
        from ..live.window import display_problem

        if problem := display_problem():
            raise InputError(f"--preview needs a display: {problem}; use --record OUT.mp4 or --vcam instead")
    if args.synthetic:
        source = SyntheticSource(size, fps=args.fps)
    elif sequence:
        source = ImageSequenceSource(args.input, fps=args.fps, loop=args.loop, size=args.frame_size,
                                     allow_large=args.allow_large)
        size = source.size
    elif args.input:
        if Path(args.input).suffix.lower() in READABLE_IMAGE_EXTS:  # a still GIF, a JPEG 2000 too
            source = ImageSource(args.input, fps=args.fps, size=args.frame_size, allow_large=args.allow_large)
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
            if isinstance(source, VideoFileSource):
                say_what_a_recording_loses(source.info, args.record)
                if args.loop and audio_codecs(args.input):  # it was left out without a word
                    logging.getLogger("livefilter").warning(
                        "%s: its sound is not recorded with --loop (it would run out of step with the looped "
                        "picture); without --loop it is", args.input)
            sinks.append(VideoFileSink(args.record, fps=source.fps, inputs=(args.input, args.template,
                                                                            args.original), audio_from=audio,
                                       timing="source" if isinstance(source, (VideoFileSource, ImageSequenceSource))
                                       else "clock", sar=getattr(source, "sar", None), time_base=source.time_base))
        if args.vcam:
            sinks.append(VirtualCameraSink(size, fps=source.fps))
        pipeline = LivePipeline(source, sinks, backend=args.backend, strength=args.strength,
                                face_protect=not args.no_face_protect, scene=not args.no_scene)
        pipeline.allow_large = args.allow_large
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
    # the signals stay handled while the recording is finished and the run is summed up: the stopping signal coming
    # again (timeout -s INT sends it twice) cut the finalisation, or killed the process after it with the summary
    with stop_on_signals(pipeline):
        with pipeline:
            if args.preview:
                from ..live.window import PreviewWindow

                window = PreviewWindow(pipeline, templates)
                pipeline.add_callback(window)
            outputs = [*(["preview"] if args.preview else []), *(s.name for s in sinks)]
            print(f"livefilter live: {source.name} -> {', '.join(outputs)} "
                  f"[{pipeline.backend.name}] look: {pipeline.look_name}"
                  + (f" ({pipeline.look_character})" if pipeline.look_character else "") + "  (Ctrl+C to stop)",
                  flush=True)
            try:
                stats = pipeline.run(max_frames=args.frames, duration=args.duration)
            except KeyboardInterrupt:
                stats = pipeline.stats.summary()
                print("stopped")
            finally:
                skipped = pipeline.dropped_frames  # now: the capture goes on until close
                if window is not None:
                    window.close()
        return _summary(pipeline, window, sinks, stats, skipped, source)


def _summary(pipeline, window, sinks, stats: dict, skipped: int, source) -> int:
    """What a finished live run says (why it stopped, the recordings written, its frames); its exit code."""
    from ..batch.jobs import count
    from ..live.sinks import VideoFileSink
    from ..live.sources import ImageSequenceSource, VideoFileSource

    if pipeline.stopped_by_signal:
        print(f"stopped ({pipeline.stopped_by_signal})")
    elif window is not None and window.closed:
        print("stopped (the preview window was closed)")
    for s in sinks:
        if isinstance(s, VideoFileSink) and s.written:
            print(f"wrote {s.path} ({count(s.frames, 'frame')})")
    rate = f", {stats['fps']:.1f} fps" if stats["frames"] > 1 else ""  # one frame has no rate ("0.0 fps")
    print(f"{count(stats['frames'], 'frame')}{rate}")
    if skipped and isinstance(source, (VideoFileSource, ImageSequenceSource)):  # a file's frames: said, not silent
        print(f"{count(skipped, 'frame')} of {source.name} skipped: live keeps the file's pace and grades the latest "
              "frame (livefilter apply grades every frame)")
    sys.stdout.flush()  # the summary out before the process ends (a late signal then kills it with its buffer)
    # an --input file cut short (its source logged where): a failure, as for apply, though what was read is kept
    return EXIT_FAIL if getattr(source, "problem", None) else EXIT_OK
