"""`huanghe sweep`: a grid of simulations, serially and on a real Ray, equal to `simulate`, resumable.

The cells are tiny (half an hour of arrivals at load 0.3 on a generated 12-center network written to a file,
so the tests do not depend on the bundled network's size) so that a grid runs in seconds; the Ray tests join
the session's real Ray head (tests/infra/ray.py) or start a private local one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from huanghe.catalog.generate import generate_topology
from huanghe.catalog.topology import dump_topology_json, load_topology
from huanghe.cli.main import app
from huanghe.sim.network_sim import simulate_network
from huanghe.sim.sweep import Cell, SweepStore
from huanghe.sim.traces.workload_csv import load_workload_csv
from huanghe.sim.workload_builder import BuildOptions, build_workload, write_workload
from tests.infra.ray import RayHead

REPO = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The generated network as a topology file."""
    path = tmp_path_factory.mktemp("net") / "net12.json"
    path.write_text(dump_topology_json(generate_topology(12, 1)), encoding="utf-8")
    return path


@pytest.fixture()
def grid(net: Path) -> list[str]:
    """2 policies × 1 load × 2 seeds = 4 cells, half an hour of arrivals each."""
    return ["--network", str(net), "--policy", "cheapest,first-admit", "--load", "0.3", "--seed", "1,2",
            "--hours", "0.5"]  # fmt: skip


def _child_signals() -> None:
    """In the child before exec: SIGINT and SIGTERM handled by default, and both blocked. A child inherits the
    handlers (SIGINT ignored when CI starts the suite in the background; the sweep leaves an ignored signal
    alone, as Python does) and the signal mask of the thread that forks it (SIGINT was once blocked in this
    process by a library, in CI): blocking them here checks that the sweep unblocks them while it runs."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})


def _signal_state(pid: int) -> str:
    """State and signal masks of a process (/proc/PID/status), for an assertion message."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        return f"gone ({exc.strerror})"
    keep = ("State", "Threads", "SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")
    return ", ".join(line.replace("\t", " ") for line in lines if line.split(":")[0] in keep)


def _pending_trail(proc: subprocess.Popen[str], seconds: float = 1.0) -> list[str]:
    """Each of the child's threads every 5 ms for ``seconds`` after a signal, whenever its state changes:
    elapsed ms, thread id, State, SigPnd/ShdPnd/SigBlk (where the signal waits and who blocks it)."""
    seen: dict[str, str] = {}
    out: list[str] = []
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds and proc.poll() is None:
        try:
            tids = os.listdir(f"/proc/{proc.pid}/task")
        except OSError:
            break
        for tid in tids:
            try:
                text = Path(f"/proc/{proc.pid}/task/{tid}/status").read_text(encoding="utf-8")
            except OSError:
                continue
            fields = dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
            now = " ".join(fields.get(k, "?").strip() for k in ("State", "SigPnd", "ShdPnd", "SigBlk"))
            if seen.get(tid) != now:
                seen[tid] = now
                out.append(f"{(time.monotonic() - t0) * 1000:.0f}ms {tid} {now}")
        time.sleep(0.005)
    return out


def grid_written(out: Path, n: int) -> bool:
    """The sweep has written its grid of ``n`` cells (before any cell runs, with its signal handlers on)."""
    try:
        return len(json.loads((out / "grid.json").read_text(encoding="utf-8"))["cells"]) == n
    except (OSError, ValueError):
        return False


def sweep(*args: str) -> list[str]:
    return [sys.executable, "-c", "from huanghe.cli.main import app; app()", "sweep", *args]


def run(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    return subprocess.run(sweep(*args), capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)


def results(out: Path) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in json.loads((out / "results.json").read_text(encoding="utf-8"))}


def cell_files(out: Path) -> dict[str, float]:
    """Cell file name → modification time (ns)."""
    return {p.name: p.stat().st_mtime_ns for p in (out / "cells").glob("*.json")}


