"""The explicit list of CLI command modules and the top-level commands each one adds or extends.

Each module (a domain's ``cli.py`` by its dotted name, or ``huanghe.cli.<name>`` by its short name) provides ``register(app: typer.Typer) -> None``. The table lets the
``huanghe`` entry point import only the modules a command needs (process start is part of every command's
latency); ``tests/test_cli_registry.py`` checks the table against what the modules really register.
Order matters where modules extend a group another module creates (``bench``, ``topology``). The table is a
:class:`~huanghe.core.registry.Registry` (the one registry type): a module listed twice is an error.
"""

from __future__ import annotations

import importlib

import typer

from huanghe.core.registry import Registry, UnknownNameError


class UnknownCliModuleError(UnknownNameError):
    """A command module that is not in :data:`MODULES`."""


#: module name → top-level command or group names it creates or extends (a module listed twice is an error)
MODULES: Registry[tuple[str, ...]] = Registry(
    "CLI module",
    [
        ("bench_cmd", ("bench",)),
        ("broker_bench_cmd", ("bench",)),
        ("sim_cmd", ("simulate", "bench")),
        ("packing_cmd", ("bench",)),
        ("huanghe.network.topology_cli", ("topology",)),
        ("huanghe.network.cli", ("centers", "pools")),
        ("huanghe.network.secrets_cli", ("secrets",)),
        ("huanghe.network.offerings_cli", ("offerings",)),
        (
            "huanghe.regulator.cli",
            ("targets", "green-list", "maturity", "network-capacity", "index", "report"),
        ),
        ("server_cmd", ("up", "topology")),
        ("workload_cmd", ("workload",)),
        ("sweep_cmd", ("sweep",)),
        ("huanghe.jobs.cli", ("submit", "jobs")),
        ("huanghe.tenancy.cli", ("admin",)),
        ("huanghe.audit.cli", ("audit",)),
        ("huanghe.billing.cli", ("vouchers", "billing", "quotas")),
        ("huanghe.billing.programme_cli", ("vouchers",)),
        ("huanghe.regulator.projects_cli", ("projects",)),
        ("huanghe.regulator.risk_cli", ("risk",)),
        ("huanghe.regulator.empowerment_cli", ("empowerment", "industry-map")),
        ("huanghe.data.cli", ("protection", "data")),
        ("huanghe.data.transfer_cli", ("data",)),
        ("huanghe.data.files_cli", ("data",)),
        ("huanghe.data.rules_cli", ("data",)),
        ("huanghe.data.endpoints_cli", ("data",)),
        ("huanghe.telemetry.cli", ("telemetry",)),
        ("huanghe.telemetry.alerts_cli", ("alerts",)),
    ],
    unknown_error=UnknownCliModuleError,
)


#: commands of the bare app (:func:`huanghe.cli.base.new_app`) that need no module
BUILTIN = frozenset({"version"})


def modules_for(command: str | None) -> list[str]:
    """Modules needed for ``command``; all modules when it is None or not a known top-level name."""
    if command in BUILTIN:
        return []
    needed = [m for m, names in MODULES.items() if command in names]
    return needed or list(MODULES)


def register(app: typer.Typer, modules: list[str]) -> None:
    """Import each module and let it add its commands to ``app``."""
    for name in modules:
        importlib.import_module(name if "." in name else f"huanghe.cli.{name}").register(app)
