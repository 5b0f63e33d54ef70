"""The sweep's own SIGINT / SIGTERM handling (huanghe.cli.sweep_stop): real signals sent to this process.

The first signal only sets the flag (and writes its note), a second one raises ``KeyboardInterrupt``, the exit
code is 128 + the signal, an ignored signal stays ignored, blocked ones are unblocked for the block, and the
previous handlers and mask come back afterwards. The serial executor, given a flag, stops after the cell in
which the signal came and keeps that cell; without a flag it raises ``KeyboardInterrupt`` (bench/bench_sweep.py).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from huanghe.catalog.generate import generate_topology
from huanghe.catalog.topology import dump_topology_json
from huanghe.cli.sweep_exec import run_serial
from huanghe.cli.sweep_stop import StopFlag
from huanghe.sim.sweep import Cell, SweepStore, grid

pytestmark = pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread(), reason="signals reach only the main thread"
)


@pytest.fixture(autouse=True)
def _restore_signals() -> Iterator[None]:
    """Each test starts from Python's defaults (a suite started in the background by a non-interactive shell
    inherits SIGINT ignored), and this process gets its handlers and mask back afterwards."""
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM})
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    yield
    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    for s, h in handlers.items():
        signal.signal(s, signal.SIG_DFL if h is None else h)


def _wait_set(flag: StopFlag, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not flag.is_set() and time.monotonic() < deadline:
        time.sleep(0.01)
    return flag.is_set()


def test_first_signal_sets_the_flag_second_stops_at_once(capfd: pytest.CaptureFixture[str]) -> None:
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    flag = StopFlag("stopping 正在停止")
    assert not flag.is_set() and flag.exit_code == 130
    with flag.installed():
        os.kill(os.getpid(), signal.SIGTERM)
        assert _wait_set(flag)
        assert (flag.signum, flag.exit_code, flag.signal_name) == (signal.SIGTERM, 143, "SIGTERM")
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler interrupts the sleep
        assert flag.exit_code == 143  # the first signal decides the code
    assert {s: signal.getsignal(s) for s in before} == before
    assert "SIGTERM: stopping 正在停止" in capfd.readouterr().err


def test_sigint_gives_130() -> None:
    flag = StopFlag()
    with flag.installed():
        os.kill(os.getpid(), signal.SIGINT)
        assert _wait_set(flag)
    assert (flag.exit_code, flag.signal_name) == (130, "SIGINT")


def test_an_ignored_signal_stays_ignored_and_blocked_ones_are_unblocked() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    flag = StopFlag()
    with flag.installed():
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
        assert signal.getsignal(signal.SIGTERM) == flag.handle
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, [])
        assert signal.SIGINT not in blocked and signal.SIGTERM not in blocked
        os.kill(os.getpid(), signal.SIGINT)  # ignored: discarded
        time.sleep(0.1)
        assert not flag.is_set()
    assert {signal.SIGINT, signal.SIGTERM} <= signal.pthread_sigmask(signal.SIG_BLOCK, [])
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN


@pytest.fixture()
def cells(tmp_path: Path) -> list[Cell]:
    """Three tiny cells (half an hour of arrivals at load 0.3 on a generated 12-center network)."""
    net = tmp_path / "net12.json"
    net.write_text(dump_topology_json(generate_topology(12, 1)), encoding="utf-8")
    return grid(
        networks=[str(net)],
        policies=["cheapest", "first-admit", "spread"],
        seeds=[1],
        cycle_s=[60.0],
        loads=[0.3],
        hours=[0.5],
        tenants=[60],
    )


def test_serial_executor_stops_after_the_cell_the_signal_came_in(cells: list[Cell], tmp_path: Path) -> None:
    store = SweepStore(tmp_path / "sw")
    ended: list[str] = []

    def on_done(cell: Cell, error: str | None) -> None:
        ended.append(cell.key())
        if len(ended) == 1:  # while the first cell is being reported: the sweep is still inside it
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)

    flag = StopFlag()
    run = run_serial(cells, store, {}, on_done, flag)
    assert run.stopped and flag.exit_code == 130 and not run.failed
    assert ended == [cells[0].key()]
    assert store.load(cells[0]) is not None and store.load(cells[1]) is None
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_serial_executor_without_a_flag_raises_keyboard_interrupt(cells: list[Cell], tmp_path: Path) -> None:
    store = SweepStore(tmp_path / "sw")

    def on_done(cell: Cell, error: str | None) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)

    with pytest.raises(KeyboardInterrupt):
        run_serial(cells[:2], store, {}, on_done)
    assert [store.load(c) is not None for c in cells[:2]] == [True, False]
