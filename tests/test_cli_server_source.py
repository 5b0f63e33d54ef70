"""The catalog and observatory commands read the server when ``HUANGHE_URL`` is set (so an operator's edits
through the API show) and the files otherwise, and say which on stderr; the --json shapes are the same.
Runs a real `huanghe up` (bundled network) on a free loopback port; the CLI runs in-process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from huanghe.cli.main import app
from huanghe.client import HuangheClient
from tests import jobs_server as srv
from tests.infra.ports import refused_url

runner = CliRunner()
CENTER = "qingdao-ai"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[srv.Server]:
    tmp = tmp_path_factory.mktemp("source")
    # the calibrated default network: the files side reads it when no --network is given
    s = srv.start(tmp, f"sqlite:///{tmp / 'source.db'}", network="shandong")
    yield s
    s.stop()


def run(*args: str, url: str | None = None, monkeypatch: pytest.MonkeyPatch) -> Result:
    if url is None:
        monkeypatch.delenv("HUANGHE_URL", raising=False)
    else:
        monkeypatch.setenv("HUANGHE_URL", url)
    return runner.invoke(app, list(args))


def as_json(result: Result) -> Any:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ["centers", "list", "--json"],
        ["pools", "list", "--json"],
        ["pools", "list", "--center", CENTER, "--json"],
        ["index", "--json"],
        ["index", "--json", "--level", "circle", "--weights", "entropy", "--year", "2022"],
        ["targets", "--json"],
        ["maturity", "--json"],
        ["network-capacity", "--json", "--failing"],
        ["green-list", "--json"],
    ],
)
def test_server_and_files_agree_on_an_unedited_network(
    server: srv.Server, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    from_server = run(*args, url=server.url, monkeypatch=monkeypatch)
    from_files = run(*args, monkeypatch=monkeypatch)
    assert f"source: server {server.url}" in from_server.stderr
    assert from_files.stderr == ""  # --json from files without HUANGHE_URL: stdout only, as before
    served, filed = as_json(from_server), as_json(from_files)
    if args[0] == "green-list":
        # the server's carbon figures use the utilisation measured by its telemetry where there is some
        assert served.pop("telemetry")["window_days"] > 0
        assert [c["center"] for c in served.pop("carbon")] == [c["center"] for c in filed.pop("carbon")]
    assert served == filed


def test_an_edit_through_the_api_shows_with_huanghe_url(
    server: srv.Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def center(rows: list[dict[str, Any]]) -> dict[str, Any]:
        return next(r for r in rows if r["id"] == CENTER)

    def qingdao_environment() -> float:
        rows = as_json(run("index", "--json", url=server.url, monkeypatch=monkeypatch))
        return float(next(r for r in rows if r["entity"] == "qingdao")["dimensions"]["environment"])

    with HuangheClient(server.url) as hh:
        original = hh.get_center(CENTER)
        env_before = qingdao_environment()
        try:
            hh.update_center(CENTER, {"name_zh": "青岛智算（改名）", "energy": {"pue": 1.95}})
            edited = center(
                as_json(run("centers", "list", "--json", url=server.url, monkeypatch=monkeypatch))
            )
            assert edited["name"] == "青岛智算（改名）" and edited["pue"] == 1.95
            monkeypatch.setenv("COLUMNS", "200")
            table = run("centers", "list", "--city", "qingdao", url=server.url, monkeypatch=monkeypatch)
            assert table.exit_code == 0 and "青岛智算（改名）" in table.stdout
            assert f"source: server {server.url}" in table.stderr
            assert qingdao_environment() != pytest.approx(env_before)  # the index sees the new PUE
            green = as_json(run("green-list", "--json", url=server.url, monkeypatch=monkeypatch))
            assert CENTER in [c["center"] for c in green["pue_above_limit"]]
            # the files are not the server: --network (or no HUANGHE_URL) still reads the bundled network
            filed = run(
                "centers", "list", "--json", "--network", "shandong", url=server.url, monkeypatch=monkeypatch
            )
            assert center(as_json(filed))["name"] == original.name_zh
            assert "source: bundled network shandong" in filed.stderr
            unset = center(as_json(run("centers", "list", "--json", monkeypatch=monkeypatch)))
            assert unset["pue"] == original.energy.pue
        finally:
            hh.update_center(CENTER, {"name_zh": original.name_zh, "energy": {"pue": original.energy.pue}})


def test_tables_say_where_the_data_came_from(server: srv.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    for args in (
        ["index"],
        ["targets"],
        ["green-list"],
        ["maturity"],
        ["network-capacity"],
        ["pools", "list"],
    ):
        r = run(*args, url=server.url, monkeypatch=monkeypatch)
        assert r.exit_code == 0, (args, r.output)
        assert f"source: server {server.url}" in r.stderr and r.stdout.strip()
        local = run(*args, "--network", "shandong-mini", monkeypatch=monkeypatch)  # the small one: fast
        assert local.exit_code == 0 and "source: bundled network shandong-mini" in local.stderr
    sens = run("index", "sensitivity", "--samples", "20", "--json", url=server.url, monkeypatch=monkeypatch)
    assert [s["samples"] for s in as_json(sens)][1] == 20


def test_options_the_server_does_not_take(server: srv.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    r = run("green-list", "--pue-limit", "1.4", url=server.url, monkeypatch=monkeypatch)
    assert r.exit_code == 2 and "--pue-limit" in r.output and "--network" in r.output
    r = run("index", "sensitivity", "--concentration", "10", url=server.url, monkeypatch=monkeypatch)
    assert r.exit_code == 2 and "--concentration" in r.output
    ok = run(
        "green-list", "--pue-limit", "1.4", "--network", "shandong", url=server.url, monkeypatch=monkeypatch
    )
    assert ok.exit_code == 0, ok.output
    r = run("index", "--year", "1990", url=server.url, monkeypatch=monkeypatch)
    assert r.exit_code == 1 and "error 422" in r.output and "query.year" in r.output
    r = run("pools", "list", "--center", "nowhere", url=server.url, monkeypatch=monkeypatch)
    assert r.exit_code == 1 and "unknown center 'nowhere'" in r.output


def test_report_from_the_server(server: srv.Server, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    out = tmp_path / "index.html"
    r = run("report", "index", "--out", str(out), "--lang", "en", url=server.url, monkeypatch=monkeypatch)
    assert r.exit_code == 0, r.output
    assert f"wrote {out}" in r.stdout and f"source: server {server.url}" in r.stderr
    assert "<html" in out.read_text(encoding="utf-8")[:2000].lower()


def test_unreachable_server_exits_3(monkeypatch: pytest.MonkeyPatch) -> None:
    with refused_url() as url:  # bound, not listening: refused, and no other process can take the port
        for args in (["centers", "list"], ["index", "--json"], ["jobs", "list"]):
            r = run(*args, url=url, monkeypatch=monkeypatch)
            assert r.exit_code == 3, (args, r.output)
            assert "cannot reach the Huanghe server" in r.stderr and "Traceback" not in r.output
        r = run("alerts", "list", url=url, monkeypatch=monkeypatch)
        assert r.exit_code == 3  # alerts too: one convention for every server command
        r = run("centers", "list", url="nope://x", monkeypatch=monkeypatch)
        assert r.exit_code == 2 and "not a valid URL" in r.stderr


def test_index_year_on_year_from_the_server(server: srv.Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """``huanghe index --compare``: the server answers ``?compare=Y-1``; with no records yet it agrees with the
    files (nothing measured on either side)."""
    args = ("index", "--json", "--compare", "--year", "2025", "--level", "circle")
    served = as_json(run(*args, url=server.url, monkeypatch=monkeypatch))
    assert served == as_json(run(*args, monkeypatch=monkeypatch))
    assert {r["base_year"] for r in served} == {2024} and len(served) == 3
    table = run("index", "--compare", "--year", "2025", url=server.url, monkeypatch=monkeypatch)
    assert table.exit_code == 0 and "2025 vs 2024" in table.stdout
