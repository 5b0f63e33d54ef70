"""The transfer service on real SeaweedFS endpoints: copy + verify, retries from another source (a killed
server, a corrupted replica), residency refusals, per-link throttling, priorities, leases, locks."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import select, update

from huanghe.audit.chain import catch_up
from huanghe.audit.models import AuditRow
from huanghe.core.clock import FakeClock
from huanghe.data import transfer_queue as tq
from huanghe.data.models import (
    DatasetRow,
    FileReplicaRow,
    ReplicaLockRow,
    ReplicationRuleRow,
    StorageEndpointRow,
    TransferRow,
)
from huanghe.data.transfers import TransferService, TransferSettings, queue_transfer, retry_transfer
from huanghe.network.models import CenterRow, LinkRow
from tests.transfer_world import TransferWorld  # its fixture tw: registered in tests/conftest.py

NOW = 1_800_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@contextmanager
def service(tw: TransferWorld, clock: FakeClock, **kw: object) -> Iterator[TransferService]:
    svc = TransferService(tw.sf, TransferSettings(**{"retry_delay_s": 0.0, **kw}), clock=clock)  # type: ignore[arg-type]
    try:
        yield svc
    finally:
        svc.close(wait_s=30)


@pytest.fixture
def svc(tw: TransferWorld, clock: FakeClock) -> Iterator[TransferService]:
    with service(tw, clock) as s:
        yield s


def queue(tw: TransferWorld, file_id: int, dest: str, **kw: object) -> int:
    with tw.sf() as s:
        t = queue_transfer(s, file_id, dest, now_s=NOW, **kw)  # type: ignore[arg-type]
        s.commit()
        return t.id


def restart(tw: TransferWorld, i: int) -> None:
    """Restart a killed server in place (the session's list holds the new process, which it stops)."""
    tw.servers[i] = tw.servers[i].restart()


def row(tw: TransferWorld, tid: int) -> TransferRow:
    with tw.sf() as s:
        t = s.get(TransferRow, tid)
        assert t is not None
        return t


def audits(tw: TransferWorld, action: str) -> list[AuditRow]:
    with tw.sf() as s:
        catch_up(s)  # entries written to the inbox (PostgreSQL) are chained first, as every reader does
        return list(s.scalars(select(AuditRow).where(AuditRow.action == action)))


def test_copy_is_verified_and_recorded_once(tw: TransferWorld, svc: TransferService) -> None:
    data = os.urandom(3_000_000)
    f1 = tw.put("ds1", "a.bin", data, ["jn-sc-hot"])
    f2 = tw.put("ds1", "b.bin", b"small", ["jn-sc-hot"])
    t1, t2 = queue(tw, f1, "qd-ai-hot"), queue(tw, f2, "qd-ai-hot")
    assert queue(tw, f1, "qd-ai-hot") == t1  # one live transfer per (file, destination)
    out = svc.run_until_idle()
    assert out == {t1: "done", t2: "done"}
    t = row(tw, t1)
    assert (t.state, t.bytes, t.source_endpoint_id, t.attempts, t.error) == (
        "done",
        3_000_000,
        "jn-sc-hot",
        1,
        "",
    )
    assert t.duration_s is not None and t.duration_s > 0 and t.finished_s == NOW
    # cross-circle (Jinan → Qingdao): 50 fen/GB; 2 Wh/GB; carbon = energy × grid factor of the source center
    assert t.cost_fen == round(0.003 * 50) and t.energy_wh == pytest.approx(0.003 * 2.0)
    with tw.sf() as s:
        grid = s.get(CenterRow, "jn-sc").grid_emission_kg_per_kwh  # type: ignore[union-attr]
        assert t.carbon_g == pytest.approx(t.energy_wh * grid)
        rep = s.get(FileReplicaRow, (f1, "qd-ai-hot"))
        assert rep is not None and rep.state == "available" and rep.verified_s == NOW
        assert rep.object_key == "qd-ai-hot/ds1/a.bin"
        assert s.get(StorageEndpointRow, "qd-ai-hot").used_bytes == 3_000_005  # type: ignore[union-attr]
        assert s.get(DatasetRow, "ds1").replicas == ["qd-ai"]  # type: ignore[union-attr]
    got = tw.stores["qd-ai-hot"].checksum("qd-ai-hot/ds1/a.bin")
    assert got is not None and got.sha256 == hashlib.sha256(data).hexdigest()
    # a transfer whose replica is already there ends at once, nothing counted again
    again = queue(tw, f1, "qd-ai-hot")
    assert again != t1 and svc.run_until_idle() == {again: "done"} and row(tw, again).bytes == 0
    with tw.sf() as s:
        assert s.get(StorageEndpointRow, "qd-ai-hot").used_bytes == 3_000_005  # type: ignore[union-attr]


def test_dead_source_server_then_another_source(tw: TransferWorld, svc: TransferService) -> None:
    data = os.urandom(200_000)
    # qd-ai-hot (server 0) is nearest to yt-edge (same circle, linked); jn-sc-cold is on server 1
    f = tw.put("ds2", "x.bin", data, ["qd-ai-hot", "jn-sc-cold"])
    tid = queue(tw, f, "yt-edge-hot")
    tw.servers[0].kill()
    try:
        out = svc.run_until_idle()
    finally:
        restart(tw, 0)
    t = row(tw, tid)
    assert out[tid] == "done" and t.state == "done"
    assert t.tried_sources == ["qd-ai-hot"] and t.source_endpoint_id == "jn-sc-cold" and t.attempts == 2
    got = tw.stores["yt-edge-hot"].checksum("yt-edge-hot/ds2/x.bin")
    assert got is not None and got.sha256 == hashlib.sha256(data).hexdigest()


def test_corrupted_source_is_detected_marked_bad_and_another_used(
    tw: TransferWorld, svc: TransferService
) -> None:
    data = os.urandom(100_000)
    f = tw.put("ds3", "c.bin", data, ["qd-ai-hot", "jn-sc-cold"], bad_at=("qd-ai-hot",))
    tid = queue(tw, f, "yt-edge-hot")
    assert svc.run_until_idle()[tid] == "done"
    t = row(tw, tid)
    assert t.tried_sources == ["qd-ai-hot"] and t.source_endpoint_id == "jn-sc-cold"
    with tw.sf() as s:
        assert s.get(FileReplicaRow, (f, "qd-ai-hot")).state == "bad"  # type: ignore[union-attr]
    assert [a.subject for a in audits(tw, "replica.bad")] == [f"replica/{f}/qd-ai-hot"]
    got = tw.stores["yt-edge-hot"].checksum("yt-edge-hot/ds3/c.bin")
    assert got is not None and got.sha256 == hashlib.sha256(data).hexdigest()


def _rule_with_lock(tw: TransferWorld, dataset: str, file_id: int, dest: str) -> None:
    with tw.sf() as s:
        s.add(ReplicationRuleRow(id=f"r-{dataset}", dataset_id=dataset, tenant_id="ta", copies=1, expression=dest,
                                 state="replicating", locks_replicating=1, created_s=NOW, updated_s=NOW))  # fmt: skip
        s.flush()
        s.add(ReplicaLockRow(rule_id=f"r-{dataset}", file_id=file_id, endpoint_id=dest, state="replicating"))
        s.commit()


def test_residency_refusal_fails_with_the_reason_audited_and_locks_stuck(
    tw: TransferWorld, svc: TransferService
) -> None:
    f = tw.put("ds4", "secret.bin", b"important bytes", ["jn-sc-hot"], data_class="important")
    _rule_with_lock(tw, "ds4", f, "qd-ai-hot")
    tid = queue(tw, f, "qd-ai-hot")
    assert svc.run_until_idle()[tid] == "failed"
    t = row(tw, tid)
    assert t.state == "failed" and "residency" in t.error and "not an allowed location" in t.error
    assert [a.subject for a in audits(tw, "transfer.refused")] == [f"transfer/{tid}"]
    assert tw.stores["qd-ai-hot"].head("qd-ai-hot/ds4/secret.bin") is None
    with tw.sf() as s:
        assert s.get(FileReplicaRow, (f, "qd-ai-hot")) is None
        lock = s.get(ReplicaLockRow, ("r-ds4", f, "qd-ai-hot"))
        rule = s.get(ReplicationRuleRow, "r-ds4")
        assert lock is not None and lock.state == "stuck" and rule is not None
        assert (rule.state, rule.locks_replicating, rule.locks_stuck) == ("stuck", 0, 1)
        assert "residency" in rule.reason
    # allowed at home center's other tier: the same dataset goes to jn-sc-cold
    tid2 = queue(tw, f, "jn-sc-cold")
    assert svc.run_until_idle()[tid2] == "done"


def test_done_makes_the_rule_ok(tw: TransferWorld, svc: TransferService) -> None:
    f = tw.put("ds5", "a.bin", b"abc" * 1000, ["jn-sc-hot"])
    _rule_with_lock(tw, "ds5", f, "jn-sc-cold")
    tid = queue(tw, f, "jn-sc-cold")
    assert svc.run_until_idle()[tid] == "done"
    with tw.sf() as s:
        rule = s.get(ReplicationRuleRow, "r-ds5")
        assert rule is not None and (rule.state, rule.locks_ok, rule.locks_replicating) == ("ok", 1, 0)
        rep = s.get(FileReplicaRow, (f, "jn-sc-cold"))
        assert rep is not None and rep.lock_count == 1 and rep.tombstone_s is None
    t = row(tw, tid)
    assert t.cost_fen == 0  # two tiers of one center: in-center, free


def test_out_of_attempts_fails_then_retry_by_request(tw: TransferWorld, clock: FakeClock) -> None:
    f = tw.put("ds6", "a.bin", b"x" * 5000, ["qd-ai-hot"])
    _rule_with_lock(tw, "ds6", f, "yt-edge-hot")
    tid = queue(tw, f, "yt-edge-hot", max_attempts=2)
    with service(tw, clock) as svc:
        _out_of_attempts(tw, svc, f, tid)


def _out_of_attempts(tw: TransferWorld, svc: TransferService, f: int, tid: int) -> None:
    tw.servers[0].kill()
    try:
        out = svc.run_until_idle()
        t = row(tw, tid)
        assert out[tid] == "failed" and t.attempts == 2 and t.tried_sources == ["qd-ai-hot"]
        assert "does not answer" in t.error
        assert [a.subject for a in audits(tw, "transfer.fail")] == [f"transfer/{tid}"]
    finally:
        restart(tw, 0)
    with tw.sf() as s:
        assert s.get(ReplicaLockRow, ("r-ds6", f, "yt-edge-hot")).state == "stuck"  # type: ignore[union-attr]
        again = retry_transfer(s, tid, actor="test", now_s=NOW)
        assert (again.state, again.attempts, again.tried_sources) == ("queued", 0, [])
    assert svc.run_until_idle()[tid] == "done"
    with tw.sf() as s:
        assert s.get(ReplicaLockRow, ("r-ds6", f, "yt-edge-hot")).state == "ok"  # type: ignore[union-attr]
        assert s.get(ReplicationRuleRow, "r-ds6").state == "ok"  # type: ignore[union-attr]


def test_verified_object_already_there_is_accepted_without_copying(
    tw: TransferWorld, svc: TransferService
) -> None:
    data = b"already copied by a worker that died before recording it"
    f = tw.put("ds7", "a.bin", data, ["jn-sc-hot"])
    tw.stores["qd-ai-hot"].put_bytes("qd-ai-hot/ds7/a.bin", data)
    tw.stores["jn-sc-hot"].delete("jn-sc-hot/ds7/a.bin")  # a copy would fail: the source object is gone
    tid = queue(tw, f, "qd-ai-hot")
    assert svc.run_until_idle()[tid] == "done"
    assert row(tw, tid).bytes == len(data) and row(tw, tid).attempts == 1


def test_throttle_holds_a_copy_to_its_links_share(tw: TransferWorld, clock: FakeClock) -> None:
    size = 3_000_000
    f = tw.put("ds8", "slow.bin", os.urandom(size), ["qd-ai-hot"])
    with tw.sf() as s:  # qd-ai ↔ yt-edge: 0.016 Gbps = 2 MB/s; share 0.5 → 1 MB/s
        s.execute(
            update(LinkRow)
            .where(LinkRow.a_id == "qd-ai", LinkRow.b_id == "yt-edge")
            .values(bandwidth_gbps=0.016)
        )
        s.commit()
    tid = queue(tw, f, "yt-edge-hot")
    with service(tw, clock, link_share=0.5, burst_s=0.1) as svc:
        _throttled(tw, svc, tid, size)


def _throttled(tw: TransferWorld, svc: TransferService, tid: int, size: int) -> None:
    assert svc.run_until_idle()[tid] == "done"
    rate = 0.016e9 / 8 * 0.5
    took = row(tw, tid).duration_s
    assert took is not None and took >= (size - 0.1 * rate) / rate  # ≥ 2.9 s
    # the same copy on the unthrottled in-center path is much faster (the bound above is the throttle's)
    f2 = tw.put("ds8", "fast.bin", os.urandom(size), ["jn-sc-hot"])
    t2 = queue(tw, f2, "jn-sc-cold")
    assert svc.run_until_idle()[t2] == "done"
    assert row(tw, t2).duration_s < took / 2  # type: ignore[operator]


def test_priorities_and_exclusive_leases(tw: TransferWorld) -> None:
    fids = [tw.put("ds9", f"f{i}", b"p", ["jn-sc-hot"]) for i in range(40)]
    with tw.sf() as s:
        for i, f in enumerate(fids):
            queue_transfer(s, f, "qd-ai-hot" if i % 2 else "jn-sc-cold", now_s=NOW + i, priority=1 + i % 5)
        s.commit()
    with tw.sf() as s:
        first = tq.lease(s, "w0", now_s=NOW, lease_s=30, limit=4, per_endpoint=100)
        prios = [s.get(TransferRow, i).priority for i in first]  # type: ignore[union-attr]
    assert prios == [5, 5, 5, 5]
    got: dict[str, list[int]] = {}

    def grab(owner: str) -> None:
        with tw.sf() as s:
            got[owner] = tq.lease(s, owner, now_s=NOW, lease_s=30, limit=40, per_endpoint=100)

    threads = [threading.Thread(target=grab, args=(f"w{i}",)) for i in range(1, 4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    leased = [t for ids in got.values() for t in ids]
    assert len(leased) == len(set(leased)) == 36 and not set(leased) & set(first)
    with tw.sf() as s:
        assert tq.lease(s, "late", now_s=NOW + 29, lease_s=30, limit=40, per_endpoint=100) == []
        # the leases expire: recovery re-queues them, another worker takes them
        assert tq.requeue_expired(s, NOW + 31) == 40
        assert (
            len(tq.lease(s, "late", now_s=NOW + 31, lease_s=30, limit=40, per_endpoint=3)) == 6
        )  # 3 per dest


def test_the_server_runs_the_transfer_loop_in_its_lifespan(tw: TransferWorld) -> None:
    from fastapi.testclient import TestClient

    from huanghe.api.app import create_app
    from huanghe.settings import Settings

    url = tw.sf.kw["bind"].url.render_as_string(hide_password=False)
    data = os.urandom(50_000)
    f = tw.put("ds10", "a.bin", data, ["jn-sc-hot"])
    tid = queue(tw, f, "jn-sc-cold")
    app = create_app(Settings(database_url=url, migrate_on_startup=False, dev_mode=True))
    with TestClient(app) as client:
        assert app.state.transfer_loop is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            t = client.get(f"/api/v1/transfers/{tid}").json()
            if t["state"] == "done":
                break
            time.sleep(0.1)
        assert t["state"] == "done" and t["bytes"] == len(data) and t["source_endpoint"] == "jn-sc-hot"
    assert not app.state.transfer_loop._thread.is_alive()  # stopped with the app
