"""The audit trail: every successful mutation and service event in a sha256 hash chain; the database refuses
UPDATE / DELETE; `huanghe audit verify` names the first edited, deleted or reordered record."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from huanghe.audit import service as audit
from huanghe.billing import ledger
from huanghe.cli.main import app as cli
from tests.security_support import world

runner = CliRunner()


@pytest.fixture
def chain(session_factory: sessionmaker[Session]) -> Iterator[tuple[sessionmaker[Session], Engine, str]]:
    """Five records on SQLite and PostgreSQL."""
    with session_factory() as s:
        for i in range(1, 6):
            audit.record(
                s, "tester", "thing.do", f"item-{i}", {"i": i, "名": "黄河"}, now=1_700_000_000.0 + i
            )
            s.commit()
        audit.catch_up(s)  # chained (on PostgreSQL they were written to the inbox), ready to be tampered with
    engine = session_factory.kw["bind"]
    yield session_factory, engine, str(engine.url.render_as_string(hide_password=False))


def _tamper(engine: Engine, *sql: str) -> None:
    """Run ``sql`` with the append-only triggers switched off (what an attacker with DBA rights could do)."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        for stmt in sql:
            conn.execute(text(stmt))


def _verify(factory: sessionmaker[Session]) -> audit.VerifyResult:
    with factory() as s:
        return audit.verify(s)


def test_intact_chain_verifies(chain: tuple[sessionmaker[Session], Engine, str]) -> None:
    factory, _, url = chain
    assert _verify(factory) == audit.VerifyResult(True, 5)
    r = runner.invoke(cli, ["audit", "verify", "--db", url])
    assert r.exit_code == 0 and "5 records" in r.stdout


def test_database_refuses_update_and_delete(chain: tuple[sessionmaker[Session], Engine, str]) -> None:
    factory, engine, _ = chain
    with factory() as s:
        ledger.transfer(s, "t", "cash", "subsidy_fund", 100)
        s.commit()
    for stmt in (
        "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2",
        "DELETE FROM audit_log WHERE seq = 5",
    ):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(stmt))
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries"))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text("TRUNCATE audit_log"))
    assert _verify(factory).ok


@pytest.mark.parametrize(
    ("sql", "bad", "words"),
    [
        (["UPDATE audit_log SET actor = 'mallory' WHERE seq = 3"], 3, "edited"),
        (["DELETE FROM audit_log WHERE seq = 2"], 2, "missing"),
        (["DELETE FROM audit_log WHERE seq = 5"], 5, "missing"),
        (["UPDATE audit_log SET seq = 100 WHERE seq = 3", "UPDATE audit_log SET seq = 3 WHERE seq = 4",
          "UPDATE audit_log SET seq = 4 WHERE seq = 100"], 3, "reordered"),
    ],
    ids=["edit", "delete-middle", "delete-last", "reorder"],
)  # fmt: skip
def test_tampering_is_detected_at_the_first_bad_record(
    chain: tuple[sessionmaker[Session], Engine, str], sql: list[str], bad: int, words: str
) -> None:
    factory, engine, url = chain
    _tamper(engine, *sql)
    result = _verify(factory)
    assert not result.ok and result.first_bad == bad and words in result.reason, result
    r = runner.invoke(cli, ["audit", "verify", "--db", url])
    assert r.exit_code == 1 and f"at record {bad}" in r.output


def test_export_csv_and_json(chain: tuple[sessionmaker[Session], Engine, str], tmp_path: Path) -> None:
    _, _, url = chain
    out = tmp_path / "audit.csv"
    r = runner.invoke(cli, ["audit", "export", "--format", "csv", "--out", str(out), "--db", url])
    assert r.exit_code == 0, r.output
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [int(x["seq"]) for x in rows] == [1, 2, 3, 4, 5] and json.loads(rows[0]["payload"])["名"] == "黄河"
    r = runner.invoke(cli, ["audit", "export", "--format", "json", "--db", url])
    records = json.loads(r.stdout)
    assert records[4]["prev_hash"] == records[3]["hash"] and records[0]["prev_hash"] == "0" * 64
    assert runner.invoke(cli, ["audit", "export", "--format", "xml", "--db", url]).exit_code == 2


