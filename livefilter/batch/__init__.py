"""Files at rest: images, videos (PyAV), folders, and the Ray runner."""

from .video import VideoDecodeError, VideoError, VideoResult, apply_video, probe  # noqa: F401
