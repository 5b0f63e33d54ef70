"""The index fed by what runs: measured inputs move the index in the right direction (pure, then from the
platform's records on SQLite and PostgreSQL), missing measurements stay neutral, the answer says what was
measured, and the year-on-year comparison (service and HTTP)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from huanghe.observatory import index as ix
from tests.observatory_testnet import small_network
from tests.telemetry_support import app_client

GB = 10**9
#: 2024-06-01T00:00Z: "now" of the database tests (stocks — storage, backups — count for 2024).
NOW_S = datetime(2024, 6, 1, tzinfo=UTC).timestamp()
MID_2024 = datetime(2024, 3, 1, tzinfo=UTC).timestamp()


def _city(measures: dict[str, ix.CenterMeasures]) -> dict[str, ix.IndexRow]:
    topo = small_network()
    inputs = ix.yearly_inputs(topo, [2023, 2024], {2024: measures})
    return {r.entity: r for r in ix.compute_index(inputs, ix.entities_of(topo, "city")).year(2024)}


def test_unmeasured_is_neutral_and_measured_moves_the_right_dimension() -> None:
    base = _city({})
    assert all(math.isnan(r.indicators["utilisation"]) for r in base.values())
    # application is all-neutral without records: 50 for everyone
    assert {round(r.dimensions["application"], 6) for r in base.values()} == {50.0}
    busy = _city({"jn-sc": ix.CenterMeasures(utilisation=0.9), "qd-ai": ix.CenterMeasures(utilisation=0.2)})
    assert busy["jinan"].dimensions["compute"] > base["jinan"].dimensions["compute"]
    assert busy["qingdao"].dimensions["compute"] < base["qingdao"].dimensions["compute"]
    assert busy["jinan"].dimensions["storage"] == pytest.approx(base["jinan"].dimensions["storage"])
    moved = _city(
        {"jn-sc": ix.CenterMeasures(transfer_bytes=4 * 10**12), "qd-ai": ix.CenterMeasures(transfer_bytes=0)}
    )
    assert moved["jinan"].indicators["transfer_tb"] == pytest.approx(4.0)
    assert moved["jinan"].dimensions["network"] > base["jinan"].dimensions["network"]
    assert moved["qingdao"].dimensions["network"] < base["qingdao"].dimensions["network"]
    jobs = {
        "jn-sc": ix.CenterMeasures(
            jobs_succeeded=10, jobs_failed=0, jobs_started=10, jobs_started_in_target=10
        ),
        "qd-ai": ix.CenterMeasures(
            jobs_succeeded=5, jobs_failed=5, jobs_started=10, jobs_started_in_target=10
        ),
        # a reference in between, so that min-max does not pin Qingdao at the bottom already
        "yt-dc": ix.CenterMeasures(
            jobs_succeeded=3, jobs_failed=7, jobs_started=10, jobs_started_in_target=10
        ),
    }
    served = _city(jobs)
    assert served["qingdao"].indicators["job_success_rate"] == pytest.approx(0.5)
    assert served["jinan"].dimensions["application"] > served["qingdao"].dimensions["application"]
    worse = _city({**jobs, "qd-ai": ix.CenterMeasures(jobs_succeeded=1, jobs_failed=9, jobs_started=10,
                                                       jobs_started_in_target=10)})  # fmt: skip
    assert worse["qingdao"].dimensions["application"] < served["qingdao"].dimensions["application"]
    # a measured PUE replaces the declared one (jn-dc declares 1.45, jn-sc 1.25: IT-weighted 1.3167)
    assert base["jinan"].indicators["pue"] == pytest.approx((20000 * 1.25 + 10000 * 1.45) / 30000)
    cool = _city({"jn-dc": ix.CenterMeasures(pue=1.15)})
    assert cool["jinan"].indicators["pue"] == pytest.approx((20000 * 1.25 + 10000 * 1.15) / 30000)
    assert cool["jinan"].dimensions["environment"] > base["jinan"].dimensions["environment"]


def test_coverage_and_year_on_year() -> None:
    topo = small_network()
    figs = ix.yearly_inputs(topo, [2024])[2024].centers
    cov = ix.coverage(figs, {"jn-sc": ix.CenterMeasures(utilisation=0.5, pue=1.3)})
    assert cov["utilisation"] == 1 and cov["pue"] == 1 and cov["transfer_tb"] == 0
    res = ix.compute_index(ix.yearly_inputs(topo, [2020, 2021, 2024]), ix.entities_of(topo, "city"))
    comp = {c.entity: c for c in ix.compare_years(res, 2024, 2021)}
    qd = comp["qingdao"]  # qd-ai opened in 2021
    assert qd.delta == pytest.approx(qd.score - (qd.base_score or 0.0))
    assert set(qd.dimension_deltas) == set(ix.DIMENSIONS)
    with pytest.raises(ix.IndexInputError, match="compare"):
        ix.compare_years(res, 2024, 2024)
    with pytest.raises(ix.IndexInputError, match="compare"):
        ix.compare_years(res, 2024, 2019)  # not in the panel


# ---------------------------------------------------------------- from the platform's records


def _seed_network(s: Session) -> None:
    from huanghe.data.models import DataFileRow, DatasetRow, StorageEndpointRow
    from huanghe.network.topology_store import import_topology
    from huanghe.tenancy.models import TenantRow

    import_topology(s, small_network())
    s.add_all([TenantRow(id="t-sme", name="小企业", sector="manufacturing", is_sme=True),
               TenantRow(id="t-big", name="大企业", sector="finance", is_sme=False)])  # fmt: skip
    for eid, center in (("ep-jn", "jn-sc"), ("ep-qd", "qd-ai"), ("ep-yt", "yt-dc")):
        s.add(StorageEndpointRow(id=eid, center_id=center, temperature="hot", medium="hdd", url="http://127.0.0.1:1",
                                 bucket="b", capacity_bytes=100 * GB, used_bytes=0, attributes={}, created_s=0.0))  # fmt: skip
    s.flush()
    # a core dataset homed in Qingdao without an off-site copy (the reference of the off-site share)
    s.add(DatasetRow(id="ds-q", tenant_id="t-big", name="q", center_id="qd-ai", size_gb=1.0, data_class="core",
                     temperature="hot", replicas=[], allowed_centers=[]))  # fmt: skip
    s.flush()
    s.add(DataFileRow(dataset_id="ds-q", name="q", size_bytes=GB, sha256="1" * 64, state="available",
                      created_s=MID_2024, accessed_s=MID_2024))  # fmt: skip
    s.commit()


def _telemetry(s: Session) -> None:
    from huanghe.telemetry.models import TelemetrySampleRow

    t = int(MID_2024 * 1000)
    for center, metric, value, unit in (("jn-sc", "utilisation", 0.9, "ratio"), ("qd-ai", "utilisation", 0.2, "ratio"),
                                        ("qd-ai", "it_power_kw", 1000.0, "kW"), ("qd-ai", "facility_power_kw", 1100.0, "kW")):  # fmt: skip
        s.add(
            TelemetrySampleRow(center_id=center, metric=metric, subject="", time_ms=t, value=value, unit=unit)
        )
    s.commit()


def _transfers(s: Session, n: int) -> None:
    from huanghe.data.models import DataFileRow, DatasetRow, TransferRow

    if s.get(DatasetRow, "ds-x") is None:
        s.add(DatasetRow(id="ds-x", tenant_id="t-big", name="x", center_id="jn-sc", size_gb=1.0, data_class="core",
                         temperature="hot", replicas=[], allowed_centers=[]))  # fmt: skip
        s.flush()
    f = DataFileRow(dataset_id="ds-x", name=f"f{n}", size_bytes=GB, sha256="0" * 64, state="available",
                    created_s=MID_2024, accessed_s=MID_2024)  # fmt: skip
    s.add(f)
    s.flush()
    for _ in range(n):  # jn-sc → yt-dc, 1 TB each; one into the same center does not count
        s.add(TransferRow(file_id=f.id, tenant_id="t-big", dest_endpoint_id="ep-yt", source_endpoint_id="ep-jn",
                          state="done", bytes=10**12, created_s=MID_2024, finished_s=MID_2024))  # fmt: skip
    s.add(TransferRow(file_id=f.id, tenant_id="t-big", dest_endpoint_id="ep-jn", source_endpoint_id="ep-jn",
                      state="done", bytes=10**12, created_s=MID_2024, finished_s=MID_2024))  # fmt: skip
    s.commit()


def _jobs(s: Session, center: str, ok: int, failed: int, tenant: str, tag: str) -> None:
    from huanghe.jobs.models import JobRow

    for k in range(ok + failed):
        s.add(JobRow(id=f"{tag}-{k}", name="j", tenant_id=tenant, spec={}, cpus=1.0, gpus=0.0, mem_gb=1.0, nodes=1,
                     state="SUCCEEDED" if k < ok else "FAILED", pool_id=None, center_id=center, submit_s=MID_2024,
                     updated_s=MID_2024 + 7200, started_s=MID_2024 + 60, ended_s=MID_2024 + 3600))  # fmt: skip
    s.commit()


def _offsite_copies(s: Session) -> None:
    from sqlalchemy import select

    from huanghe.data.models import DataFileRow, FileReplicaRow

    for f in s.scalars(select(DataFileRow).where(DataFileRow.dataset_id == "ds-x")):
        s.add(FileReplicaRow(file_id=f.id, endpoint_id="ep-qd", state="available", object_key=f"k{f.id}",
                             size_bytes=f.size_bytes, created_s=MID_2024, accessed_s=MID_2024, verified_s=MID_2024))  # fmt: skip
    s.commit()


def _bill(s: Session, center: str, fen: int) -> None:
    from huanghe.billing.models import UsageRow

    s.add(UsageRow(job_id=f"bill-{center}", tenant_id="t-big", pool_id="jn-sc-cpu", center_id=center, operator="op",
                   month="2024-03", started_s=MID_2024, ended_s=MID_2024 + 3600, nodes=1, node_hours=1.0,
                   gpu_hours=0.0, price_fen_per_node_hour=fen, cost_fen=fen, energy_kwh=1.0, carbon_kg=0.5))  # fmt: skip
    s.commit()


def _rows(s: Session, **kw: object) -> tuple[dict[str, dict], dict]:
    from huanghe.regulator import service as svc

    out = svc.index(s, "city", "equal", "minmax", 2024, now_ms=int(NOW_S * 1000), **kw)  # type: ignore[arg-type]
    return {r["entity"]: r for r in out["rows"]}, out


def test_platform_records_move_the_index(session_factory: sessionmaker[Session]) -> None:
    from huanghe.jobs.models import JobRow

    with session_factory() as s:
        _seed_network(s)
        base, out = _rows(s)
        # only the storage endpoints (a stock: the current year 2024) are measured so far
        assert out["measured_years"] == [2024] and out["method_version"] == "2.0"
        assert out["indicator_sources"]["utilisation"] == {
            "source": "measured",
            "centers_measured": 0,
            "centers": 6,
        }
        assert out["indicator_sources"]["total_eflops"]["source"] == "declared"
        # storage endpoints exist (all empty): the storage-used share is measured (0) for 2024 only
        assert base["jinan"]["indicators"]["storage_used_share"] == 0.0

        _telemetry(s)  # higher utilisation → higher compute score; a measured PUE
        tel, out = _rows(s)
        assert out["measured_years"] == [2024]
        assert out["indicator_sources"]["utilisation"]["centers_measured"] == 2
        assert out["indicator_sources"]["pue"] == {"source": "mixed", "centers_measured": 1, "centers": 6}
        assert tel["jinan"]["dimensions"]["compute"] > base["jinan"]["dimensions"]["compute"]
        assert tel["qingdao"]["dimensions"]["compute"] < base["qingdao"]["dimensions"]["compute"]
        assert tel["qingdao"]["indicators"]["pue"] == pytest.approx(1.1)  # measured, declared 1.2

        _transfers(s, 3)  # more transfers → network
        moved, _ = _rows(s)
        assert moved["jinan"]["indicators"]["transfer_tb"] == pytest.approx(3.0)
        assert moved["yantai"]["indicators"]["transfer_tb"] == pytest.approx(3.0)
        assert moved["qingdao"]["indicators"]["transfer_tb"] == 0.0  # measured zero, not missing
        assert moved["yantai"]["dimensions"]["network"] > tel["yantai"]["dimensions"]["network"]
        _transfers(s, 5)
        more, _ = _rows(s)
        assert more["jinan"]["indicators"]["transfer_tb"] == pytest.approx(8.0)
        assert more["jinan"]["dimensions"]["network"] >= moved["jinan"]["dimensions"]["network"]

        _jobs(s, "jn-sc", 10, 0, "t-sme", "a")  # a failing job share → lower application score
        _jobs(s, "qd-ai", 5, 5, "t-big", "b")
        _jobs(s, "yt-dc", 3, 7, "t-big", "y")  # a reference in between (min-max would pin Qingdao otherwise)
        served, _ = _rows(s)
        assert served["qingdao"]["indicators"]["job_success_rate"] == pytest.approx(0.5)
        assert served["jinan"]["indicators"]["smes_served"] == 1.0
        assert served["qingdao"]["indicators"]["smes_served"] == 0.0
        assert served["jinan"]["dimensions"]["application"] > served["qingdao"]["dimensions"]["application"]
        # the same number of jobs, 4 more of them failed
        s.execute(update(JobRow).where(JobRow.id.in_([f"b-{k}" for k in range(4)])).values(state="FAILED"))
        s.commit()
        failing, _ = _rows(s)
        assert failing["qingdao"]["indicators"]["jobs_finished"] == 10.0
        assert failing["qingdao"]["indicators"]["job_success_rate"] == pytest.approx(0.1)
        assert (
            failing["qingdao"]["dimensions"]["application"] < served["qingdao"]["dimensions"]["application"]
        )
        assert failing["qingdao"]["score"] < served["qingdao"]["score"]

        # security: ds-x (core, homed at jn-sc) has no off-site copy; then a verified one in Qingdao
        assert failing["jinan"]["indicators"]["offsite_backup_share"] == 0.0
        assert failing["qingdao"]["indicators"]["offsite_backup_share"] == 0.0
        assert failing["yantai"]["indicators"]["offsite_backup_share"] is None  # no important/core data
        _offsite_copies(s)
        safe, _ = _rows(s)
        assert safe["jinan"]["indicators"]["offsite_backup_share"] == 1.0
        assert safe["jinan"]["dimensions"]["storage"] > failing["jinan"]["dimensions"]["storage"]
        # economic benefit: 1,000 CNY billed at jn-sc over Jinan's 4 PFLOPS
        _bill(s, "jn-sc", 100_000)
        billed, _ = _rows(s)
        assert billed["jinan"]["indicators"]["billed_cny_per_pflops"] == pytest.approx(250.0)
        assert billed["jinan"]["dimensions"]["compute"] > safe["jinan"]["dimensions"]["compute"]

        # year on year: 2024 against 2023 (nothing measured in 2023)
        rows, out = _rows(s, compare=2023)
        comp = {c["entity"]: c for c in out["comparison"]}
        assert out["compare_year"] == 2023 and set(comp) == set(rows)
        assert comp["qingdao"]["delta"] == pytest.approx(
            comp["qingdao"]["score"] - comp["qingdao"]["base_score"], abs=1e-3
        )
        # 2023 has no job records (application neutral, 50); in 2024 Jinan served an SME without a failure and
        # Zibo served nobody (a measured zero)
        assert comp["jinan"]["dimension_deltas"]["application"] == pytest.approx(40.0)
        assert comp["zibo"]["dimension_deltas"]["application"] == pytest.approx(-30.0)


def test_index_compare_over_http(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import yaml

    from tests.observatory_testnet import small_network_dict

    net = tmp_path / "n.yaml"
    net.write_text(yaml.safe_dump(small_network_dict(), allow_unicode=True), encoding="utf-8")
    with app_client(f"sqlite:///{tmp_path / 'i.db'}", network=net) as c:
        r = c.get("/api/v1/observatory/index", params={"year": 2024, "compare": 2023, "level": "circle"})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["compare_year"] == 2023 and len(body["comparison"]) == 3
        assert set(body["dimension_weights"]) == set(ix.DIMENSIONS)
        assert body["indicator_sources"]["job_success_rate"]["source"] == "measured"
        for bad, field in (({"compare": 2024, "year": 2024}, "query.compare"), ({"compare": 1900}, "query.compare"),
                           ({"compare": 2005, "year": 2024}, "query.compare")):  # fmt: skip
            r = c.get("/api/v1/observatory/index", params=bad)
            assert r.status_code == 422, r.text
            assert field in r.text


def test_worked_example_of_the_docs() -> None:
    """docs/index-method.md §8: the 2024 city index of the small network (equal, minmax, panel = 2024 only),
    without and with measured utilisation, and 2021 against 2020."""
    topo = small_network()
    cities = ix.entities_of(topo, "city")
    rows = {r.entity: r for r in ix.compute_index(ix.yearly_inputs(topo, [2024]), cities).year(2024)}
    assert rows["qingdao"].dimensions["compute"] == pytest.approx(
        100 * (0.5 + 1 + 0.4975 + 0.5 + 0.5) / 5, abs=0.01
    )
    assert rows["qingdao"].score == pytest.approx(0.2 * (59.95 + 66.64 + 52.85 + 87.50 + 50.0), abs=0.01)
    assert rows["qingdao"].score == pytest.approx(63.39, abs=0.005) and rows["qingdao"].rank == 1
    assert rows["jinan"].score == pytest.approx(58.91, abs=0.005) and rows["jinan"].rank == 2
    ent = ix.compute_index(ix.yearly_inputs(topo, [2024]), cities, "entropy").weights.dimensions
    assert [round(ent[d], 3) for d in ix.DIMENSIONS] == [0.327, 0.325, 0.203, 0.144, 0.0]
    m = {2024: {"jn-sc": ix.CenterMeasures(utilisation=0.9), "qd-ai": ix.CenterMeasures(utilisation=0.2)}}
    busy = {r.entity: r for r in ix.compute_index(ix.yearly_inputs(topo, [2024], m), cities).year(2024)}
    assert busy["jinan"].dimensions["compute"] == pytest.approx(70.0)
    assert busy["qingdao"].dimensions["compute"] == pytest.approx(49.95, abs=0.005)
    assert busy["qingdao"].score == pytest.approx(61.39, abs=0.005)
    assert busy["jinan"].score == pytest.approx(60.91, abs=0.005)
    res = ix.compute_index(ix.yearly_inputs(topo, [2020, 2021]), cities)
    yoy = {c.entity: c for c in ix.compare_years(res, 2021, 2020)}
    assert (round(yoy["qingdao"].base_score or 0, 2), round(yoy["qingdao"].score, 2)) == (34.0, 63.34)
    assert yoy["qingdao"].rank_change == -2 and round(yoy["jinan"].delta or 0, 2) == -0.5
