"""livefilter: learn a photo look from one example image and apply it live.

    import livefilter as lf
    look = lf.fit_look("after.jpg", original="before.jpg")
    graded = lf.render(frame, look, degree=None, strength=1.0)
    look.save("look.cube")
    s = lf.scene_similarity("after.jpg", frame)  # 0..1: how much of the look a frame of another scene gets
"""

__version__ = "0.1.0"

from .analysis.scene import scene_similarity  # noqa: E402
from .errors import (  # noqa: E402
    ImageReadError,
    InputError,
    LiveFilterError,
    LutFormatError,
    ModelError,
    OutputError,
)
from .imageio import read_image, write_image  # noqa: E402
from .look import Look, fit_look, load_look  # noqa: E402
from .look.mapping import QuarticMapping, ResidualMapping, fit_mapping  # noqa: E402
from .lut import Lut, identity_table  # noqa: E402
from .luts import read_lut, write_lut  # noqa: E402
from .render import render  # noqa: E402

__all__ = [
    "__version__", "Look", "Lut", "fit_look", "load_look", "render", "read_lut", "write_lut", "read_image",
    "write_image", "identity_table", "fit_mapping", "QuarticMapping", "ResidualMapping", "LiveFilterError",
    "InputError", "ImageReadError", "LutFormatError", "OutputError", "ModelError", "scene_similarity",
]
