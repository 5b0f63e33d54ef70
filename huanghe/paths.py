"""Where things are on disk: the project root, the shared public traces, the per-user data directory."""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_DIR.parent


def traces_dir() -> Path:
    """Directory of the public traces: ``$HUANGHE_TRACES_DIR``, else ``<project>/../shared/data/traces``."""
    env = os.environ.get("HUANGHE_TRACES_DIR")
    if env:
        return Path(env)
    return PROJECT_ROOT.parent / "shared" / "data" / "traces"


def data_dir() -> Path:
    """Per-user data directory: ``$HUANGHE_DATA_DIR``, else ``$XDG_DATA_HOME/huanghe`` (~/.local/share)."""
    env = os.environ.get("HUANGHE_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "huanghe"
