"""The object store client on real SeaweedFS: round trips with checksums, multipart, copies between
servers, bad credentials, a dead server, corruption detected by re-reading."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from huanghe.data.objects import PART_BYTES, EndpointAccess, ObjectStore, ObjectStoreError, sha256_of_file
from tests.infra.ports import refused_url
from tests.infra.seaweed import SeaweedServer, store_on, unique_bucket


def test_put_get_roundtrip_with_checksum(seaweed_servers: list[SeaweedServer], tmp_path: Path) -> None:
    store = store_on(seaweed_servers[0])
    src = tmp_path / "in.bin"
    src.write_bytes(os.urandom(300_000))
    moved: list[int] = []
    info = store.put_file("ds/in.bin", src, progress=moved.append)
    assert info.size_bytes == 300_000 and info.sha256 == sha256_of_file(src) and sum(moved) == 300_000
    head = store.head("ds/in.bin")
    assert head is not None and head.size_bytes == 300_000 and head.sha256 == info.sha256
    out = tmp_path / "out.bin"
    got = store.get_to_file("ds/in.bin", out)
    assert got.sha256 == info.sha256 and out.read_bytes() == src.read_bytes()
    assert store.head("ds/missing") is None
    assert list(store.keys("ds/")) == ["ds/in.bin"]


def test_multipart_upload_and_copy_between_servers(
    seaweed_servers: list[SeaweedServer], tmp_path: Path
) -> None:
    a, b = store_on(seaweed_servers[0]), store_on(seaweed_servers[1])
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(PART_BYTES + 1234))  # two parts
    info = a.put_file("big.bin", src)
    copied = b.copy_from(a, "big.bin", sha256=str(info.sha256))
    assert copied == info
    assert b.checksum("big.bin") == info


def test_copy_with_wrong_checksum_is_refused_and_leaves_nothing(seaweed_servers: list[SeaweedServer]) -> None:
    a, b = store_on(seaweed_servers[0]), store_on(seaweed_servers[1])
    a.put_bytes("x", b"payload")
    with pytest.raises(ObjectStoreError) as err:
        b.copy_from(a, "x", sha256=hashlib.sha256(b"other").hexdigest())
    assert err.value.reason == "checksum"
    assert b.head("x") is None


def test_corruption_is_seen_by_rereading(seaweed_servers: list[SeaweedServer]) -> None:
    store = store_on(seaweed_servers[0])
    good = store.put_bytes("f", b"good bytes")
    store.client.put_object(
        Bucket=store.access.bucket, Key="f", Body=b"evil bytes", Metadata={"sha256": str(good.sha256)}
    )
    head = store.head("f")
    assert head is not None and head.sha256 == good.sha256  # the metadata lies ...
    again = store.checksum("f")
    assert again is not None and again.sha256 != good.sha256  # ... re-reading the bytes does not


def test_wrong_key_is_refused(seaweed_servers: list[SeaweedServer]) -> None:
    server = seaweed_servers[0]
    bucket = unique_bucket()
    store_on(server, bucket)
    thief = ObjectStore(EndpointAccess(server.s3_url, bucket, server.access_key, "not-the-secret"))
    assert thief.ping() is not None and "refused the credentials" in str(thief.ping())
    with pytest.raises(ObjectStoreError) as err:
        thief.put_bytes("x", b"1")
    assert err.value.reason == "denied"
    assert "not-the-secret" not in repr(thief.access)


def test_dead_endpoint_is_a_clear_error(tmp_path: Path) -> None:

    with refused_url() as dead:  # bound, not listening: refused, and no other process can take the port
        store = ObjectStore(EndpointAccess(dead, "b-x", "k", "s"), timeout_s=1.0)
        assert store.ping() is not None
        with pytest.raises(ObjectStoreError) as err:
            store.put_bytes("x", b"1")
        assert err.value.reason == "unreachable"


def test_restart_keeps_objects(tmp_path: Path) -> None:
    server = SeaweedServer.start(tmp_path / "w")
    try:
        store = store_on(server)
        info = store.put_bytes("keep", b"survives a crash")
        server.kill()
        assert not server.alive()
        assert store.ping() is not None
        server = server.restart()
        assert store.checksum("keep") == info
    finally:
        server.stop()
    assert not server.alive()


def test_a_port_taken_between_its_choice_and_the_bind_is_chosen_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ports are chosen free and bound later by weed: another process may take one meanwhile (a test's server
    on a parallel worker did). weed then exits saying so, and the start is retried on fresh ports."""
    import socket

    import huanghe.data.seaweed as seaweed

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        picks: list[int] = []
        real = seaweed.free_port

        def racing_free_port() -> int:  # the 2nd pick (the master's port) is the one taken meanwhile
            picks.append(taken.getsockname()[1] if len(picks) == 1 else real())
            return picks[-1]

        monkeypatch.setattr(seaweed, "free_port", racing_free_port)
        server = SeaweedServer.start(tmp_path / "w")
        try:
            assert store_on(server).put_bytes("k", b"v").size_bytes == 1
        finally:
            server.stop()
    assert len(picks) == 2 * (1 + 7)  # the S3 port and 7 internal ones, twice: one retry
    assert (tmp_path / "w" / "weed.log").read_text().count("address already in use") == 1
