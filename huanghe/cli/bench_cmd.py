"""`huanghe bench ...`: reproduction of published results and speed benchmarks.

Sub-groups are filled by their own modules: ``reproduce_app`` gets ``rlscheduler`` (queue engine) and
``fgd`` (GPU packing); ``bench_app`` gets ``scheduler`` (broker scale benchmark).
"""

from __future__ import annotations

import typer

bench_app = typer.Typer(help="Benchmarks and reproductions of published results.", no_args_is_help=True)
reproduce_app = typer.Typer(help="Reproduce published numbers on the public traces.", no_args_is_help=True)
bench_app.add_typer(reproduce_app, name="reproduce")


def register(app: typer.Typer) -> None:
    app.add_typer(bench_app, name="bench")
