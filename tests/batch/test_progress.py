"""The progress bar: drawn on a terminal with a rate and an ETA, silent otherwise."""

import io

from livefilter.batch.progress import ProgressBar


class Tty(io.StringIO):
    def isatty(self):
        return True


def test_bar_on_a_terminal_only():
    quiet = io.StringIO()
    bar = ProgressBar("clip.mp4", stream=quiet)
    for i in range(1, 11):
        bar(i, 10)
    bar.close()
    assert quiet.getvalue() == ""
    tty = Tty()
    bar = ProgressBar("clip.mp4", stream=tty)
    for i in range(1, 11):
        bar(i, 10)
    bar.close()
    text = tty.getvalue()
    assert "clip.mp4" in text and "100.0% 10/10 frames" in text and "ETA 0:00" in text and text.endswith("\n")
