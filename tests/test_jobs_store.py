"""The submission path on SQLite and PostgreSQL: batch inserts (COPY on PostgreSQL) read back intact, group
commit answers every request, idempotency keys hold under concurrency."""

from __future__ import annotations

import threading
from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from huanghe.jobs import service as svc
from huanghe.jobs.models import IdempotencyKeyRow, JobEventRow, JobRow


def test_batch_rows_read_back(session_factory: sessionmaker[Session]) -> None:
    subs = [
        svc.JobSubmit(command=f"echo {i}", cpus=1 + i % 3, env={"K": "v'\t\\"}, name=f"n{i}", priority=i % 2)
        for i in range(200)
    ]
    with session_factory() as s:
        items, created = svc.submit_jobs(s, subs, batch=True)
    assert created and len(items) == 200
    with session_factory() as s:
        rows = {r.id: r for r in s.scalars(select(JobRow))}
        assert len(rows) == 200
        first = rows[items[7]["id"]]
        assert first.spec["command"] == "echo 7" and first.spec["env"] == {"K": "v'\t\\"}
        assert first.cpus == 2 and first.state == "PENDING" and first.excluded_centers == []
        assert first.cancel_requested is False and first.name == "n7" and first.priority == 1
        assert s.scalar(select(func.count()).select_from(JobEventRow)) == 200
        page = svc.list_jobs(s, limit=5)
        assert page["total"] == 200 and len(page["items"]) == 5


def test_group_commit_answers_everyone_and_keys_stay_unique(session_factory: sessionmaker[Session]) -> None:
    q = svc.SubmitQueue(session_factory)
    job = [svc.JobSubmit(command="true")]
    answers: list[tuple[list[dict[str, object]], bool]] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(20):
            key = f"key-{i % 5}" if k % 2 == 0 else None  # even clients retry 5 keys over and over
            ans = q.submit(job, key).result(timeout=30)
            with lock:
                answers.append(ans)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    q.close()
    assert len(answers) == 160
    created = Counter(bool(a[1]) for a in answers)
    with session_factory() as s:
        n_jobs = s.scalar(select(func.count()).select_from(JobRow))
        n_keys = s.scalar(select(func.count()).select_from(IdempotencyKeyRow))
    assert n_keys == 5 and n_jobs == 80 + 5  # 4 keyless clients × 20, plus one job per key
    assert created[True] == n_jobs
    assert q.groups < 160  # requests shared commits
