"""The `huanghe` command: one Typer app; each face registers its commands from its own module."""

from __future__ import annotations

import typer

from huanghe import __version__

app = typer.Typer(
    name="huanghe",
    help="Huanghe (黄河): one platform for a province-wide compute network.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main() -> None:
    """Huanghe (黄河): one platform for a province-wide compute network."""


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(f"huanghe {__version__}")


def _register() -> None:
    """Add the command groups. Each module exposes ``register(app)``."""
    from huanghe.cli import registry

    for register in registry.REGISTRARS:
        register(app)


_register()
