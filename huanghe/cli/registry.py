"""The explicit list of CLI command modules. Each provides ``register(app: typer.Typer) -> None``."""

from __future__ import annotations

from collections.abc import Callable

import typer

REGISTRARS: list[Callable[[typer.Typer], None]] = []
