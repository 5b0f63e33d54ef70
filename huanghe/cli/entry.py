"""The ``huanghe`` console script: a lazy front for :mod:`huanghe.cli.main`.

It registers only the command modules the invoked top-level command needs (see
:data:`huanghe.cli.registry.MODULES`); ``huanghe --help`` and unknown names load everything.
"""

from __future__ import annotations

import sys

from huanghe.cli import registry
from huanghe.cli.base import new_app


def first_command(argv: list[str]) -> str | None:
    """The first argument that is not an option: the top-level command name, if any."""
    for arg in argv:
        if not arg.startswith("-"):
            return arg
    return None


def main() -> None:
    app = new_app()
    registry.register(app, registry.modules_for(first_command(sys.argv[1:])))
    app()


if __name__ == "__main__":
    main()
