"""`huanghe simulate --network FILE --workload W.csv`: JSON shape, plots, records, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from huanghe.cli.main import app
from tests.broker_toy import TOY
from tests.test_netsim_sim import random_rows, write_csv

runner = CliRunner()
KEYS = {"mean_jct_s", "p95_jct_s", "mean_wait_s", "mean_bsld", "utilisation", "cost_cny", "carbon_kg",
        "violations", "jobs", "jobs_per_center"}  # fmt: skip


def files(tmp_path: Path) -> tuple[Path, Path]:
    net = tmp_path / "toy.json"
    net.write_text(json.dumps(TOY), encoding="utf-8")
    return net, write_csv(tmp_path / "w.csv", random_rows(40, 2))


def test_json_shape_per_policy(tmp_path: Path) -> None:
    net, wl = files(tmp_path)
    res = runner.invoke(
        app,
        ["simulate", "--network", str(net), "--workload", str(wl), "--json", "-", "--plot", str(tmp_path / "p"),
         "--records", str(tmp_path / "r")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert list(out["policies"]) == [
        "huanghe",
        "first-admit",
        "earliest-start",
        "earliest-completion",
        "cheapest",
        "spread",
    ]
    for summary in out["policies"].values():
        assert set(summary) >= KEYS
        assert set(summary["violations"]) == {"residency", "latency", "deadline"}
        assert summary["jobs"] == 40  # 41 rows, the 1000-core job is infeasible
        assert summary["unfinished"]["infeasible"] == 1
    for name in ("placements_map.png", "center_load.png", "carbon_per_hour.png"):
        assert (tmp_path / "p" / name).stat().st_size > 1000
    lines = (tmp_path / "r" / "huanghe.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 41
    first = json.loads(lines[0])
    assert first["explanation"]["policy"] == "huanghe" and "violations" in first


def test_policy_subset_and_errors(tmp_path: Path) -> None:
    net, wl = files(tmp_path)
    ok = runner.invoke(
        app, ["simulate", "--network", str(net), "--workload", str(wl), "--policy", "cheapest"]
    )
    assert ok.exit_code == 0 and "cheapest" in ok.stdout and "huanghe" not in ok.stdout
    bad = runner.invoke(app, ["simulate", "--network", str(net), "--workload", str(wl), "--policy", "nope"])
    assert bad.exit_code == 2 and "nope" in bad.output
    missing = runner.invoke(app, ["simulate", "--network", str(net), "--workload", str(tmp_path / "x.csv")])
    assert missing.exit_code == 2 and "--workload" in missing.output
    no_wl = runner.invoke(app, ["simulate", "--network", str(net)])
    assert no_wl.exit_code == 2 and "--workload" in no_wl.output
