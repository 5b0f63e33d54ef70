"""The observatory commands end to end on the small network (JSON shapes, tables, clean errors)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from huanghe.catalog.topology import dump_topology
from huanghe.cli.main import app
from tests.observatory_testnet import small_network

runner = CliRunner()


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("net") / "small.yaml"
    path.write_text(dump_topology(small_network()), encoding="utf-8")
    return str(path)


def _json(*args: str) -> object:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _rows(*args: str) -> list[dict[str, Any]]:
    """The command's JSON output, which must be a list of objects."""
    rows = _json(*args)
    assert isinstance(rows, list) and all(isinstance(r, dict) for r in rows), rows
    return rows


def _doc(*args: str) -> dict[str, Any]:
    """The command's JSON output, which must be one object."""
    doc = _json(*args)
    assert isinstance(doc, dict), doc
    return doc


def test_index_json(net: str) -> None:
    rows = _rows("index", "--network", net, "--json", "--year", "2024")
    assert len(rows) == 5
    assert [r["rank"] for r in rows] == sorted(r["rank"] for r in rows)
    assert set(rows[0]) >= {"entity", "level", "score", "rank", "dimensions"}
    # method 2.0 adds the application dimension (job service levels, tenants/SMEs served)
    assert set(rows[0]["dimensions"]) == {"compute", "storage", "network", "environment", "application"}
    # from a file nothing is measured: the measured indicators are missing (NaN → null, neutral)
    assert rows[0]["indicators"]["utilisation"] is None and rows[0]["indicators"]["jobs_finished"] is None
    assert rows[-1]["entity"] == "linyi"
    circles = _rows(
        "index", "--network", net, "--json", "--level", "circle", "--weights", "entropy", "--norm", "zscore"
    )
    assert {r["entity"] for r in circles} == {"shenghui", "jiaodong", "lunan"}
    prov = _rows("index", "--network", net, "--json", "--level", "province", "--weights", "expert")
    assert len(prov) == 1 and prov[0]["rank"] == 1


def test_index_table_and_sensitivity(net: str) -> None:
    result = runner.invoke(app, ["index", "--network", net])
    assert result.exit_code == 0 and "综合算力指数" in result.output and "qingdao" in result.output
    sens = _rows("index", "sensitivity", "--network", net, "--samples", "50", "--seed", "3", "--json")
    assert [s["samples"] for s in sens] == [10, 50]  # 5 dimensions × ±δ (8 with method 1.0's four)
    assert all(-1 <= s["kendall_tau_min"] <= 1 for s in sens)
    assert {r["entity"] for r in sens[1]["ranks"]} == {"jinan", "zibo", "qingdao", "yantai", "linyi"}


def test_index_compare_year_on_year(net: str) -> None:
    """``--compare``: every entity of --year against the year before, deltas = this year − last year."""
    raw = _rows("index", "--network", net, "--json", "--year", "2024")
    rows = {r["entity"]: r for r in raw}
    comp = _rows("index", "--network", net, "--json", "--year", "2024", "--compare")
    assert {r["entity"] for r in comp} == set(rows)
    for r in comp:
        assert r["year"] == 2024 and r["base_year"] == 2023
        assert r["score"] == pytest.approx(rows[r["entity"]]["score"])
        assert r["delta"] == pytest.approx(r["score"] - r["base_score"], abs=1e-3)
        assert r["rank_change"] == r["rank"] - r["base_rank"]
    table = runner.invoke(app, ["index", "--network", net, "--year", "2024", "--compare"])
    assert table.exit_code == 0 and "同比" in table.output and "2024 vs 2023" in table.output
    bad = runner.invoke(app, ["index", "--network", net, "--year", "2011", "--compare"])  # first year
    assert bad.exit_code == 2 and "compare" in bad.output


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["index", "--level", "county"], "--level"),
        (["index", "--weights", "magic"], "--weights"),
        (["index", "--norm", "rank"], "--norm"),
        (["index", "sensitivity", "--delta", "1.5"], "--delta"),
        (["green-list", "--utilisation", "0"], "--utilisation"),
        (["report", "index", "--out", "x.docx"], "--out"),
    ],
)
def test_bad_input_is_a_clean_error(net: str, args: list[str], needle: str) -> None:
    result = runner.invoke(app, [*args, "--network", net])
    assert result.exit_code == 2
    assert needle in result.output and "Traceback" not in result.output


def test_missing_network_is_a_clean_error() -> None:
    result = runner.invoke(app, ["targets", "--network", "/no/such/net.yaml"])
    assert result.exit_code == 2 and "no such file" in result.output


def test_targets_json(net: str) -> None:
    rows = _rows("targets", "--network", net, "--json", "--year", "2024")
    racks = next(r for r in rows if r["kpi"] == "standard_racks")
    assert racks["target"] == 450_000 and racks["year"] == 2025 and racks["actual"] == pytest.approx(21_340)
    assert racks["met"] is False and racks["source"]
    assert {"kpi", "unit", "target", "actual", "year", "forecast"} <= set(racks)
    table = runner.invoke(app, ["targets", "--network", net])
    assert table.exit_code == 0 and "standard_racks" in table.output


def test_green_maturity_network_capacity(net: str) -> None:
    g = _doc("green-list", "--network", net, "--json")
    assert [c["center"] for c in g["pue_above_limit"]] == ["zb-edge", "ly-edge"]
    assert [c["center"] for c in g["small_scattered_old"]] == ["zb-edge", "ly-edge"]
    assert g["renewable_ranking"][0]["center"] == "qd-ai"
    m = _rows("maturity", "--network", net, "--json")
    assert {r["center"]: r["overall"] for r in m}["jn-sc"] == 3
    nc = _doc("network-capacity", "--network", net, "--json")
    assert nc["summary"]["share_compliant"] == pytest.approx(0.75)
    assert len(nc["pairs"]) == 15
    failing = _doc("network-capacity", "--network", net, "--json", "--failing")
    assert [(p["a"], p["b"]) for p in failing["pairs"]] == [("qd-ai", "yt-dc")]
    for cmd in ("green-list", "maturity", "network-capacity"):
        result = runner.invoke(app, [cmd, "--network", net])
        assert result.exit_code == 0, result.output


def test_unused_path_is_not_written(tmp_path: Path, net: str) -> None:
    out = tmp_path / "r.txt"
    result = runner.invoke(app, ["report", "storage", "--network", net, "--out", str(out)])
    assert result.exit_code == 2 and not out.exists()


def test_year_before_the_network_is_refused(net: str) -> None:
    result = runner.invoke(app, ["index", "--network", net, "--year", "1990"])
    assert result.exit_code == 2 and "year" in result.output and "2011" in result.output
