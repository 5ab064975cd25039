"""Safe file writing: every output is written under a temporary name and renamed when complete."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .errors import OutputError
from .resources import MODELS_DIR  # noqa: F401 - kept as an alias for code that imported it from here

_UMASK = os.umask(0)
os.umask(_UMASK)


def check_output_path(path: str | os.PathLike, inputs: tuple = ()) -> Path:
    """Return ``path`` as a Path after checking its folder exists and is writable and it is not an input."""
    p = Path(path)
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise OutputError("output folder does not exist", folder)
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError("output folder is not writable", folder)
    if p.is_dir():
        raise OutputError("output path is a folder", p)
    for src in inputs:
        if src is None:
            continue
        try:
            same = p.resolve() == Path(src).resolve()
        except OSError:
            same = False
        if same:
            raise OutputError("output path is the same as an input; choose another name", p)
    return p


@contextlib.contextmanager
def atomic_output(path: str | os.PathLike, inputs: tuple = ()):
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block completes.

    The temporary name keeps the extension so writers that pick a format from it still work.
    A failure to write (a full disk, a quota, a read-only or vanished folder: any OSError in the block or the
    rename) becomes an :class:`OutputError` naming ``path``, so the command line says which file could not be
    written (exit 2) instead of a bare ``OSError: [Errno 28]``. The block only writes: inputs are read before it.
    """
    p = check_output_path(path, inputs)
    suffix = "".join(p.suffixes[-2:]) or ".tmp"
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.stem}.", suffix=suffix, dir=p.parent if str(p.parent) else ".")
    except OSError as exc:
        raise _write_error(exc, p) from exc
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; outputs get the usual permissions
    try:
        yield Path(tmp)
        os.replace(tmp, p)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, OutputError):
            raise _write_error(exc, p) from exc
        raise


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
