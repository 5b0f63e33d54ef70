"""The explicit list of CLI command modules. Each provides ``register(app: typer.Typer) -> None``.

Add one import and one list entry per module; a module registers its own commands and groups.
"""

from __future__ import annotations

from collections.abc import Callable

import typer

from huanghe.cli import (
    alerts_cmd,
    bench_cmd,
    broker_bench_cmd,
    catalog_cmd,
    jobs_cmd,
    observatory_cmd,
    packing_cmd,
    server_cmd,
    sim_cmd,
    telemetry_cmd,
    tenancy_cmd,
    topology_cmd,
    workload_cmd,
)

REGISTRARS: list[Callable[[typer.Typer], None]] = [
    bench_cmd.register,
    broker_bench_cmd.register,
    sim_cmd.register,
    topology_cmd.register,
    catalog_cmd.register,
    observatory_cmd.register,
    server_cmd.register,
    workload_cmd.register,
    packing_cmd.register,
    jobs_cmd.register,
    tenancy_cmd.register,
    telemetry_cmd.register,
    alerts_cmd.register,
]
