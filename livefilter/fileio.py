"""Safe file writing: every output is written under a temporary name and renamed when complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from pathlib import Path

from .errors import OutputError
from .resources import MODELS_DIR  # noqa: F401 - kept as an alias for code that imported it from here

_umask_lock = threading.Lock()


def current_umask() -> int:
    """The process's umask, read without changing it where the system says it (Linux: /proc/self/status);
    elsewhere set and put back at once under a lock (never at import: another thread's files would be created
    with umask 0 meanwhile)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _umask_lock:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def chmod_as_created(path: str | os.PathLike) -> None:
    """Give a file made by mkstemp (0600) the permissions a plain open() would have given it (0666 & ~umask)."""
    os.chmod(path, 0o666 & ~current_umask())


def is_folder(path: Path) -> bool:
    """``path.is_dir()`` for an output path; a name the system refuses (over 255 bytes: "File name too long") is an
    :class:`OutputError` naming it (it escaped as an unexpected OSError)."""
    try:
        return path.is_dir()
    except OSError as exc:
        raise _write_error(exc, path) from None


def check_output_folder(folder: Path) -> Path:
    """The folder outputs go into: it must exist, be a folder and be writable (one line naming it otherwise)."""
    if not is_folder(folder):
        raise OutputError("is a file, not a folder" if folder.exists() else "output folder does not exist", folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError("output folder is not writable", folder)
    return folder


def check_output_path(path: str | os.PathLike, inputs: tuple = ()) -> Path:
    """Return ``path`` as a Path after checking its folder exists and is writable and it is not an input."""
    if str(path).endswith(("/", os.sep)):  # Path() drops the slash: "out.cube/" would be written as a file
        raise OutputError("output path ends with a slash (a folder); give a file name", path)
    p = Path(path)
    check_output_folder(p.parent if str(p.parent) else Path("."))
    if is_folder(p):
        raise OutputError("output path is a folder", p)
    if any(same_path(p, src) for src in inputs if src is not None):
        raise OutputError("output path is the same as an input; choose another name", p)
    return p


def same_path(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether two paths name one file (links and relative parts resolved; False where that cannot be told)."""
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def check_distinct_outputs(outputs: dict) -> None:
    """Refuse one file given for two outputs of a command (``outputs``: option -> path or None): the second would
    overwrite the first."""
    seen = {}
    for option, path in outputs.items():
        if path is None:
            continue
        try:
            key = Path(path).resolve()
        except OSError:
            key = Path(path).absolute()
        if key in seen:
            raise OutputError(f"given for both {seen[key]} and {option}; choose another name for one", path)
        seen[key] = option


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, inputs: tuple = ()):
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block completes.

    The temporary name keeps the extension so writers that pick a format from it still work.
    A failure to write (a full disk, a quota, a read-only or vanished folder: any OSError in the block or the
    rename) becomes an :class:`OutputError` naming ``path``, so the command line says which file could not be
    written (exit 2) instead of a bare ``OSError: [Errno 28]``. The block only writes: inputs are read before it.
    """
    with atomic_outputs([path], inputs) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_outputs(paths, inputs: tuple = ()):
    """:func:`atomic_output` for files that belong together (a look and its per-segment files): every path checked
    before anything is written, a temporary path yielded for each, all renamed once the block completes, none
    replaced when the block fails (a full disk part-way left some new files beside an old main file, a mismatched
    set). A rename failing part-way (rare: the files are written by then) leaves the earlier ones renamed."""
    ps = [check_output_path(p, inputs) for p in paths]
    tmps: list[Path] = []
    at = ps[-1]  # the file a failure names
    try:
        for p in ps:
            at = p
            tmps.append(temp_beside(p, _temp_suffix(p)))
        yield tmps
        for tmp, p in zip(tmps, ps):
            at = p
            os.replace(tmp, p)
    except BaseException as exc:
        for tmp in tmps:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _write_error(exc, at) from exc
        raise


def _temp_suffix(p: Path) -> str:
    """The extension a temporary file beside ``p`` keeps, so writers that pick a format from it still work: a
    double extension (.look.npz) whole; a dot earlier in a name ("St. Ives.jpg") is not an extension."""
    double = len(p.suffixes) > 1 and len(p.suffixes[-2]) <= 8 and " " not in p.suffixes[-2]
    return "".join(p.suffixes[-2:]) if double else p.suffix or ".tmp"


def temp_beside(path: Path, suffix: str) -> Path:
    """A new empty file beside ``path`` (".STEM.XXXXXXXX" + ``suffix``, hidden), with the permissions a plain open()
    gives; a folder it cannot be made in is an :class:`OutputError` naming ``path``."""
    path = Path(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{_fitting_stem(path.stem, suffix)}.", suffix=suffix,
                                   dir=path.parent if str(path.parent) else ".")
    except OSError as exc:
        raise _write_error(exc, path) from exc
    os.close(fd)
    chmod_as_created(tmp)  # mkstemp makes 0600 files; outputs get the usual permissions
    return Path(tmp)


NAME_MAX = 255  # bytes in a file name (Linux, macOS; NTFS counts 255 UTF-16 units: no fewer bytes in practice)


def _fitting_stem(stem: str, suffix: str) -> str:
    """``stem`` cut so that the temporary name (".STEM." + mkstemp's 8 characters + ``suffix``) fits in NAME_MAX
    bytes: an output named near the limit was refused as "File name too long" for its temporary name alone."""
    return stem_within(stem, 2 + 8 + len(os.fsencode(suffix)))


def stem_within(stem: str, rest: int) -> str:
    """``stem`` cut (whole characters) so that it and ``rest`` more bytes fit in a file name (NAME_MAX bytes)."""
    room = max(NAME_MAX - rest, 1)
    while len(os.fsencode(stem)) > room:
        stem = stem[:-1]
    return stem


def _write_error(exc: OSError, path: Path) -> OutputError:
    return OutputError(f"cannot write the file ({exc.strerror or exc})", path)


class Closable:
    """Context-manager boilerplate for things with a ``close()`` that is safe to call twice."""

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
