"""Faults of issue #13 (deliverable 8) with rules, the rule engine and the transfer service on real SeaweedFS:

* an endpoint's server is killed during a transfer: the transfer fails, the rule goes STUCK with the reason;
  when the server returns, the repairer copies again and the rule is OK (the bytes verified);
* a stored object is corrupted: reading it detects the mismatch (the replica is marked bad, never served) and
  the rule's repairer copies it again from the good source;
* an endpoint is full: the rule picks another that qualifies, or says why none does.

Endpoints (tests/transfer_world.py): ``jn-sc-hot``, ``qd-ai-hot`` on server 0; ``yt-edge-hot``, ``jn-sc-cold`` on
server 1.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from huanghe.core.clock import FakeClock
from huanghe.data import files, rule_engine, rules
from huanghe.data.models import FileReplicaRow, ReplicationRuleRow, StorageEndpointRow, TransferRow
from huanghe.data.objects import ObjectStoreError
from huanghe.data.rule_schemas import RuleCreate
from huanghe.data.transfers import TransferService, TransferSettings
from tests.transfer_world import TransferWorld  # its fixture tw: registered in tests/conftest.py

NOW = 1_800_000_000.0


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(NOW)


@pytest.fixture
def svc(tw: TransferWorld, clock: FakeClock) -> Iterator[TransferService]:
    # jn-sc ↔ yt-edge have no link: 0.064 Gbps assumed, half for transfers → 4 MB/s (a copy takes seconds)
    s = TransferService(
        tw.sf, TransferSettings(retry_delay_s=0.0, max_attempts=2, unlinked_gbps=0.064), clock=clock
    )
    try:
        yield s
    finally:
        s.close(wait_s=30)


def add_rule(tw: TransferWorld, dataset: str, copies: int, expression: str) -> str:
    with tw.sf() as s:
        return rules.add_rule(
            s, RuleCreate(dataset=dataset, copies=copies, expression=expression), actor="test"
        ).id


def rule(tw: TransferWorld, rid: str) -> ReplicationRuleRow:
    with tw.sf() as s:
        r = s.get(ReplicationRuleRow, rid)
        assert r is not None
        return r


def engine_step(tw: TransferWorld, now: float, *, repair: bool = False) -> None:
    """What the data loop does each tick: evaluate (and, when due, repair) the rules."""
    with tw.sf() as s:
        if repair:
            rule_engine.repair(s, now)
        rule_engine.evaluate(s, now)
        s.commit()


def drain(tw: TransferWorld, svc: TransferService, clock: FakeClock, tid: int, rounds: int = 10) -> str:
    """Run the service (the clock moving past retry delays) until transfer ``tid`` ends; its state."""
    state = ""
    for _ in range(rounds):
        svc.run_until_idle()
        with tw.sf() as s:
            t = s.get(TransferRow, tid)
            assert t is not None
            state = t.state
        if state in ("done", "failed"):
            break
        clock.advance(10.0)
    return state


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def test_endpoint_killed_during_a_transfer_makes_the_rule_stuck_then_repaired(
    tw: TransferWorld, svc: TransferService, clock: FakeClock
) -> None:
    data = os.urandom(12 * 1024 * 1024)  # about 3 s at 4 MB/s
    f = tw.put("k1", "big.bin", data, ["jn-sc-hot"])
    rid = add_rule(tw, "k1", 1, "yt-edge-hot")  # server 1
    assert rule(tw, rid).state == "replicating"
    rep = svc.step()
    assert len(rep.leased) == 1
    (tid,) = rep.leased
    time.sleep(1.0)  # the copy is under way
    with tw.sf() as s:
        t = s.get(TransferRow, tid)
        assert t is not None and t.state == "active"
    tw.servers[1].kill()
    try:
        assert drain(tw, svc, clock, tid) == "failed"
        r = rule(tw, rid)
        assert r.state == "stuck" and r.locks_stuck == 1, (r.state, r.reason)
        assert r.reason, "a STUCK rule says why"
        # the repairer cannot do anything while the only qualifying endpoint is down: the rule stays STUCK
    finally:
        tw.servers[1] = tw.servers[1].restart()
    clock.advance(60)
    engine_step(tw, clock.now_s(), repair=True)
    with tw.sf() as s:
        (again,) = s.scalars(
            select(TransferRow.id).where(TransferRow.file_id == f, TransferRow.state == "queued")
        )
    assert drain(tw, svc, clock, again) == "done"
    engine_step(tw, clock.now_s())
    r = rule(tw, rid)
    assert (r.state, r.locks_ok, r.locks_stuck) == ("ok", 1, 0), r.reason
    with tw.sf() as s:
        rep_row = s.get(FileReplicaRow, (f, "yt-edge-hot"))
        assert rep_row is not None and rep_row.state == "available"
        done = s.scalars(
            select(TransferRow).where(TransferRow.file_id == f, TransferRow.state == "done")
        ).all()
        assert len(done) == 1 and done[0].bytes == len(data)
    got = tw.stores["yt-edge-hot"].checksum("yt-edge-hot/k1/big.bin")
    assert got is not None and got.sha256 == sha(data)


def test_corrupted_object_is_detected_never_served_and_repaired_from_the_good_copy(
    tw: TransferWorld, svc: TransferService
) -> None:
    data = os.urandom(300_000)
    f = tw.put("c1", "x.bin", data, ["jn-sc-hot", "yt-edge-hot"])
    rid = add_rule(tw, "c1", 2, "jn-sc-hot|yt-edge-hot")
    assert rule(tw, rid).state == "ok"
    store = tw.stores["yt-edge-hot"]
    store.client.put_object(Bucket=store.access.bucket, Key="yt-edge-hot/c1/x.bin", Body=b"rotten" + data[6:],
                            Metadata={"sha256": sha(data)})  # fmt: skip
    with tw.sf() as s:  # read the corrupt copy first (it is the most recently verified one)
        s.get(FileReplicaRow, (f, "yt-edge-hot")).verified_s = NOW  # type: ignore[union-attr]
        s.commit()
        dl = files.open_download(s, "c1", "x.bin")
    assert dl.endpoint_id == "yt-edge-hot"
    with pytest.raises(ObjectStoreError) as err:
        b"".join(files.verified_stream(dl, tw.sf))
    assert err.value.reason == "checksum"
    with tw.sf() as s:
        assert s.get(FileReplicaRow, (f, "yt-edge-hot")).state == "bad"  # type: ignore[union-attr]
        assert (
            files.open_download(s, "c1", "x.bin").endpoint_id == "jn-sc-hot"
        )  # only the good copy is served
    engine_step(tw, NOW + 60, repair=True)
    assert svc.run_until_idle()
    engine_step(tw, NOW + 61)
    r = rule(tw, rid)
    assert (r.state, r.locks_ok) == ("ok", 2), r.reason
    with tw.sf() as s:
        rep_row = s.get(FileReplicaRow, (f, "yt-edge-hot"))
        assert rep_row is not None and rep_row.state == "available"
        (t,) = s.scalars(select(TransferRow).where(TransferRow.file_id == f)).all()
        assert (t.state, t.source_endpoint_id, t.dest_endpoint_id) == ("done", "jn-sc-hot", "yt-edge-hot")
    got = store.checksum("yt-edge-hot/c1/x.bin")
    assert got is not None and got.sha256 == sha(data)


def test_full_endpoint_the_rule_picks_another_or_says_why(tw: TransferWorld, svc: TransferService) -> None:
    data = os.urandom(200_000)
    tw.put("f1", "a.bin", data, ["qd-ai-hot"])
    with tw.sf() as s:
        ep = s.get(StorageEndpointRow, "yt-edge-hot")
        assert ep is not None
        ep.capacity_bytes = ep.used_bytes + 1000  # full for this file
        s.commit()
    rid = add_rule(tw, "f1", 1, "yt-edge-hot|jn-sc-cold")
    assert svc.run_until_idle()
    engine_step(tw, NOW + 1)
    r = rule(tw, rid)
    assert r.state == "ok", r.reason
    with tw.sf() as s:
        held = {
            e
            for (e,) in s.execute(
                select(FileReplicaRow.endpoint_id).where(FileReplicaRow.state == "available")
            )
        }
        assert "jn-sc-cold" in held and "yt-edge-hot" not in held
    # nothing qualifying has room: the rule is STUCK and says which endpoints are full
    tw.put("f2", "b.bin", data, ["qd-ai-hot"])
    with tw.sf() as s:
        cold = s.get(StorageEndpointRow, "jn-sc-cold")
        assert cold is not None
        cold.capacity_bytes = cold.used_bytes + 1000
        s.commit()
    rid2 = add_rule(tw, "f2", 1, "yt-edge-hot|jn-sc-cold")
    r2 = rule(tw, rid2)
    assert r2.state == "stuck" and "full" in r2.reason.lower(), r2.reason
