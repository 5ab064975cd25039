"""The native-log filter (livefilter.nativelogs): blocks nest across threads, fd 2 always comes back, a program's
own lines pass."""

from __future__ import annotations

import os
import threading
import time

from livefilter import nativelogs


def test_blocks_ending_and_starting_in_two_threads_leave_stderr_as_it_was(monkeypatch, capfd):
    # a block ending in one thread while another thread's began: the second copied the first's pipe as "the real
    # stderr", which was then put back on fd 2 for good (and the second block went unfiltered)
    real = nativelogs._filter_stderr

    def slow():  # the ending thread held up after fd 2 is restored, before its reader is joined
        restore, ended = real()
        return restore, lambda: (time.sleep(0.02), ended())

    monkeypatch.setattr(nativelogs, "_filter_stderr", slow)
    before = os.fstat(2)
    # readers left by other tests (a process they started inherited the pipe as its stderr) are not this test's
    others = {t for t in threading.enumerate() if t.name == "lf-stderr"}

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
    time.sleep(0.05)
    assert not [t for t in threading.enumerate() if t.name == "lf-stderr" and t not in others]
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
    with nativelogs.quiet_native_logs():
        os.write(2, b"INFO: [model.cc:1] hidden\n")
        os.write(2, b"INFO: a program's own line\n")
    err = capfd.readouterr().err
    assert "shown" in err and "hidden" not in err and "INFO: a program's own line" in err
