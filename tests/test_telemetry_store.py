"""Telemetry storage on SQLite and PostgreSQL: ingest, rollups (5 min from raw, hourly from 5 min),
retention, alert life cycle in the database, platform jobs driving the simulated load."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from huanghe.catalog.topology import load_topology
from huanghe.core.errors import InvalidError
from huanghe.network import topology_store as topology_store
from huanghe.observatory.alert_rules import AlertThresholds
from huanghe.telemetry import alerts
from huanghe.telemetry import rollup as telemetry_rollup
from huanghe.telemetry import service as telemetry
from huanghe.telemetry.models import TelemetryRollupRow, TelemetrySampleRow
from huanghe.telemetry.runtime import TelemetryRuntime
from huanghe.telemetry.settings import TelemetrySettings
from tests.telemetry_support import MINI, T0_MS, sample

MIN = 60_000
HOUR = 3_600_000
DAY = 86_400_000


@pytest.fixture
def factory(session_factory: sessionmaker[Session]) -> sessionmaker[Session]:
    with session_factory() as s:
        topology_store.import_topology(s, load_topology(str(MINI)))
    return session_factory


def _push(s: Session, *samples: dict, now_ms: int = T0_MS) -> int:
    return telemetry.ingest(s, {"samples": list(samples)}, now_ms).accepted


def test_ingest_rollup_and_read(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        # two 5-minute buckets in one hour: 04:00-04:05 (1.2, 1.4) and 04:05-04:10 (1.6)
        n = _push(
            s,
            sample("jn-sc", "pue", 1.2, "ratio", T0_MS),
            sample("jn-sc", "pue", 1.4, "ratio", T0_MS + 2 * MIN),
            sample("jn-sc", "pue", 1.6, "ratio", T0_MS + 6 * MIN),
            sample("qd-ai", "pue", 1.3, "ratio", T0_MS),
            now_ms=T0_MS + 10 * MIN,
        )
        assert n == 4
        written = telemetry_rollup.rollup(s, T0_MS, T0_MS + 10 * MIN)
        s.commit()
        assert written == {"5m": 3, "1h": 2}
        five = telemetry.read_series(s, metric="pue", center="jn-sc", step="5m")
        assert [(p.mean, p.min, p.max, p.count) for p in five.points] == [
            (pytest.approx(1.3), 1.2, 1.4, 2), (1.6, 1.6, 1.6, 1)
        ]  # fmt: skip
        (hour,) = telemetry.read_series(s, metric="pue", center="jn-sc", step="1h").points
        assert hour.mean == pytest.approx((1.2 + 1.4 + 1.6) / 3) and hour.count == 3 and hour.max == 1.6
        # recomputing the same range replaces, never duplicates
        telemetry_rollup.rollup(s, T0_MS, T0_MS + 10 * MIN)
        s.commit()
        assert s.scalar(select(func.count()).select_from(TelemetryRollupRow)) == 5
        # raw read window and limit
        raw = telemetry.read_series(s, metric="pue", start_ms=T0_MS + MIN, end_ms=T0_MS + 7 * MIN, limit=1)
        assert raw.truncated and [p.value for p in raw.points] == [1.4]


def test_hourly_survives_raw_retention(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        old = T0_MS - 10 * DAY
        _push(s, sample("jn-sc", "pue", 1.25, "ratio", old), sample("jn-sc", "pue", 1.3, "ratio", T0_MS))
        telemetry_rollup.rollup(s, old, old + HOUR)
        telemetry_rollup.rollup(s, T0_MS, T0_MS + MIN)
        deleted = telemetry_rollup.apply_retention(s, T0_MS, raw_days=7, rollup_5m_days=5, rollup_1h_days=30)
        s.commit()
        assert deleted == {"raw": 1, "5m": 1, "1h": 0}
        assert [p.value for p in telemetry.read_series(s, metric="pue").points] == [1.3]
        hours = telemetry.read_series(s, metric="pue", step="1h").points
        assert [p.mean for p in hours] == [1.25, 1.3]
        # recomputing a range whose raw samples are gone keeps its rollups
        assert telemetry_rollup.rollup(s, old, T0_MS + MIN)["1h"] == 1
        s.commit()
        assert [p.mean for p in telemetry.read_series(s, metric="pue", step="1h").points] == [1.25, 1.3]
        assert telemetry_rollup.rollup(s, old - DAY, old + HOUR) == {"5m": 0, "1h": 0}


def test_batch_refused_whole_in_the_database(factory: sessionmaker[Session]) -> None:
    with factory() as s:
        with pytest.raises(InvalidError) as err:
            _push(s, sample("jn-sc", "pue", 1.3, "ratio"), sample("jn-sc", "pue", 0.5, "ratio"))
        assert [e.path for e in err.value.errors] == ["samples[1].value"]
        assert s.scalar(select(func.count()).select_from(TelemetrySampleRow)) == 0


def test_alert_life_cycle_in_the_database(factory: sessionmaker[Session]) -> None:
    th = AlertThresholds()
    with factory() as s:
        _push(s, sample("jn-sc", "utilisation", 0.97, "ratio", pool="jn-sc-cpu"))
        first = alerts.evaluate(s, T0_MS, th)
        assert (first.opened, first.refreshed, first.resolved) == (1, 0, 0)
        _push(
            s,
            sample("jn-sc", "utilisation", 0.99, "ratio", T0_MS + MIN, pool="jn-sc-cpu"),
            now_ms=T0_MS + MIN,
        )
        again = alerts.evaluate(s, T0_MS + MIN, th)
        assert (again.opened, again.refreshed) == (0, 1)  # deduplicated
        (alert,) = alerts.list_alerts(s, "open").items
        assert alert.subject == "pool:jn-sc-cpu" and alert.value == 0.99 and alert.center == "jn-sc"
        alerts.acknowledge(s, alert.id, T0_MS + 2 * MIN)
        assert alerts.list_alerts(s, "acknowledged").total == 1
        _push(
            s,
            sample("jn-sc", "utilisation", 0.4, "ratio", T0_MS + 3 * MIN, pool="jn-sc-cpu"),
            now_ms=T0_MS + 3 * MIN,
        )
        cleared = alerts.evaluate(s, T0_MS + 3 * MIN, th)
        assert cleared.resolved == 1
        done = alerts.get_alert(s, alert.id)
        assert done.state == "resolved" and done.resolved_by == "auto" and done.acknowledged_at is not None
        assert alerts.count_by_state(s) == {"open": 0, "acknowledged": 0, "resolved": 1}


def test_platform_jobs_drive_simulated_load(factory: sessionmaker[Session]) -> None:
    from huanghe.jobs.models import JobRow

    def job(ident: str, state: str, nodes: int) -> JobRow:
        return JobRow(id=ident, name=ident, spec={}, cpus=1, gpus=0, mem_gb=1, nodes=nodes, state=state,
                      pool_id="jn-sc-cpu", center_id="jn-sc", submit_s=0.0, updated_s=0.0)  # fmt: skip

    rt = TelemetryRuntime(factory, TelemetrySettings(seed=3), clock=lambda: T0_MS / 1000)
    with factory() as s:
        assert telemetry.busy_share(s) == {}
        nodes = s.scalar(text("SELECT nodes FROM pools WHERE id = 'jn-sc-cpu'"))
    rt.generate()
    with factory() as s:
        s.add_all(
            [job("j1", "RUNNING", nodes // 2), job("j2", "PENDING", nodes), job("j3", "SUCCEEDED", nodes)]
        )
        s.commit()
        assert telemetry.busy_share(s) == {"jn-sc-cpu": pytest.approx((nodes // 2) / nodes)}
    n = rt.generate(T0_MS + 1000)  # same simulated background one second later, plus the platform's job
    assert n > 0
    with factory() as s:
        series = telemetry.read_series(s, metric="utilisation", center="jn-sc", subject="jn-sc-cpu").points
        assert [p.source for p in series] == ["simulated", "simulated"]
        before, after = series[0].value, series[1].value
        assert after is not None and before is not None
        assert after == pytest.approx(min(1.0, before + (nodes // 2) / nodes), abs=0.1)
        assert after > before


def test_late_history_is_rolled_up_at_push_and_drives_pue_jump(factory: sessionmaker[Session]) -> None:
    week = [sample("qd-ai", "pue", 1.30, "ratio", T0_MS - h * HOUR) for h in range(3, 7 * 24)]
    other = sample("jn-sc", "pue", 1.25, "ratio", T0_MS - 5 * HOUR)
    with factory() as s:
        assert _push(s, *week, other) == len(week) + 1
        hours = telemetry.read_series(s, metric="pue", center="qd-ai", step="1h", limit=1000).points
        assert len(hours) == len(week) and all(p.mean == 1.30 for p in hours)
        # a later batch of one series re-rolls only that series
        _push(s, sample("qd-ai", "pue", 1.50, "ratio", T0_MS - 5 * HOUR))
        (jn,) = telemetry.read_series(s, metric="pue", center="jn-sc", step="1h").points
        assert jn.mean == 1.25 and jn.count == 1
        five_h = [p for p in telemetry.read_series(s, metric="pue", center="qd-ai", step="1h", limit=1000).points
                  if p.time.timestamp() * 1000 == T0_MS - 5 * HOUR]  # fmt: skip
        assert five_h[0].count == 2 and five_h[0].mean == pytest.approx(1.40)
        # now a jump: 1.45 against a 7-day mean of ~1.30
        _push(s, sample("qd-ai", "pue", 1.45, "ratio", T0_MS))
        telemetry_rollup.rollup(s, T0_MS - HOUR, T0_MS)
        s.commit()
        summary = alerts.evaluate(s, T0_MS)
        (alert,) = alerts.list_alerts(s, "open").items
        assert summary.opened == 1 and alert.rule == "pue_jump" and alert.subject == "center:qd-ai"
        assert alert.threshold == pytest.approx(1.40, abs=0.01)
