"""The bare `huanghe` Typer app (version command only); command modules are added by the registry."""

from __future__ import annotations

import typer

from huanghe import __version__


def new_app() -> typer.Typer:
    """A fresh top-level app with the global callback and ``version``; no command groups yet."""
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

    return app
