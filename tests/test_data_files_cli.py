"""``huanghe data put|get|ls|rm`` against a real server (uvicorn on 127.0.0.1, authentication on) with real
SeaweedFS endpoints: round trip with checksums, an upload in parts, a corrupt replica that makes ``get`` fail
loudly and leave no file, another tenant's dataset unknown, exit codes."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from huanghe.client import data as client_data
from tests.files_world import FilesWorld, served_files_world
from tests.files_world import run_cli as run
from tests.infra.ports import refused_url
from tests.infra.seaweed import SeaweedServer


@pytest.fixture
def served(
    tmp_path: Path, seaweed_servers: list[SeaweedServer], monkeypatch: pytest.MonkeyPatch
) -> Iterator[FilesWorld]:
    with served_files_world(f"sqlite:///{tmp_path / 'cli.db'}", seaweed_servers, monkeypatch) as fw:
        yield fw


def test_put_ls_get_rm_round_trip(
    served: FilesWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client_data, "SINGLE_PUT_MAX_BYTES", 1024 * 1024)  # the big file goes in parts
    small, big = tmp_path / "a.txt", tmp_path / "big.bin"
    small.write_bytes(b"hello huanghe\n")
    big.write_bytes(os.urandom(client_data.PART_BYTES + 4321))
    code, out = run("data", "put", str(small), str(big), "--dataset", "exp1", "--endpoint", "qd-ai-hot")
    assert code == 0, out
    assert "dataset exp1 registered in qd-ai" in out and "uploaded exp1/big.bin" in out and "(qd-ai)" in out
    code, out = run("data", "ls", "exp1", "--json")
    assert code == 0, out
    listing = json.loads(out)
    assert [f["name"] for f in listing] == ["a.txt", "big.bin"]
    assert all(f["replicas"][0]["center"] == "qd-ai" and f["state"] == "available" for f in listing)
    assert listing[1]["sha256"] == hashlib.sha256(big.read_bytes()).hexdigest()
    code, out = run("data", "ls", "exp1")
    assert code == 0 and "qd-ai-hot qd-ai available" in out
    dest = tmp_path / "out"
    dest.mkdir()
    code, out = run("data", "get", "exp1/big.bin", "--out", str(dest))
    assert code == 0 and "verified" in out, out
    assert (dest / "big.bin").read_bytes() == big.read_bytes()
    # put into the existing dataset again: same name is refused (409 → exit 1), nothing overwritten
    code, out = run("data", "put", str(small), "--dataset", "exp1")
    assert code == 1 and "409" in out and "already exists" in out
    code, out = run("data", "rm", "exp1/a.txt")
    assert code == 0 and "deleted" in out
    assert [f["name"] for f in json.loads(run("data", "ls", "exp1", "--json")[1])] == ["big.bin"]
    code, out = run("data", "rm", "exp1")
    assert code == 0
    assert served.keys("qd-ai-hot", "exp1/") == []
    code, out = run("data", "ls", "exp1")
    assert code == 1 and "404" in out


def test_corrupt_replica_fails_get_loudly(served: FilesWorld, tmp_path: Path) -> None:
    src = tmp_path / "c.bin"
    data = os.urandom(3 * 1024 * 1024 + 11)  # streamed in several chunks
    src.write_bytes(data)
    assert run("data", "put", str(src), "--dataset", "cor")[0] == 0
    store = served.stores["jn-sc-hot"]
    store.client.put_object(Bucket=store.access.bucket, Key="jn-sc-hot/cor/c.bin", Body=data[:-1] + b"!",
                            Metadata={"sha256": hashlib.sha256(data).hexdigest()})  # fmt: skip
    out_path = tmp_path / "got.bin"
    code, out = run("data", "get", "cor/c.bin", "--out", str(out_path))
    assert code == 1, out
    assert "下载不完整" in out or "校验和不一致" in out
    assert not out_path.exists() and not list(tmp_path.glob(".got.bin.part*"))
    # the replica is known bad now: a second try is refused by the server, not served
    code, out = run("data", "get", "cor/c.bin", "--out", str(out_path))
    assert code == 1 and "409" in out and "no good replica" in out


def test_other_tenant_and_usage_errors(
    served: FilesWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "s.bin"
    src.write_bytes(b"secret")
    assert run("data", "put", str(src), "--dataset", "mine")[0] == 0
    monkeypatch.setenv("HUANGHE_TOKEN", served.w.tokens["tenant_user_b"])
    for args in (("ls", "mine"), ("get", "mine/s.bin", "--out", str(tmp_path / "x")), ("rm", "mine/s.bin"),
                 ("rm", "mine")):  # fmt: skip
        code, out = run("data", *args)
        assert code == 1 and "404" in out and "dataset 'mine' not found" in out, (args, out)
    assert not (tmp_path / "x").exists()
    code, out = run("data", "put", str(src), "--dataset", "mine")  # b cannot register a's id either
    assert code == 1
    assert run("data", "get", "no-slash", "--out", str(tmp_path))[0] == 2
    assert run("data", "put", str(tmp_path / "missing.bin"), "--dataset", "x")[0] == 2
    with refused_url() as url:  # bound, not listening: refused, and no other process can take the port
        monkeypatch.setenv("HUANGHE_URL", url)
        assert run("data", "ls", "mine")[0] == 3


def test_interrupted_upload_is_resumed(
    served: FilesWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upload in parts cut after its first part (as by a lost connection) is finished by the same command,
    which sends only the missing part; a part the server holds with other bytes is sent again."""
    monkeypatch.setattr(client_data, "SINGLE_PUT_MAX_BYTES", 1024 * 1024)
    monkeypatch.setattr(client_data, "PART_BYTES", 5 * 1024 * 1024)
    big = tmp_path / "r.bin"
    data = os.urandom(3 * 5 * 1024 * 1024 + 99)  # four parts
    big.write_bytes(data)
    assert served.register("res").status_code == 201
    up = served.call("POST", "/datasets/res/uploads", json={"name": "r.bin", "size_bytes": len(data)}).json()
    part = 5 * 1024 * 1024
    assert (
        served.call("PUT", f"/datasets/res/uploads/{up['id']}/parts/1", content=data[:part]).status_code
        == 200
    )
    wrong = bytes(part)  # part 2 holds other bytes: it must be replaced
    assert served.call("PUT", f"/datasets/res/uploads/{up['id']}/parts/2", content=wrong).status_code == 200
    sent: list[int] = []
    real = client_data.DataFiles._send_parts

    def spy(self: client_data.DataFiles, *args: Any, **kw: Any) -> None:
        original = self.client.request

        def request(method: str, path: str, **k: Any) -> httpx.Response:
            if "/parts/" in path:
                sent.append(int(path.rsplit("/", 1)[1]))
            return original(method, path, **k)

        monkeypatch.setattr(self.client, "request", request)
        real(self, *args, **kw)

    monkeypatch.setattr(client_data.DataFiles, "_send_parts", spy)
    code, out = run("data", "put", str(big), "--dataset", "res")
    assert code == 0, out
    assert f"resuming upload {up['id']}" in out and "1 parts already" not in out and "2 parts already" in out
    assert sent == [2, 3, 4]
    assert served.call("GET", f"/datasets/res/uploads/{up['id']}").json()["state"] == "done"
    got = served.call("GET", "/datasets/res/files/r.bin/content")
    assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(data).hexdigest()
