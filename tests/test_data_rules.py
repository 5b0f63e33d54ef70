"""Replication rules on the database: creation checks, evaluation (locks, transfers, states), quotas and
space, residency, lifetime and release, suspend/resume, the repairer — Rucio's rule scenarios as the
checklist (rule × grouping × copies, too few endpoints, quota, lifetime, stuck → repaired)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.clock import FakeClock
from huanghe.core.errors import InvalidError, NotFoundError
from huanghe.data import rule_engine, rules
from huanghe.data.models import (
    DataQuotaRow,
    FileReplicaRow,
    ProtectionEntryRow,
    ReplicaLockRow,
    ReplicationRuleRow,
    StorageEndpointRow,
    TransferRow,
)
from huanghe.data.rule_schemas import RuleCreate
from huanghe.store.db import make_session_factory
from tests.data_world import GB, add_dataset, seed_network


@pytest.fixture
def s(migrated_url: str) -> Iterator[Session]:
    factory: sessionmaker[Session] = make_session_factory(migrated_url)
    with factory() as session:
        seed_network(session)
        yield session
    factory.kw["bind"].dispose()


def _rule(s: Session, ds: str, copies: int, expr: str, clock: FakeClock | None = None, **kw: object) -> str:
    body = RuleCreate(dataset=ds, copies=copies, expression=expr, **kw)
    return rules.add_rule(s, body, actor="ta-user", clock=clock or FakeClock(1000.0)).id


def _transfers(s: Session, rule_id: str) -> list[tuple[int, str]]:
    rows = s.execute(
        select(TransferRow.file_id, TransferRow.dest_endpoint_id).where(TransferRow.rule_id == rule_id)
    )
    return sorted((int(f), str(e)) for f, e in rows)


def test_rule_already_met_is_ok_without_transfers(s: Session) -> None:
    add_dataset(s, "d1")
    rid = _rule(s, "d1", 1, "city=jinan&tier=hot")
    r = rules.get_rule(s, rid)
    assert (r.state, r.locks_ok, r.locks_replicating) == ("ok", 2, 0)
    assert _transfers(s, rid) == []
    reps = s.scalars(select(FileReplicaRow)).all()
    assert all(x.lock_count == 1 and x.tombstone_s is None for x in reps)


def test_two_copies_grouped_queue_transfers_to_one_more_endpoint(s: Session) -> None:
    fids = add_dataset(s, "d1", files=3)
    rid = _rule(s, "d1", 2, "tier=hot")
    r = rules.get_rule(s, rid)
    assert r.state == "replicating" and r.locks_ok == 3 and r.locks_replicating == 3
    moved = _transfers(s, rid)
    dests = {e for _, e in moved}
    assert len(dests) == 1 and dests < {"qd-ai-hot", "yt-edge-hot"}  # grouping all: the same endpoint
    assert sorted(f for f, _ in moved) == sorted(fids)
    # evaluating again queues nothing new (idempotent)
    rep = rule_engine.evaluate(s, 1001.0, rule_ids=[rid])
    s.commit()
    assert rep.transfers_queued == 0 and len(_transfers(s, rid)) == 3


def test_grouping_none_spreads_files(s: Session) -> None:
    add_dataset(s, "d1", files=6, size_bytes=30 * GB, at=None)  # no copy yet anywhere; 100 GB per endpoint
    rid = _rule(s, "d1", 1, "tier=hot", grouping="none")
    per_dest: dict[str, int] = {}
    for _, e in _transfers(s, rid):
        per_dest[e] = per_dest.get(e, 0) + 1
    assert (
        sum(per_dest.values()) == 6 and len(per_dest) >= 2 and max(per_dest.values()) <= 3
    )  # space: 3 × 30 GB


def test_too_few_endpoints_is_refused_with_the_count(s: Session) -> None:
    add_dataset(s, "d1")
    with pytest.raises(InvalidError) as err:
        _rule(s, "d1", 3, "circle=jiaodong")
    text = str(err.value.errors[0])
    assert "expression" in text and "2 endpoint(s) match" in text and "3 copies" in text
    with pytest.raises(InvalidError) as err:
        _rule(s, "d1", 1, "circle=jiaodong&(tier=hot")
    assert "expression" in str(err.value.errors[0])
    with pytest.raises(InvalidError) as err:
        _rule(s, "d1", 1, "tier=hot", weight="nonsense")
    assert "weight" in str(err.value.errors[0])
    with pytest.raises(NotFoundError):
        _rule(s, "nope", 1, "tier=hot")
    assert s.scalar(select(func.count()).select_from(ReplicationRuleRow)) == 0


def test_full_endpoints_make_the_rule_stuck_with_the_reason(s: Session) -> None:
    add_dataset(s, "d1", files=2, size_bytes=40 * GB)  # 80 GB together (grouping all)
    for eid in ("qd-ai-hot", "yt-edge-hot"):
        ep = s.get(StorageEndpointRow, eid)
        assert ep is not None
        ep.used_bytes = 90 * GB  # 10 GB free each
    s.commit()
    rid = _rule(s, "d1", 2, "tier=hot")
    r = rules.get_rule(s, rid)
    assert r.state == "stuck" and "full" in r.reason.lower()
    # space is freed: the repairer places it
    for eid in ("qd-ai-hot",):
        ep = s.get(StorageEndpointRow, eid)
        assert ep is not None
        ep.used_bytes = 0
    s.commit()
    rule_engine.repair(s, 2000.0)
    rule_engine.evaluate(s, 2000.0)
    s.commit()
    r = rules.get_rule(s, rid)
    assert r.state == "replicating", r.reason
    assert {e for _, e in _transfers(s, rid)} == {"qd-ai-hot"}


def test_quota_limits_new_copies(s: Session) -> None:
    add_dataset(s, "d1", files=2, size_bytes=10 * GB)
    s.add(DataQuotaRow(tenant_id="ta", endpoint_id="qd-ai-hot", limit_bytes=5 * GB))
    s.add(DataQuotaRow(tenant_id="ta", endpoint_id="yt-edge-hot", limit_bytes=5 * GB))
    s.commit()
    rid = _rule(s, "d1", 2, "tier=hot")
    r = rules.get_rule(s, rid)
    assert r.state == "stuck" and "quota" in r.reason.lower()
    assert _transfers(s, rid) == []
    # another tenant's quota is not ours
    add_dataset(s, "d2", tenant="tb", files=1, size_bytes=10 * GB)
    rid2 = _rule(s, "d2", 2, "tier=hot")
    assert rules.get_rule(s, rid2).state == "replicating"


def test_residency_refuses_a_rule_that_needs_forbidden_endpoints_and_audits_it(s: Session) -> None:
    add_dataset(s, "core1", data_class="core")  # core: home center only, nothing listed
    with pytest.raises(InvalidError) as err:
        _rule(s, "core1", 1, "city=qingdao")
    assert "may not be copied" in str(err.value.errors[0])
    from huanghe.audit.chain import catch_up
    from huanghe.audit.models import AuditRow

    catch_up(s)  # entries written to the inbox (PostgreSQL) are chained first, as every reader does
    assert s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "rule.refused")) == 1
    # important data with a catalog entry: only its allowed centers are used, whatever the expression says
    add_dataset(s, "imp1", data_class="important")
    s.add(ProtectionEntryRow(dataset_id="imp1", owner="o", location="jn-sc", allowed_centers=["yt-edge"],
                             purpose="p", created_s=0.0))  # fmt: skip
    s.commit()
    rid = _rule(s, "imp1", 2, "tier=hot")
    assert {e for _, e in _transfers(s, rid)} == {"yt-edge-hot"}


def test_lifetime_expiry_releases_locks_and_tombstones(s: Session) -> None:
    add_dataset(s, "d1")
    rid = _rule(s, "d1", 1, "jn-sc-hot", lifetime_s=60.0)
    assert s.scalar(select(func.count()).select_from(ReplicaLockRow)) == 2
    assert rules.expire_rules(s, 1030.0) == 0
    assert rules.expire_rules(s, 1061.0) == 1
    assert s.get(ReplicationRuleRow, rid) is None
    assert s.scalar(select(func.count()).select_from(ReplicaLockRow)) == 0
    assert all(r.lock_count == 0 and r.tombstone_s == 1061.0 for r in s.scalars(select(FileReplicaRow)))


def test_two_rules_share_a_replica_and_deleting_one_keeps_it_protected(s: Session) -> None:
    add_dataset(s, "d1")
    a = _rule(s, "d1", 1, "jn-sc-hot")
    b = _rule(s, "d1", 1, "city=jinan&tier=hot")
    assert all(r.lock_count == 2 for r in s.scalars(select(FileReplicaRow)))
    rules.delete_rule(s, a, actor="ta-user", clock=FakeClock(2000.0))
    reps = s.scalars(select(FileReplicaRow)).all()
    assert all(r.lock_count == 1 and r.tombstone_s is None for r in reps)
    assert rules.get_rule(s, b).state == "ok"


def test_delete_cancels_queued_transfers(s: Session) -> None:
    add_dataset(s, "d1")
    rid = _rule(s, "d1", 2, "tier=hot")
    assert len(_transfers(s, rid)) == 2
    rules.delete_rule(s, rid, actor="ta-user", clock=FakeClock(2000.0))
    states = set(s.scalars(select(TransferRow.state)))
    assert states == {"failed"}


def test_suspend_and_resume(s: Session) -> None:
    add_dataset(s, "d1")
    rid = _rule(s, "d1", 1, "jn-sc-hot")
    assert rules.set_suspended(s, rid, True, actor="admin").state == "suspended"
    assert rule_engine.evaluate(s, 3000.0).rules == 0
    assert rules.set_suspended(s, rid, False, actor="admin").state == "ok"


def test_rule_on_weight_prefers_heavier(s: Session) -> None:
    add_dataset(s, "d1", files=1, at=None)
    for eid, w in (("qd-ai-hot", 1), ("yt-edge-hot", 1000)):
        ep = s.get(StorageEndpointRow, eid)
        assert ep is not None
        ep.attributes = {"bandwidth": w}
    s.commit()
    picks = {e for _, e in _transfers(s, _rule(s, "d1", 1, "circle=jiaodong", weight="bandwidth"))}
    assert picks == {"yt-edge-hot"}  # 1000:1 (seeded choice)
    # endpoints without a positive weight do not qualify
    with pytest.raises(InvalidError):
        _rule(s, "d1", 1, "city=jinan", weight="bandwidth")
