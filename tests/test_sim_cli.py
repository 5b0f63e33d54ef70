"""`huanghe simulate` and `huanghe bench reproduce rlscheduler` through the Typer app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from huanghe.cli.main import app
from huanghe.paths import traces_dir

runner = CliRunner()
LUBLIN = traces_dir() / "lublin-256-rlscheduler" / "lublin_256.swf.gz"
needs_traces = pytest.mark.skipif(not LUBLIN.exists(), reason="shared traces not available")


@needs_traces
def test_simulate_json_and_plots(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    res = runner.invoke(
        app,
        ["simulate", "--trace", "lublin", "--policy", "fcfs,fcfs-easy", "--jobs", "400",
         "--json", str(out), "--plot", str(tmp_path / "plots"), "--records", str(tmp_path / "rec")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert data["cluster_size"] == 256  # from the header (MaxNodes)
    keys = {
        "mean_bsld",
        "mean_wait_s",
        "p95_wait_s",
        "mean_jct_s",
        "p95_jct_s",
        "utilisation",
        "makespan_s",
        "jobs",
    }
    assert set(data["policies"]) == {"fcfs", "fcfs-easy"}
    for summary in data["policies"].values():
        assert keys <= set(summary) and summary["jobs"] == 400
    assert data["policies"]["fcfs-easy"]["mean_bsld"] <= data["policies"]["fcfs"]["mean_bsld"]
    lines = (tmp_path / "rec" / "fcfs-easy.csv").read_text().splitlines()
    assert lines[0] == "job_id,submit_s,start_s,end_s,wait_s,run_s,pool,nodes" and len(lines) == 401
    pngs = sorted(p.name for p in (tmp_path / "plots").glob("*.png"))
    assert pngs == ["queue_length.png", "utilisation.png", "wait_cdf.png"]


@needs_traces
def test_simulate_json_to_stdout() -> None:
    res = runner.invoke(app, ["simulate", "--trace", str(LUBLIN), "--cluster-size", "128", "--jobs", "200",
                              "--policy", "huanghe", "--json", "-"])  # fmt: skip
    assert res.exit_code == 0, res.output
    body = res.stdout[res.stdout.index("{") :]
    data = json.loads(body)
    rejected = sum(data["rejected"].values())
    assert rejected > 0  # Lublin has jobs wider than 128 cores: counted, not silently dropped
    assert data["policies"]["huanghe"]["jobs"] == 200 - rejected


def test_unknown_policy_is_a_clear_error() -> None:
    res = runner.invoke(app, ["simulate", "--trace", "lublin", "--policy", "fcfs,bogus"])
    assert res.exit_code != 0
    assert "bogus" in res.output and "fcfs-easy" in res.output


def test_missing_trace_is_a_clear_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["simulate", "--trace", str(tmp_path / "none.swf"), "--cluster-size", "8"])
    assert res.exit_code != 0
    assert "no such file" in res.output


def test_malformed_trace_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.swf"
    bad.write_text("; MaxProcs: 8\n1 0 0 10 1 -1 -1 1 10 -1 1 1 1 -1 1 1 -1 -1\n2 0 0 oops\n")
    res = runner.invoke(app, ["simulate", "--trace", str(bad)])
    assert res.exit_code != 0
    assert "bad.swf:3" in res.output.replace("\n", "")  # a long temporary path wraps at 80 columns


@needs_traces
def test_reproduce_json() -> None:
    res = runner.invoke(
        app, ["bench", "reproduce", "rlscheduler", "--trace", "lublin", "--orders", "fcfs", "--json"]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data["trace"] == "lublin" and data["mechanics"] == "rlscheduler"
    rows = {(r["policy"], r["backfill"]): r for r in data["rows"]}
    assert rows[("fcfs", "none")]["bsld"] == pytest.approx(7273.77, rel=1e-4)
    assert rows[("fcfs", "none")]["published_bsld"] == 7273.77
    assert rows[("fcfs", "conservative")]["published_bsld"] is None
    assert rows[("rl", "easy")]["bsld"] is None and rows[("rl", "easy")]["published_bsld"] == 58.64


def test_reproduce_unknown_trace() -> None:
    res = runner.invoke(app, ["bench", "reproduce", "rlscheduler", "--trace", "nope"])
    assert res.exit_code != 0 and "lublin" in res.output


@needs_traces
def test_cluster_smaller_than_every_job_is_an_error() -> None:
    res = runner.invoke(app, ["simulate", "--trace", "hpc2n", "--cluster-size", "1", "--jobs", "3"])
    assert res.exit_code != 0 and "smaller than every job" in res.output
