"""The lazy CLI entry point's table matches what the command modules really register."""

from __future__ import annotations

import subprocess
import sys

import typer
from typer.testing import CliRunner

from huanghe.cli import registry
from huanghe.cli.base import new_app
from huanghe.cli.entry import first_command
from huanghe.cli.main import app


def _top_level_names(t: typer.Typer) -> set[str]:
    names = {c.name or (c.callback.__name__ if c.callback else "") for c in t.registered_commands}
    return names | {g.name or "" for g in t.registered_groups}


def test_every_module_declares_the_names_it_creates() -> None:
    for module in registry.MODULES:
        fresh = new_app()
        registry.register(fresh, [module])
        created = _top_level_names(fresh) - {"version", "main"}
        assert created <= set(registry.MODULES[module]), (module, created)


def test_every_top_level_name_is_in_the_table() -> None:
    declared = {n for names in registry.MODULES.values() for n in names}
    assert _top_level_names(app) - {"version", "main"} == declared


def test_lazy_subsets_give_the_same_subcommands_as_the_full_app() -> None:
    full = typer.main.get_group(app)
    for name in sorted({n for names in registry.MODULES.values() for n in names}):
        lazy = new_app()
        registry.register(lazy, registry.modules_for(name))
        group = typer.main.get_group(lazy)
        want, got = full.commands[name], group.commands[name]
        if hasattr(want, "commands"):
            assert sorted(got.commands) == sorted(want.commands), name  # type: ignore[attr-defined]


def test_first_command_skips_options() -> None:
    assert first_command(["--help"]) is None
    assert first_command(["simulate", "--trace", "x"]) == "simulate"
    assert registry.modules_for(None) == list(registry.MODULES)
    assert registry.modules_for("version") == []
    assert registry.modules_for("bench")[0] == "bench_cmd"
    assert registry.modules_for("no-such-command") == list(registry.MODULES)


def test_entry_point_runs_a_command_and_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "huanghe", "version"], capture_output=True, text=True, timeout=60, check=True
    )
    assert out.stdout.startswith("huanghe ")
    help_out = CliRunner().invoke(app, ["--help"])
    assert help_out.exit_code == 0 and "simulate" in help_out.output
