"""`huanghe bench scheduler`: JSON shape and sane numbers on a small generated network."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from huanghe.cli.main import app
from huanghe.sim.broker_scale import busy_snapshot, network_with_pools, synthetic_queue, time_cycle

runner = CliRunner()


def test_json_shape() -> None:
    args = ["bench", "scheduler", "--pools", "30", "--jobs", "3000", "--cycles", "2", "--cycle-jobs", "500"]
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["pools"] >= 30 and out["jobs"] == 3000
    assert out["cycle_s"] > 0 and out["decisions_per_s"] > 0
    assert 0 < out["placed"] <= 3000 and out["classes"] <= 1280
    table = runner.invoke(app, args)
    assert table.exit_code == 0 and "decisions/s" in table.stdout


def test_bad_policy_is_refused() -> None:
    res = runner.invoke(app, ["bench", "scheduler", "--pools", "5", "--jobs", "10", "--policy", "x"])
    assert res.exit_code == 2 and "--policy" in res.output


def test_generated_network_and_queue() -> None:
    topo = network_with_pools(50, 3, centers=20)
    assert len(topo.centers) == 20
    snap = busy_snapshot(topo, 3)
    assert (snap.nodes_free <= snap.nodes_total).all()
    batch, ctx = synthetic_queue(snap, 2000, 4)
    t = time_cycle(snap, batch, ctx)
    assert t.jobs == 2000 and t.placed > 0 and t.cycle_s > 0
