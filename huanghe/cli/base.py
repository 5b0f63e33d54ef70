"""The bare `huanghe` Typer app (version command only); command modules are added by the registry."""

from __future__ import annotations

import typer

from huanghe import __version__


def new_app() -> typer.Typer:
    """A fresh top-level app with the global callback and ``version``; no command groups yet."""
    app = typer.Typer(
        name="huanghe",
        help="Huanghe (黄河): one platform for a province-wide compute network.",
        epilog="Commands that talk to a server use $HUANGHE_URL and $HUANGHE_TOKEN; centers, pools and the "
        "observatory commands read the server when $HUANGHE_URL is set, else the bundled files. "
        "Exit codes: 0 ok; 1 refused by the server (4xx) or the job did not succeed; 2 usage error; "
        "3 server unreachable or failing (5xx). See docs/client.md.",
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
