"""Nothing leaks across tenants (issue #11, deliverable 4), with authentication on: another tenant's dataset
answers exactly like an unknown one; env values are shown to the job's own tenant only (and secrets to no
one after submission); a reused ``Idempotency-Key`` with another body is a 422 conflict, never the old job."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from huanghe.jobs.masking import MASK
from tests.security_support import World, world

API = "/api/v1"


@pytest.fixture
def w(tmp_path: Path) -> Iterator[World]:
    with world(f"sqlite:///{tmp_path / 'x.db'}") as wd:
        yield wd


def _shape(r: Any, ident: str) -> tuple[int, Any]:
    """Status and body with the probed id replaced, to compare two answers."""
    return r.status_code, r.text.replace(ident, "<id>")


# --- datasets ---------------------------------------------------------------------------------------------
def test_another_tenants_dataset_answers_like_an_unknown_one(w: World) -> None:
    user = w.h("tenant_user")
    for path, wrap in (("jobs", lambda j: j), ("jobs:batch", lambda j: {"jobs": [j]})):
        answers = {}
        for ident in ("ds-tb", "ds-nope"):
            job = {"command": "echo", "tenant": "ta", "datasets": ["ds-ta", ident]}
            answers[ident] = _shape(w.client.post(f"{API}/{path}", json=wrap(job), headers=user), ident)
        assert answers["ds-tb"] == answers["ds-nope"], answers
        assert answers["ds-tb"][0] == 422 and "unknown dataset" in answers["ds-tb"][1]
    own = {"command": "echo", "tenant": "ta", "datasets": ["ds-ta"]}
    assert w.client.post(f"{API}/jobs", json=own, headers=user).status_code == 201
    theirs = {"command": "echo", "tenant": "tb", "datasets": ["ds-tb"]}
    assert w.client.post(f"{API}/jobs", json=theirs, headers=w.h("tenant_user_b")).status_code == 201


def test_dataset_reads_of_another_tenant_look_absent(w: World) -> None:
    user = w.h("tenant_user")
    theirs = w.client.get(f"{API}/datasets/ds-tb", headers=user)
    absent = w.client.get(f"{API}/datasets/ds-nope", headers=user)
    assert _shape(theirs, "ds-tb") == _shape(absent, "ds-nope") and theirs.status_code == 404


# --- env masking ------------------------------------------------------------------------------------------
ENV = {
    "OMP_NUM_THREADS": "4",
    "API_TOKEN": "tok-123",
    "DB_PASSWORD": "pw",
    "aws_secret_key": "k",
    "MY_VAR": "mv",
}


def _submit_with_env(w: World) -> str:
    body = {"command": "echo", "tenant": "ta", "env": ENV, "secret_env": ["MY_VAR"]}
    r = w.client.post(f"{API}/jobs", json=body, headers=w.h("tenant_user"))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_env_values_are_masked_for_all_but_the_owning_tenant(w: World) -> None:
    job_id = _submit_with_env(w)
    masked = dict.fromkeys(ENV, MASK)
    owner_view = {**masked, "OMP_NUM_THREADS": "4"}  # secrets (by suffix or secret_env) masked for it too
    for who, expected in (("admin", masked), ("regulator", masked), ("readonly_admin", masked),
                          ("tenant_user", owner_view), ("tenant_admin", owner_view)):  # fmt: skip
        one = w.client.get(f"{API}/jobs/{job_id}", headers=w.h(who))
        assert one.status_code == 200 and one.json()["spec"]["env"] == expected, (who, one.text)
        page = w.client.get(f"{API}/jobs", headers=w.h(who)).json()["items"]
        assert [j["spec"]["env"] for j in page if j["id"] == job_id] == [expected], who
        for value in ("tok-123", '"pw"', '"mv"'):
            assert value not in one.text and value not in str(page), (who, value)
    assert w.client.get(f"{API}/jobs/{job_id}", headers=w.h("tenant_user_b")).status_code == 404
    assert w.client.get(f"{API}/jobs/{job_id}", headers=w.h("operator")).status_code == 403
    cancelled = w.client.post(f"{API}/jobs/{job_id}:cancel", headers=w.h("admin"))
    assert cancelled.status_code == 200 and cancelled.json()["spec"]["env"] == masked


def test_stored_env_keeps_the_values_for_the_backend(w: World) -> None:
    job_id = _submit_with_env(w)
    from huanghe.jobs.models import JobRow

    with w.session() as s:
        row = s.get(JobRow, job_id)
        assert row is not None and row.spec["env"] == ENV


# --- idempotency keys -------------------------------------------------------------------------------------
def test_reused_idempotency_key_with_another_body_is_a_422_conflict(w: World) -> None:
    h = {**w.h("tenant_user"), "Idempotency-Key": "k-1"}
    first = w.client.post(f"{API}/jobs", json={"command": "echo a", "tenant": "ta"}, headers=h)
    assert first.status_code == 201
    again = w.client.post(f"{API}/jobs", json={"command": "echo a", "tenant": "ta"}, headers=h)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = w.client.post(f"{API}/jobs", json={"command": "rm -rf /data", "tenant": "ta"}, headers=h)
    assert other.status_code == 422, other.text
    detail = other.json()["detail"]
    assert detail[0]["path"] == "header.Idempotency-Key" and "conflict" in detail[0]["message"]
    assert first.json()["id"] not in other.text
    total = w.client.get(f"{API}/jobs", headers=w.h("tenant_user")).json()["total"]
    assert total == 1


def test_reused_idempotency_key_for_batches(w: World) -> None:
    h = {**w.h("tenant_user"), "Idempotency-Key": "kb"}
    jobs = [{"command": f"echo {i}", "tenant": "ta"} for i in range(3)]
    first = w.client.post(f"{API}/jobs:batch", json={"jobs": jobs}, headers=h)
    assert first.status_code == 201
    same = w.client.post(f"{API}/jobs:batch", json={"jobs": jobs}, headers=h)
    assert same.status_code == 200 and same.json()["items"] == first.json()["items"]
    for changed in (jobs[:2], [*jobs[:2], {"command": "echo 9", "tenant": "ta"}], [*jobs, jobs[0]]):
        r = w.client.post(f"{API}/jobs:batch", json={"jobs": changed}, headers=h)
        assert r.status_code == 422 and r.json()["detail"][0]["path"] == "header.Idempotency-Key", r.text
    # another tenant's use of the key stays a 409 (it never learns the first request's jobs)
    hb = {**w.h("tenant_user_b"), "Idempotency-Key": "kb"}
    r = w.client.post(f"{API}/jobs:batch", json={"jobs": [{"command": "echo", "tenant": "tb"}]}, headers=hb)
    assert r.status_code == 409 and first.json()["items"][0]["id"] not in r.text
