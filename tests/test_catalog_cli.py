"""`huanghe topology ...`, `huanghe centers list`, `huanghe pools list` through Typer's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from huanghe.catalog.generate import generate_topology
from huanghe.catalog.topology import load_topology
from huanghe.cli.main import app

runner = CliRunner()


def _small_doc() -> dict[str, Any]:
    return generate_topology(3, seed=11).model_dump(mode="json")


def _write(tmp_path: Path, doc: object, name: str = "net.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def test_validate_bundled() -> None:
    result = runner.invoke(app, ["topology", "validate"])
    assert result.exit_code == 0, result.output
    assert (
        "shandong:" in result.output and f"{len(load_topology('shandong').centers)} centers" in result.output
    )
    assert len(result.output.strip().splitlines()) == 1
    # the calibrated network as it stood in a year (shandong@YEAR), and the small one for fast tests
    year = runner.invoke(app, ["topology", "validate", "shandong@2023"])
    assert year.exit_code == 0 and f"{len(load_topology('shandong@2023').centers)} centers" in year.output
    mini = runner.invoke(app, ["topology", "validate", "shandong-mini"])
    assert mini.exit_code == 0 and "shandong-mini:" in mini.output and "60 centers" in mini.output
    bad = runner.invoke(app, ["topology", "validate", "shandong@soon"])
    assert bad.exit_code == 1 and "year" in bad.output


def test_validate_file_ok_and_errors(tmp_path: Path) -> None:
    doc = _small_doc()
    ok = runner.invoke(app, ["topology", "validate", str(_write(tmp_path, doc))])
    assert ok.exit_code == 0, ok.output
    doc["centers"][0]["pools"][0]["gpus_per_node"] = -1
    doc["centers"][1]["city"] = "atlantis"
    bad = runner.invoke(app, ["topology", "validate", str(_write(tmp_path, doc, "bad.yaml"))])
    assert bad.exit_code == 1
    assert "centers[0].pools[0].gpus_per_node: must be >= 0" in bad.output
    assert "Traceback" not in bad.output


def test_validate_reference_errors_listed(tmp_path: Path) -> None:
    doc = _small_doc()
    doc["centers"][1]["city"] = "atlantis"
    doc["centers"][2]["id"] = doc["centers"][0]["id"]
    result = runner.invoke(app, ["topology", "validate", str(_write(tmp_path, doc))])
    assert result.exit_code == 1
    assert "centers[1].city: unknown city 'atlantis'" in result.output
    assert "centers[2].id: duplicate id" in result.output


def test_validate_missing_and_bad_yaml(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["topology", "validate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 1 and "no such file" in missing.output
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\nregions: [\n", encoding="utf-8")
    result = runner.invoke(app, ["topology", "validate", str(broken)])
    assert result.exit_code == 1 and "invalid YAML" in result.output


def test_show() -> None:
    result = runner.invoke(app, ["topology", "show"])
    assert result.exit_code == 0, result.output
    assert "EFLOPS" in result.output and "jiaodong" in result.output and "FP32-equivalent" in result.output


def test_export_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "export.yaml"
    result = runner.invoke(app, ["topology", "export", "--network", "shandong-mini", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert load_topology(out) == load_topology("shandong-mini")
    as_json = tmp_path / "export.json"
    result = runner.invoke(app, ["topology", "export", "--network", "shandong-mini", "--out", str(as_json)])
    assert result.exit_code == 0 and as_json.read_text(encoding="utf-8").startswith("{")
    assert load_topology(as_json) == load_topology("shandong-mini")
    stdout = runner.invoke(app, ["topology", "export", "--network", "shandong-mini"])
    assert stdout.exit_code == 0
    assert yaml.safe_load(stdout.stdout)["name"] == "shandong-mini"


def test_generate(tmp_path: Path) -> None:
    a = runner.invoke(app, ["topology", "generate", "--centers", "25", "--seed", "4"])
    b = runner.invoke(app, ["topology", "generate", "--centers", "25", "--seed", "4"])
    assert a.exit_code == 0 and a.stdout == b.stdout
    assert len(yaml.safe_load(a.stdout)["centers"]) == 25
    out = tmp_path / "gen.yaml"
    c = runner.invoke(app, ["topology", "generate", "--centers", "7", "--seed", "1", "--out", str(out)])
    assert c.exit_code == 0
    assert len(load_topology(out).centers) == 7
    bad = runner.invoke(
        app, ["topology", "generate", "--centers", "7", "--pools-min", "3", "--pools-max", "1"]
    )
    assert bad.exit_code != 0


def test_centers_list_json() -> None:
    result = runner.invoke(app, ["centers", "list", "--json", "--network", "shandong-mini"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 60
    keys = {"id", "name", "name_en", "city", "region", "tier", "kind", "operator", "lon", "lat"}
    assert all(keys <= set(r) for r in rows)
    nsc = next(r for r in rows if r["id"] == "nsc-jinan")
    assert (nsc["city"], nsc["region"], nsc["tier"], nsc["kind"]) == (
        "jinan",
        "capital",
        "national",
        "supercomputing",
    )
    assert nsc["illustrative"] is True and nsc["pue"] == 1.52 and nsc["pools"] == 5
    assert {r["city"] for r in rows} >= {"heze", "weihai"}


def test_centers_list_filters_and_table() -> None:
    result = runner.invoke(app, ["centers", "list", "--json", "--tier", "edge", "--region", "lunan"])
    rows = json.loads(result.stdout)
    assert rows and all(r["tier"] == "edge" and r["region"] == "lunan" for r in rows)
    table = runner.invoke(app, ["centers", "list", "--city", "qingdao"])
    assert table.exit_code == 0 and "qingdao-ai" in table.output
    bad = runner.invoke(app, ["centers", "list", "--tier", "galactic"])
    assert bad.exit_code != 0


def test_pools_list(tmp_path: Path) -> None:
    result = runner.invoke(app, ["pools", "list", "--center", "qingdao-ai", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["center"] for r in rows} == {"qingdao-ai"}
    keys = {"id", "center", "accelerator", "nodes", "cpus_per_node", "gpus_per_node", "mem_gb_per_node"}
    assert all(keys | {"price_cny_per_hour"} <= set(r) for r in rows)
    ascend = next(r for r in rows if r["accelerator"] == "Ascend 910B")
    assert ascend["gpus_per_node"] == 8 and ascend["category"] == "intelligent"
    every = json.loads(runner.invoke(app, ["pools", "list", "--json", "--network", "shandong-mini"]).stdout)
    assert len(every) == 131
    unknown = runner.invoke(app, ["pools", "list", "--center", "nowhere"])
    assert unknown.exit_code == 1 and "unknown center 'nowhere'" in unknown.output
    net = _write(tmp_path, _small_doc())
    small = json.loads(runner.invoke(app, ["pools", "list", "--network", str(net), "--json"]).stdout)
    assert small and all(r["center"].startswith("c0") for r in small)
