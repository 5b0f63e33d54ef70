"""The observatory over HTTP on the stored network: index, sensitivity, targets, green lists, maturity,
network capacity, indicators (with telemetry), report downloads; bad options are 4xx with paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.telemetry_support import T0_MS, app_client, sample

OBS = "/api/v1/observatory"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    db = tmp_path_factory.mktemp("obs") / "o.db"
    with app_client(f"sqlite:///{db}", network=None) as c:
        r = c.put("/api/v1/topology", content=_shandong(), headers={"content-type": "application/yaml"})
        assert r.status_code == 200, r.text
        yield c


def _shandong() -> bytes:
    from huanghe.catalog.networks import __file__ as pkg

    return (Path(pkg).parent / "shandong-mini.yaml").read_bytes()  # the small network: fast


def test_index_and_sensitivity(client: TestClient) -> None:
    r = client.get(f"{OBS}/index", params={"level": "circle", "weights": "entropy"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["level"] == "circle" and body["weights"] == "entropy" and body["illustrative"] is True
    rows = body["rows"]
    assert len(rows) == 3 and sorted(r["rank"] for r in rows) == [1, 2, 3]
    assert all(0 <= r["score"] <= 100 for r in rows)
    r = client.get(f"{OBS}/index/sensitivity", params={"level": "circle", "samples": 30, "seed": 1})
    assert r.status_code == 200
    studies = r.json()["studies"]
    assert len(studies) == 2 and studies[1]["samples"] == 30
    assert {x["entity"] for x in studies[0]["ranks"]} == {r["entity"] for r in rows}


def test_targets_green_maturity_capacity(client: TestClient) -> None:
    targets = client.get(f"{OBS}/targets").json()
    assert any(t["kpi"] == "pue" for t in targets)
    green = client.get(f"{OBS}/green-list").json()
    assert {"pue_above_limit", "telemetry"} <= green.keys()
    maturity = client.get(f"{OBS}/maturity").json()
    assert len(maturity) == 60 and all(1 <= m["overall"] <= 5 for m in maturity)
    cap = client.get(f"{OBS}/network-capacity", params={"failing": "true"}).json()
    assert cap["summary"]["city_pairs"] > 0
    assert all(p["compliant"] is False for p in cap["pairs"])


def test_indicators_levels_and_telemetry(client: TestClient) -> None:
    province = client.get(f"{OBS}/indicators").json()
    (row,) = province["rows"]
    assert row["centers"] == 60 and row["total_eflops"] > 0 and 1.0 <= row["pue"] < 2.0
    assert 0 < row["intelligent_share"] < 1 and row["storage_eb"] > 0 and row["utilisation"] is None
    assert province["telemetry"]["used"] is False
    cities = client.get(f"{OBS}/indicators", params={"level": "city"}).json()["rows"]
    assert len(cities) == 16
    assert sum(c["centers"] for c in cities) == 60
    assert sum(c["standard_racks"] for c in cities) == pytest.approx(row["standard_racks"])
    # telemetry of one center: measured utilisation and PUE show up (window = last 30 days before "now")
    batch = [
        sample("nsc-jinan", "utilisation", 0.42, "ratio", T0_MS - 60_000),
        sample("nsc-jinan", "it_power_kw", 1000.0, "kW", T0_MS - 60_000),
        sample("nsc-jinan", "facility_power_kw", 1400.0, "kW", T0_MS - 60_000),
    ]
    assert client.post("/api/v1/telemetry", json={"samples": batch}).status_code == 201
    centers = client.get(f"{OBS}/indicators", params={"level": "center"}).json()
    jinan = next(r for r in centers["rows"] if r["id"] == "nsc-jinan")
    assert jinan["utilisation"] == pytest.approx(0.42) and jinan["pue_measured"] == pytest.approx(1.4)
    assert jinan["utilisation_source"] == "telemetry"
    assert centers["telemetry"] == {
        "used": True,
        "simulated": False,
        "window_days": 30,
        "centers_with_utilisation": 1,
    }
    carbon = {c["center"]: c for c in client.get(f"{OBS}/green-list").json()["carbon"]}
    assert carbon["nsc-jinan"]["utilisation"] == pytest.approx(0.42)
    assert carbon["nsc-jinan"]["utilisation_assumed"] is False


@pytest.mark.parametrize(
    ("path", "params", "where"),
    [
        ("index", {"level": "galaxy"}, "query.level"),
        ("index", {"weights": "gut"}, "query.weights"),
        ("index", {"norm": "log"}, "query.norm"),
        ("index", {"year": "1990"}, "query.year"),
        ("index", {"year": "abc"}, "query.year"),
        ("index/sensitivity", {"delta": "1.5"}, "query.delta"),
        ("targets", {"year": "1960"}, "query.year"),
        ("indicators", {"level": "street"}, "query.level"),
        ("reports/storage", {"format": "docx"}, "query.format"),
        ("reports/weather", {}, "query.kind"),
        ("reports/index", {"lang": "fr"}, "query.lang"),
    ],
)
def test_bad_options_are_4xx_with_paths(client: TestClient, path: str, params: dict, where: str) -> None:
    r = client.get(f"{OBS}/{path}", params=params)
    assert r.status_code == 422, r.text
    assert where in [d["path"] for d in r.json()["detail"]]


def test_report_downloads(client: TestClient) -> None:
    r = client.get(f"{OBS}/reports/storage", params={"format": "html", "lang": "en"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'filename="huanghe-storage-report.html"' in r.headers["content-disposition"]
    assert "<html" in r.text.lower() and "data:image/png;base64" in r.text
    r = client.get(f"{OBS}/reports/index", params={"format": "pdf"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


def test_no_network_stored(tmp_path: Path) -> None:
    with app_client(f"sqlite:///{tmp_path / 'empty.db'}", network=None) as c:
        r = c.get(f"{OBS}/index")
        assert r.status_code in (404, 422) and "no network" in r.json()["detail"][0]["message"]
