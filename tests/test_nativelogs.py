"""The native-log filter (livefilter.nativelogs): blocks nest across threads, fd 2 always comes back, a program's
own lines pass."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from livefilter import nativelogs

from .conftest import ROOT


def test_blocks_ending_and_starting_in_two_threads_leave_stderr_as_it_was(monkeypatch, capfd):
    # a block ending in one thread while another thread's began: the second copied the first's pipe as "the real
    # stderr", which was then put back on fd 2 for good (and the second block went unfiltered)
    real = nativelogs._filter_stderr

    def slow():  # the ending thread held up after fd 2 is restored, before its pump has passed everything on
        restore, ended, saved = real()
        return restore, lambda: (time.sleep(0.02), ended()), saved

    monkeypatch.setattr(nativelogs, "_filter_stderr", slow)
    before = os.fstat(2)

    def first():
        with nativelogs.quiet_native_logs():
            time.sleep(0.01)

    def second():
        time.sleep(0.015)
        with nativelogs.quiet_native_logs():
            time.sleep(0.03)
            os.write(2, b"INFO: [model.cc:1] a native line\n")

    for _ in range(5):
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    after = os.fstat(2)
    assert (after.st_ino, after.st_dev) == (before.st_ino, before.st_dev)
    assert nativelogs._depth == 0 and nativelogs._filter is None
    os.write(2, b"a line after the blocks\n")
    err = capfd.readouterr().err
    assert "a native line" not in err and "a line after the blocks" in err


def test_shown_native_logs_pass_and_the_cli_hides_them_again_after_v(tmp_path, capfd):
    from livefilter.cli import main
    from livefilter.luts import write_lut
    from livefilter.luts.lut import Lut, identity_table

    nativelogs.show_native_logs(True)
    try:
        with nativelogs.quiet_native_logs():
            os.write(2, b"INFO: [model.cc:1] shown\n")
    finally:
        nativelogs.show_native_logs(False)
    # a program calling the command line with -v: native lines shown for that run, hidden again after it
    write_lut(tmp_path / "id.cube", Lut(identity_table(2)))
    assert main(["info", "-v", str(tmp_path / "id.cube")]) == 0
    assert main(["-v", "info", str(tmp_path / "id.cube")]) == 0  # before the command too ("unrecognized arguments")
    with nativelogs.quiet_native_logs():
        os.write(2, b"INFO: [model.cc:1] hidden\n")
        os.write(2, b"INFO: a program's own line\n")
    err = capfd.readouterr().err
    assert "shown" in err and "hidden" not in err and "INFO: a program's own line" in err


def test_a_crash_inside_a_filtered_block_still_reports(tmp_path):
    # the pump was a thread: a segfault inside a block (a native model's, the command line's whole run) took it and
    # everything in the pipe with it: no faulthandler report, not even the lines printed just before
    script = """
import ctypes, faulthandler, os, sys
from livefilter.nativelogs import quiet_native_logs
faulthandler.enable()
with quiet_native_logs():
    os.write(2, b"INFO: [model.cc:12] a native line\\n")
    print("the line before the crash", file=sys.stderr, flush=True)
    ctypes.string_at(0)
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode != 0
    assert "the line before the crash" in r.stderr and "Segmentation fault" in r.stderr, r.stderr
    assert 'File "<string>", line 8' in r.stderr and "a native line" not in r.stderr, r.stderr


def test_a_block_ends_without_waiting_for_a_process_that_inherited_the_pipe(capfd):
    # multiprocessing's resource tracker (every folder `apply`), a Ray worker or any child started inside a block
    # keeps the pipe as its stderr: the block's end waited for the pipe to close, 2 s, on every such run
    with nativelogs.quiet_native_logs():
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(10)"])
        os.write(2, b"mine, before the end\n")
        t = time.monotonic()
    took = time.monotonic() - t
    os.write(2, b"mine, after the end\n")
    child.kill()
    child.wait()
    err = capfd.readouterr().err
    assert took < 1.5 and err.index("before the end") < err.index("after the end"), (took, err)


def test_a_terminal_stays_a_terminal_and_a_closed_stderr_is_no_error(tmp_path):
    # the progress bar asked sys.stderr.isatty() (the pipe: never a terminal) and its carriage-return redraws waited
    # for a line end; with stderr closed (2>&-) the filter failed on sys.stderr being None
    import pty
    import select

    script = """
import os, sys
from livefilter.nativelogs import quiet_native_logs, stderr_isatty
with quiet_native_logs():
    os.write(2, b"\\rdrawn " + str(stderr_isatty()).encode())
    sys.stdin.readline()  # held until the test has read the redraw
"""
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    got = b""
    deadline = time.monotonic() + 30
    while b"drawn True" not in got and time.monotonic() < deadline:
        if select.select([master], [], [], 1)[0]:
            got += os.read(master, 1024)
    proc.communicate(b"\n", timeout=30)
    os.close(master)
    assert b"\rdrawn True" in got, got
    closed = subprocess.run(f"{sys.executable} -c \"from livefilter.nativelogs import quiet_native_logs\n"
                            f"with quiet_native_logs(): print('ok')\" 2>&-", shell=True, capture_output=True,
                            text=True, env=env, timeout=60)
    assert closed.returncode == 0 and closed.stdout == "ok\n", closed


def test_the_pump_drops_native_lines_acknowledges_the_mark_and_passes_redraws_at_once():
    from livefilter._stderr_pump import pump

    chunks = iter([b"another writer's unfinished ", nativelogs._MARK, b"line\nINFO: [model.cc:1] native\n",
                   b"\rbar 10%", b"\rbar 20%", b"\n", b"a last line without its end"])
    out, acks = [], []
    pump(lambda: next(chunks, b""), out.append, lambda: acks.append(1), nativelogs.NATIVE_LOG_LINE, nativelogs._MARK)
    assert acks == [1]
    assert out == [b"another writer's unfinished ", b"line\n", b"\rbar 10%", b"\rbar 20%", b"\n",
                   b"a last line without its end"]


def test_the_pump_drops_libpng_s_lines_and_the_empty_line_that_ends_an_opencv_error():
    # a damaged HaldCLUT printed "libpng error: Read Error" before livefilter's own line; a damaged TIFF, OpenCV's
    # error lines and then an empty one
    from livefilter._stderr_pump import pump

    chunks = iter([b"libpng error: Read Error\n", b"libpng warning: tEXt: CRC error\n",
                   b"[ERROR:0@0.013] global loadsave.cpp:621 imread_ imread_('x.tif'): can't read data\n", b"\n",
                   b"livefilter: error: x.tif: a damaged image\n", b"\n", b"kept\n"])
    out = []
    pump(lambda: next(chunks, b""), out.append, lambda: None, nativelogs.NATIVE_LOG_LINE, nativelogs._MARK)
    assert out == [b"livefilter: error: x.tif: a damaged image\n", b"\n", b"kept\n"]  # a program's empty line stays
