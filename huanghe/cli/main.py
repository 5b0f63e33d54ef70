"""The `huanghe` command.

``app`` is the full Typer app with every command (for tests and ``python -m``); :func:`entry` is the
console script: it imports only the modules the invoked command needs, which keeps start-up short.
"""

from __future__ import annotations

from huanghe.cli import registry
from huanghe.cli.base import new_app

app = new_app()
registry.register(app, list(registry.MODULES))