def test_api_mutations_are_audited_and_regulators_read_them(tmp_path: Path) -> None:
    with world(f"sqlite:///{tmp_path / 'a.db'}") as w:
        body = {"id": "tc", "name": "Tenant C", "sector": "energy"}
        raw = json.dumps(body).encode()
        headers = {**w.h("admin"), "Content-Type": "application/json"}
        assert w.client.post("/api/v1/tenants", content=raw, headers=headers).status_code == 201
        assert (
            w.client.post("/api/v1/tenants", json=body, headers=w.h("admin")).status_code == 409
        )  # not audited
        assert w.client.delete("/api/v1/tenants/tc", headers=w.h("admin")).status_code == 204
        assert w.client.post("/api/v1/tenants", json=body, headers=w.h("tenant_user")).status_code == 403
        page = w.client.get("/api/v1/audit?action=http.post", headers=w.h("regulator")).json()
        assert page["total"] == 1
        rec = page["items"][0]
        assert rec["actor"] == "admin:root#1" and rec["subject"] == "/api/v1/tenants"
        assert rec["payload"]["status"] == 201
        assert rec["payload"]["body_sha256"] == hashlib.sha256(raw).hexdigest()
        assert w.client.get("/api/v1/audit?action=http.delete", headers=w.h("regulator")).json()["total"] == 1
        assert w.client.get("/api/v1/audit", headers=w.h("tenant_admin")).status_code == 403
        assert w.client.get("/api/v1/audit/verify", headers=w.h("regulator")).json()["ok"] is True
        csv_text = w.client.get("/api/v1/audit/export?format=csv", headers=w.h("regulator"))
        assert csv_text.headers["content-type"].startswith("text/csv") and "http.delete" in csv_text.text


def test_concurrent_writers_keep_one_chain(session_factory: sessionmaker[Session]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def write(i: int) -> None:
        with session_factory() as s:
            audit.record(s, f"w{i}", "race", str(i), {"i": i})
            s.commit()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(write, range(40)))
    result = _verify(session_factory)
    assert result.ok and result.checked == 40


def test_placement_decisions_are_chained_in_their_transaction(tmp_path: Path) -> None:
    from huanghe.jobs.models import PlacementRow
    from huanghe.jobs.placing import store_placements

    with world(f"sqlite:///{tmp_path / 'p.db'}") as w:
        job = w.client.post("/api/v1/jobs", json={"command": "true", "tenant": "ta", "cpus": 1},
                            headers=w.h("tenant_user")).json()  # fmt: skip
        with w.session() as s:  # what the scheduler service does when it places a job
            store_placements(s, [PlacementRow(job_id=job["id"], attempt=1, t_s=1.0, policy="huanghe",
                             pool_id="jn-sc-cpu", center_id="jn-sc", explanation={"winner": "jn-sc-cpu"})], 1.0)  # fmt: skip
            s.commit()
        with w.session() as s:
            store_placements(s, [PlacementRow(job_id=job["id"], attempt=2, t_s=2.0, policy="huanghe",
                             pool_id="qd-ai-910b", center_id="qd-ai", explanation={})], 2.0)  # fmt: skip
            s.rollback()  # a decision never committed leaves no record
        page = w.client.get("/api/v1/audit?action=placement", headers=w.h("regulator")).json()
        assert page["total"] == 1
        rec = page["items"][0]
        assert rec["actor"] == "scheduler" and rec["subject"] == job["id"]
        assert rec["payload"]["pool"] == "jn-sc-cpu" and len(rec["payload"]["explanation_sha256"]) == 64
        assert w.client.get("/api/v1/audit/verify", headers=w.h("regulator")).json()["ok"] is True
