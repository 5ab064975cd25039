"""The ``livefilter`` command line: fit, apply, info, live, demo, bench-live; one module per command, the options in
:mod:`.parser`.

Exit codes (:mod:`.exits`): 0 ok, 1 failure (an unexpected error), 2 bad usage or bad input (one line on stderr, no
traceback). Set LIVEFILTER_DEBUG=1 to see tracebacks.

A command's module imports at its top only what ``import livefilter`` has loaded already; batch/, live/ and the rest
are imported where they are used, so ``livefilter --help`` starts no slower for them.
"""

from __future__ import annotations

import os
import sys
import warnings

from .._startup import interrupted, started
from ..errors import LiveFilterError, StreamError, VideoDecodeError
from .apply import cmd_apply
from .bench import cmd_bench_live
from .demo import cmd_demo
from .exits import EXIT_BAD_INPUT, EXIT_FAIL, signal_exit
from .fit import cmd_fit
from .info import cmd_info
from .live import cmd_live
from .logs import log_to_stderr, quiet_native_logs, show_native_logs, show_warning
from .parser import OptionValueError, build_parser
from .signals import Stopped, interrupt_on_signals

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = {"fit": cmd_fit, "apply": cmd_apply, "info": cmd_info, "live": cmd_live, "demo": cmd_demo,
            "bench-live": cmd_bench_live}


def main(argv=None) -> int:
    parser = build_parser()
    # usage errors raise SystemExit(2) after one line (_Parser.error); --help and --version SystemExit(0)
    try:
        args = parser.parse_args(None if argv is None else [str(a) for a in argv])
    except OptionValueError as exc:
        print(f"livefilter: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    args.verbose = args.verbose or args.verbose_first
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = show_warning
        verbose = args.verbose or bool(os.environ.get("LIVEFILTER_DEBUG"))
        show_native_logs(verbose)
        try:
            with quiet_native_logs():
                return _run(args)
        finally:
            show_native_logs(False)  # a program calling main(["... -v"]) is quiet again after it


def _run(args) -> int:
    debug = os.environ.get("LIVEFILTER_DEBUG")
    if args.command in ("apply", "live", "demo", "bench-live", "fit"):  # fit: a video template's lines
        log_to_stderr(debug=bool(debug), verbose=args.verbose or bool(debug))
    try:
        with interrupt_on_signals():
            started()  # Ctrl+C is handled below from here; before, by the start-up hook (_startup.py)
            return COMMANDS[args.command](args)
    except LiveFilterError as exc:
        if debug:
            raise
        print(f"livefilter: error: {exc}", file=sys.stderr)
        # corrupt data part-way through a video, a source failing part-way through a live run: failures (frames
        # were graded), not a refused input
        return EXIT_FAIL if isinstance(exc, (VideoDecodeError, StreamError)) else EXIT_BAD_INPUT
    except Stopped as exc:
        print(f"livefilter: stopped ({exc.signal})", file=sys.stderr)
        return signal_exit(exc.signal)
    except KeyboardInterrupt:
        print("livefilter: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`livefilter info x | head`): quiet, as other tools are
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error when stdout is flushed
        return EXIT_FAIL
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence: one line, exit 1
        if debug:
            raise
        if (cause := interrupted(exc)) is not None:  # a signal in a module's import: "ImportError: initialization"
            print(f"livefilter: {f'stopped ({cause.signal})' if isinstance(cause, Stopped) else 'interrupted'}",
                  file=sys.stderr)
            return signal_exit(getattr(cause, "signal", None))
        print(f"livefilter: failed: {type(exc).__name__}: {exc} (LIVEFILTER_DEBUG=1 shows the traceback)",
              file=sys.stderr)
        return EXIT_FAIL
