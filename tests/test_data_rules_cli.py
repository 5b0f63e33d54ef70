"""``huanghe data rule add|list|show|rm`` and ``huanghe risk list|ack|assign|trace|resolve`` against a real
server (uvicorn on 127.0.0.1, authentication on) with real SeaweedFS endpoints: what users type and read,
errors naming the field, exit codes (0 ok, 1 refused)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from huanghe.regulator import risk
from tests.files_world import FilesWorld, served_files_world
from tests.files_world import run_cli as run
from tests.infra.seaweed import SeaweedServer


@pytest.fixture
def served(
    tmp_path: Path, seaweed_servers: list[SeaweedServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[FilesWorld]:
    with served_files_world(f"sqlite:///{tmp_path / 'rules.db'}", seaweed_servers, monkeypatch) as fw:
        yield fw


def test_rule_commands(served: FilesWorld) -> None:
    assert served.register("cli-ds").status_code == 201
    assert served.put("cli-ds", "a.txt", b"hello rules\n").status_code in (200, 201)
    code, out = run("data", "rule", "add", "cli-ds", "--copies", "2", "--expression", "tier=hot", "--json")
    assert code == 0, out
    rule = json.loads(out)
    assert rule["state"] == "replicating" and rule["locks_ok"] == 1 and rule["locks_replicating"] == 1
    code, out = run("data", "rule", "list", "--json")
    assert code == 0 and [r["id"] for r in json.loads(out)] == [rule["id"]]
    code, out = run("data", "rule", "show", rule["id"])
    assert code == 0 and "a.txt" in out and "replicating" in out
    code, out = run("data", "rule", "add", "cli-ds", "--copies", "1", "--expression", "tier=hot&(")
    assert code == 1 and "expression" in out
    code, out = run("data", "rule", "add", "cli-ds", "--copies", "9", "--expression", "tier=hot")
    assert code == 1 and "9 copies" in out
    code, out = run("data", "rule", "rm", rule["id"])
    assert code == 0 and "removed" in out
    code, out = run("data", "rule", "show", rule["id"])
    assert code == 1 and "not found" in out


def test_risk_commands(served: FilesWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = run("risk", "list")
    assert code == 1 and "403" in out  # a tenant token may not read risk alerts
    monkeypatch.setenv("HUANGHE_TOKEN", served.w.tokens["regulator"])
    with served.w.session() as s:
        row, _ = risk.raise_alert(s, "egress_anomaly", "ta", "high", "moved a lot", events=1, first_s=1.0,
                                  last_s=1.0, now=2.0)  # fmt: skip
        s.commit()
    code, out = run("risk", "list", "--json")
    assert code == 0 and [a["id"] for a in json.loads(out)] == [row.id]
    assert run("risk", "ack", str(row.id))[0] == 0
    code, out = run("risk", "assign", str(row.id), "--owner", "dpo")
    assert code == 0 and "dpo" in out
    code, out = run("risk", "trace", str(row.id))
    assert code == 0 and "egress_anomaly" in out
    code, out = run("risk", "resolve", str(row.id), "--note", "planned migration, confirmed")
    assert code == 0 and "resolved" in out
    code, out = run("risk", "resolve", str(row.id), "--note", "again")
    assert code == 1 and "409" in out
