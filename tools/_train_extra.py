"""What the tools that train or export networks need beyond the base install (the `train` extra): a missing module
is one line naming the extra (it was a ModuleNotFoundError traceback, even for --help)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def require(*modules: str) -> None:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise SystemExit(f"{Path(sys.argv[0]).name}: needs the train extra ({', '.join(missing)} not installed): "
                         "pip install -e '.[train]'")