def test_serial_sweep_equals_simulate_and_writes_json_csv_plots(
    grid: list[str], net: Path, tmp_path: Path
) -> None:
    out = tmp_path / "sw"
    res = run(*grid, "--out", str(out))
    assert res.returncode == 0, res.stderr
    rows = results(out)
    assert len(rows) == 4 and "ran 运行 4" in res.stdout
    # one cell is exactly `workload build` + `simulate` with the same seed
    topo = load_topology(net)
    path = tmp_path / "w.csv"
    write_workload(build_workload(topo, BuildOptions(seed=2, load=0.3, hours=0.5)), path)
    table, _ = load_workload_csv(path, topology=topo)
    expected = simulate_network(topo, table, "first-admit", seed=2, explain=False).summary()
    expected.pop("wall_s")
    cell = Cell(str(net), "first-admit", 2, 0.3, 0.5, 60, 60.0, None, None)
    assert rows[cell.key()]["summary"] == expected
    assert rows[cell.key()]["summary"]["jobs"] == len(table) > 0
    lines = (out / "results.csv").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and lines[0].startswith("key,network,policy,seed,load,hours")
    for name in ("mean_jct_s", "cost_cny", "carbon_kg", "utilisation", "mean_wait_s"):
        assert (out / "plots" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # a rerun computes nothing: every cell file is left as it was
    before = cell_files(out)
    again = run(*grid, "--out", str(out), "--no-plots")
    assert again.returncode == 0, again.stderr
    assert "reused 复用 4, ran 运行 0" in again.stdout and cell_files(out) == before


@pytest.mark.parametrize(
    "mode",
    [
        "serial",
        "ray",
    ],
)
def test_interrupted_sweep_resumes_without_recomputing(
    mode: str, grid: list[str], tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """SIGINT to a sweep with finished cells and more to go: exit 130, the finished cells are kept and named,
    nothing is half-written, and the rerun only computes the others. On Ray (the session's head, cells in
    parallel) it is sent once the first cell is stored. Serially it is sent as soon as the sweep has written its
    grid, after a first run finished the seed-1 cells: waiting for a cell instead raced the sweep's last second
    under load (the last cells take about a second; a loaded poller once saw the first when all twelve were
    done). The sweep's own handler only sets a flag and writes a note; the executor stops at the next cell
    boundary (huanghe.cli.sweep_stop). Before that design a serial sweep once ran 12.3 s to its end (exit 0)
    after a SIGINT that reached it with Python's handler in place; the child's signal state before and after
    the SIGINT and its threads' masks for a second after it stay in the failure message, should it recur."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    out = tmp_path / "sw"
    seeds, n = ("1,2,3,4", 12) if mode == "serial" else ("1,2,3", 9)
    args = [
        *grid,
        "--policy",
        "cheapest,first-admit,spread",
        "--seed",
        seeds,
        "--out",
        str(out),
        "--no-plots",
    ]
    if mode == "ray":
        args += ["--ray", request.getfixturevalue("ray_cluster").gcs_address]
    else:  # the seed-1 cells first, in a run of their own: the interrupted run then has 9 cells to go
        first = run(*[("1" if a == seeds else a) for a in args])
        assert first.returncode == 0 and len(cell_files(out)) == 3, first.stderr
    proc = subprocess.Popen(
        sweep(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_child_signals,
    )
    deadline = time.monotonic() + 180

    def ready() -> bool:
        if mode == "ray":
            return bool(list((out / "cells").glob("*.json")))
        return grid_written(out, n)

    while not (was_ready := ready()) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    state_before, t_sent = _signal_state(proc.pid), time.monotonic()
    proc.send_signal(signal.SIGINT)
    state_after = _signal_state(proc.pid)
    trail = _pending_trail(proc)
    _, err = proc.communicate(timeout=120)
    evidence = (
        f"exit {proc.returncode}, grid ready {was_ready}, exit {time.monotonic() - t_sent:.2f} s after the "
        f"SIGINT; child before: {state_before}; child after: {state_after}; its threads after it: {trail}; "
        f"this process: {_signal_state(os.getpid())}; stderr:\n{err}"
    )
    assert proc.returncode == 130, evidence
    assert "SIGINT: stopping" in err, evidence  # the sweep's handler ran
    kept = cell_files(out)
    assert 1 <= len(kept) < n, kept
    assert f"interrupted 已中断 (SIGINT): {len(kept)} of {n} cells" in err and "rerun" in err, err
    assert all(name.removesuffix(".json") in err for name in kept), err  # each finished cell is named
    assert not list((out / "cells").glob(".*.tmp"))  # nothing half-written
    res = run(*args)
    assert res.returncode == 0, res.stderr
    assert f"resuming 继续: {len(kept)} of {n}" in res.stderr
    assert f"reused 复用 {len(kept)}, ran 运行 {n - len(kept)}" in res.stdout
    after = cell_files(out)
    assert len(after) == n and all(after[name] == t for name, t in kept.items())
    assert len(results(out)) == n


def test_sigterm_stops_a_serial_sweep_with_143(grid: list[str], tmp_path: Path) -> None:
    """SIGTERM once the grid is written: the sweep stops at the next cell boundary, says so and exits 143."""
    out = tmp_path / "sw"
    args = [*grid, "--seed", "1,2,3", "--out", str(out), "--no-plots"]  # 6 cells, about 6 s
    env = {**os.environ, "PYTHONPATH": str(REPO), "COLUMNS": "200"}
    proc = subprocess.Popen(
        sweep(*args), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
        preexec_fn=_child_signals,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while not grid_written(out, 6) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    kept = cell_files(out) if (out / "cells").exists() else {}
    assert len(kept) < 6 and f"interrupted 已中断 (SIGTERM): {len(kept)} of 6 cells" in err, err
    assert not (out / "results.json").exists()


def test_ray_cluster_sweep_equals_serial(ray_cluster: RayHead, grid: list[str], tmp_path: Path) -> None:
    serial, on_ray = tmp_path / "serial", tmp_path / "ray"
    assert run(*grid, "--out", str(serial), "--no-plots").returncode == 0
    res = run(*grid, "--ray", ray_cluster.gcs_address, "--out", str(on_ray))
    assert res.returncode == 0, res.stderr
    a, b = results(serial), results(on_ray)
    assert a.keys() == b.keys() and all(a[k]["summary"] == b[k]["summary"] for k in a)
    driver_pids = {r["pid"] for r in a.values()}
    assert not {r["pid"] for r in b.values()} & driver_pids  # computed by Ray workers, not the driver
    assert (on_ray / "plots" / "mean_jct_s.png").exists()


def test_ray_local_sweep(grid: list[str], tmp_path: Path) -> None:
    """A private local Ray: the cell runs in a Ray worker, and the temporary directory is gone afterwards;
    no ~/.ray/auth_token is left behind (Ray would then turn token auth on for every later `ray start`)."""
    token = Path.home() / ".ray" / "auth_token"
    had_token = token.exists()
    before = set(Path("/tmp").glob("hhsw*"))
    out = tmp_path / "sw"
    res = run(
        *grid, "--policy", "cheapest", "--seed", "1", "--ray", "local", "--cpus", "2", "--out", str(out)
    )
    assert res.returncode == 0, res.stderr
    rows = results(out)
    assert len(rows) == 1 and next(iter(rows.values()))["summary"]["jobs"] > 0
    assert "ray, 2 CPUs" in res.stderr
    assert set(Path("/tmp").glob("hhsw*")) <= before
    assert had_token or not token.exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--load", "0.3,abc"], "--load"),
        (["--load", "0"], "--load"),
        (["--load", "0.3,0.3"], "--load"),
        (["--seed", "-1"], "--seed"),
        (["--hours", "0"], "--hours"),
        (["--tenants", "0"], "--tenants"),
        (["--cycle-s", "nan"], "--cycle-s"),
        (["--policy", "nope"], "--policy"),
        (["--network", "atlantis"], "--network"),
        (["--ray", "not an address"], "--ray"),
        (["--cpus", "2"], "--cpus"),
        (["--workload", "w.csv", "--load", "0.3"], "--load"),
        (["--workload", "/nonexistent/w.csv"], "--workload"),
    ],
)
def test_bad_options_name_the_option(args: list[str], named: str, tmp_path: Path) -> None:
    res = runner.invoke(app, ["sweep", "--out", str(tmp_path / "o"), *args])
    assert res.exit_code == 2, res.output
    assert named in res.output
    assert not (tmp_path / "o" / "cells").exists()


def test_unreachable_ray_is_named(grid: list[str], tmp_path: Path) -> None:
    res = run(
        *grid, "--policy", "cheapest", "--seed", "1", "--ray", "127.0.0.1:9", "--out", str(tmp_path / "o")
    )
    assert res.returncode == 2 and "--ray" in res.stderr, res.stderr


def test_store_ignores_a_cell_file_of_other_parameters(tmp_path: Path) -> None:
    store = SweepStore(tmp_path)
    cell = Cell("shandong", "cheapest", 1, 0.3, 0.5, 60, 60.0, None, None)
    other = Cell("shandong", "cheapest", 1, 0.3, 0.5, 60, 30.0, None, None)
    store.save(cell, {"format": 1, "cell": other.params(), "summary": {}})
    assert store.load(cell) is None
    store.path(cell).write_text("{not json", encoding="utf-8")
    assert store.load(cell) is None
