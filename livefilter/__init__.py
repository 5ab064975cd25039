"""livefilter: learn a photo look from one example image and apply it live.

    import livefilter as lf
    look = lf.fit_look("after.jpg", original="before.jpg")
    graded = lf.render(frame, look, degree=None, strength=1.0)
    look.save("look.cube")
    lf.apply_video(look, "clip.mp4", "graded.mp4")            # every frame, audio kept, faces protected
    lf.apply_folder(look, ["photos/"], "graded/", recursive=True)  # in a script: under if __name__ == "__main__"
    s = lf.scene_similarity("after.jpg", frame)  # 0..1: how much of the look a frame of another scene gets
"""

from . import _startup  # noqa: F401 - first, before the heavy imports: a Ctrl+C among them is one line (CLI only)
from ._version import __version__
from .analysis.scene import scene_similarity
from .errors import (
    BackendError,
    CudaError,
    ImageReadError,
    InputError,
    LiveFilterError,
    LutFormatError,
    ModelError,
    OutputError,
    SinkError,
    SourceError,
    StreamError,
    VideoDecodeError,
    VideoError,
)
from .imageio import read_image, write_image
from .look import Look, fit_look, load_look
from .look.mapping import QuarticMapping, ResidualMapping, fit_mapping
from .look.readings import Reading
from .look.settings import FitSettings
from .luts import read_lut, write_lut
from .luts.lut import Lut, identity_table
from .render import render


def apply_video(look, src, dst, *, face_protect: bool = True, strength: float = 1.0, progress=None, **kwargs):
    """Grade a video file: see :func:`livefilter.batch.video.apply_video` (crf, preset, keep_partial, stop...)."""
    from .batch.video import apply_video as _apply_video

    return _apply_video(look, src, dst, face_protect=face_protect, strength=strength, progress=progress, **kwargs)


def apply_folder(look, inputs, out_dir, **kwargs):
    """Grade images and videos into a folder: see :func:`livefilter.batch.folders.apply_folder`."""
    from .batch.folders import apply_folder as _apply_folder

    return _apply_folder(look, inputs, out_dir, **kwargs)



def __getattr__(name):  # LivePipeline on first use: the live package (threads, devices) is not imported eagerly
    if name == "LivePipeline":
        from .live.pipeline import LivePipeline

        return LivePipeline
    raise AttributeError(f"module 'livefilter' has no attribute {name!r}")


def __dir__():  # the lazy LivePipeline too (dir() and tab completion missed it)
    return sorted({*globals(), "LivePipeline"})


__all__ = [
    "__version__", "Look", "Reading", "FitSettings", "LivePipeline", "Lut", "fit_look", "load_look", "render",
    "apply_video", "apply_folder", "read_lut", "write_lut", "read_image",
    "write_image", "identity_table", "fit_mapping", "QuarticMapping", "ResidualMapping", "LiveFilterError",
    "InputError", "ImageReadError", "LutFormatError", "OutputError", "ModelError", "BackendError", "CudaError",
    "SourceError", "StreamError", "SinkError", "VideoError", "VideoDecodeError", "scene_similarity",
]
