"""The reaper, the off-site backup policy and tiering, with real objects on a real SeaweedFS server: what is
deleted (least recently used, unprotected, never the last copy), which rules the policy makes and the share
of important/core data with a verified off-site copy, and a hot → cold move."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.data import backup, reaper, rule_engine, tiering
from huanghe.data.models import (
    DataFileRow,
    FileReplicaRow,
    ProtectionEntryRow,
    ReplicationRuleRow,
    StorageEndpointRow,
    TransferRow,
)
from huanghe.data.objects import ObjectStore
from huanghe.data.transfer_hooks import on_transfer_done, replica_available
from huanghe.store.db import make_session_factory
from tests.data_world import GB, add_dataset, seed_network
from tests.infra.seaweed import SeaweedServer, store_on


@pytest.fixture
def s(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    from huanghe.store.migrate import migrate

    url = f"sqlite:///{tmp_path_factory.mktemp('lc') / 'd.db'}"
    migrate(url)
    factory: sessionmaker[Session] = make_session_factory(url)
    with factory() as session:
        seed_network(session)
        yield session
    factory.kw["bind"].dispose()


@pytest.fixture
def store(seaweed_servers: list[SeaweedServer]) -> ObjectStore:
    return store_on(seaweed_servers[0])


def _put_objects(s: Session, store: ObjectStore) -> None:
    for rep in s.scalars(select(FileReplicaRow)):
        store.put_bytes(rep.object_key, b"x" * 10)


def _copy(s: Session, store: ObjectStore, file_id: int, endpoint: str, *, accessed_s: float = 0.0) -> None:
    """A replica that a finished transfer would have made: object there, row available and verified."""
    f = s.get(DataFileRow, file_id)
    assert f is not None
    key = f"{endpoint}/{f.dataset_id}/{f.name}"
    store.put_bytes(key, b"x" * 10)
    replica_available(s, f, endpoint, key, now_s=5.0)
    rep = s.get(FileReplicaRow, (file_id, endpoint))
    assert rep is not None
    rep.accessed_s = accessed_s
    s.commit()


def test_reaper_frees_space_least_recently_used_first_and_keeps_last_copies(
    s: Session, store: ObjectStore
) -> None:
    fids = add_dataset(s, "d1", files=4, size_bytes=20 * GB)  # on jn-sc-hot
    for i, fid in enumerate(fids):
        _copy(s, store, fid, "qd-ai-hot", accessed_s=100.0 + i)
    only_here = add_dataset(s, "d2", files=1, size_bytes=15 * GB, at="qd-ai-hot")  # its only copy
    _put_objects(s, store)
    for rep in s.scalars(select(FileReplicaRow).where(FileReplicaRow.endpoint_id == "qd-ai-hot")):
        rep.tombstone_s = 1.0  # nothing protects them
    locked = s.get(FileReplicaRow, (fids[0], "qd-ai-hot"))
    assert locked is not None
    locked.lock_count, locked.tombstone_s = 1, None  # a rule locks the oldest one
    s.commit()
    ep = s.get(StorageEndpointRow, "qd-ai-hot")
    assert ep is not None and ep.used_bytes == 95 * GB  # 5 % free < 10 %
    done = reaper.reap(s, 1000.0, lambda _s, _e: store)
    assert done.deleted == 1 and done.per_endpoint == {"qd-ai-hot": 1}  # the oldest unlocked: file 1
    s.expire_all()
    left = {
        r.file_id for r in s.scalars(select(FileReplicaRow).where(FileReplicaRow.endpoint_id == "qd-ai-hot"))
    }
    assert left == {fids[0], fids[2], fids[3], only_here[0]}
    assert store.head("qd-ai-hot/d1/f1.bin") is None and store.head("qd-ai-hot/d1/f2.bin") is not None
    ep = s.get(StorageEndpointRow, "qd-ai-hot")
    assert ep is not None and ep.used_bytes == 75 * GB
    # greedy: every unprotected copy goes, but never a locked one nor the last copy of a file
    reaper.reap(s, 1000.0, lambda _s, _e: store, greedy=True)
    s.expire_all()
    left = {
        r.file_id for r in s.scalars(select(FileReplicaRow).where(FileReplicaRow.endpoint_id == "qd-ai-hot"))
    }
    assert left == {fids[0], only_here[0]}


def test_backup_policy_makes_offsite_rules_and_reports_the_share(s: Session, store: ObjectStore) -> None:
    imp = add_dataset(s, "imp1", data_class="important", files=2)
    s.add(ProtectionEntryRow(dataset_id="imp1", owner="o", location="jn-sc", allowed_centers=["qd-ai"],
                             purpose="p", created_s=0.0))  # fmt: skip
    add_dataset(s, "core1", data_class="core", files=1)  # nothing listed: may not leave jn-sc
    add_dataset(s, "gen1", files=1)  # general data: no policy
    s.commit()
    before = backup.offsite_status(s)
    assert (before.datasets, before.with_offsite_copy, before.share) == (2, 0, 0.0)
    report = backup.ensure_backup_rules(s, 10.0)
    assert len(report.created) == 2
    assert backup.ensure_backup_rules(s, 11.0).created == []  # idempotent
    rules = {r.dataset_id: r for r in s.scalars(select(ReplicationRuleRow))}
    assert rules["imp1"].expression == "city!=jinan" and rules["imp1"].state == "replicating"
    assert rules["core1"].state == "stuck" and "residency" in rules["core1"].reason
    dests = {(t.file_id, t.dest_endpoint_id) for t in s.scalars(select(TransferRow))}
    assert dests == {(f, "qd-ai-hot") for f in imp}
    # the transfers finish (verified copies): the share follows
    for f in imp:
        _copy(s, store, f, "qd-ai-hot")
        t = s.scalar(select(TransferRow).where(TransferRow.file_id == f))
        assert t is not None
        t.state = "done"
        on_transfer_done(s, t, now_s=20.0)
    s.commit()
    after = backup.offsite_status(s)
    assert (after.with_offsite_copy, after.missing) == (1, ["core1"]) and after.share == 0.5
    assert after.bytes_protected == 2 * GB
    # an unverified copy does not count
    for f in imp:
        rep = s.get(FileReplicaRow, (f, "qd-ai-hot"))
        assert rep is not None
        rep.verified_s = None
    s.commit()
    assert backup.offsite_status(s).with_offsite_copy == 0


def test_tiering_moves_idle_hot_data_to_cold(s: Session, store: ObjectStore) -> None:
    fids = add_dataset(s, "d1", files=2)
    _put_objects(s, store)
    day = 86400.0
    assert tiering.ensure_default_policies(s, 0.0) == 2
    assert tiering.ensure_default_policies(s, 0.0) == 0
    assert tiering.tier_step(s, 10 * day, lambda _s, _e: store).rules_created == []  # not idle long enough
    report = tiering.tier_step(s, 31 * day, lambda _s, _e: store)
    assert len(report.rules_created) == 1
    rule = s.get(ReplicationRuleRow, report.rules_created[0])
    assert rule is not None and rule.expression == "center=jn-sc&tier=cold" and rule.origin == "tiering"
    # jn-sc has no warm tier: hot → warm goes to the circle's warm tier, none here → the rule says so
    costs_before = {c.temperature: c.stored_bytes for c in tiering.tier_costs(s)}
    assert costs_before["hot"] == 2 * GB
    for f in fids:
        _copy(s, store, f, "jn-sc-cold")
        t = s.scalar(
            select(TransferRow).where(TransferRow.file_id == f, TransferRow.dest_endpoint_id == "jn-sc-cold")
        )
        assert t is not None
        t.state = "done"
        on_transfer_done(s, t, now_s=31 * day)
    s.commit()
    rule_engine.evaluate(s, 31 * day, rule_ids=[rule.id])
    s.commit()
    assert s.get(ReplicationRuleRow, rule.id).state == "ok"  # type: ignore[union-attr]
    moved = tiering.tier_step(s, 32 * day, lambda _s, _e: store)
    assert moved.replicas_moved == 2 and moved.bytes_moved == 2 * GB
    assert store.head("jn-sc-hot/d1/f0.bin") is None and store.head("jn-sc-cold/d1/f0.bin") is not None
    costs = {c.temperature: c for c in tiering.tier_costs(s)}
    assert costs["hot"].stored_bytes == 0 and costs["cold"].stored_bytes == 2 * GB
    assert costs["cold"].cost_fen_per_month == 3  # 2 GB × 1.5 fen
