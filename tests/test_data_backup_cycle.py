"""One repair cycle of the data services on real SeaweedFS endpoints: the illustrative scenario's important
and core datasets get off-site backup rules, the transfers copy and verify them, and every one of them ends
with a verified off-site copy (the plan's 100 % coverage); general data is left alone."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.data import backup
from huanghe.data.loop import DataLoop, DataLoopSettings
from huanghe.data.models import ReplicationRuleRow, TransferRow
from huanghe.data.scenario import seed_scenario
from huanghe.data.transfers import TransferService
from huanghe.network import secrets
from huanghe.store.db import make_session_factory
from huanghe.store.migrate import migrate
from tests.data_world import real_endpoints, seed_network
from tests.infra.seaweed import SeaweedServer


@pytest.fixture
def factory(tmp_path: Path, seaweed_servers: list[SeaweedServer]) -> Iterator[sessionmaker[Session]]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(secrets.KEY_ENV, Fernet.generate_key().decode())
        url = f"sqlite:///{tmp_path / 'b.db'}"
        migrate(url)
        f: sessionmaker[Session] = make_session_factory(url)
        with f() as s:
            seed_network(s)
            real_endpoints(s, list(seaweed_servers))
        yield f
        f.kw["bind"].dispose()


def test_one_cycle_gives_every_protected_dataset_a_verified_offsite_copy(
    factory: sessionmaker[Session],
) -> None:
    with factory() as s:
        sc = seed_scenario(s, tenants=2, per_class={"general": 1, "important": 3, "core": 2}, file_bytes=4096)
        before = backup.offsite_status(s)
    assert (before.datasets, before.with_offsite_copy) == (5, 0)
    loop = DataLoop(factory, DataLoopSettings())
    now = time.time()
    loop.tick(now)  # backup policy: rules and transfers
    assert loop.errors == {}, loop.errors
    TransferService(factory).run_until_idle()
    loop.tick(now + 1)  # evaluation: rules OK
    with factory() as s:
        after = backup.offsite_status(s)
        states = dict(s.execute(select(ReplicationRuleRow.dataset_id, ReplicationRuleRow.state)).all())
        failed = s.scalar(select(func.count()).select_from(TransferRow).where(TransferRow.state != "done"))
    assert after.share == 1.0 and after.missing == [], (after, states)
    assert set(states) == set(sc.datasets["important"]) | set(sc.datasets["core"])  # general data has no rule
    assert set(states.values()) == {"ok"} and failed == 0
