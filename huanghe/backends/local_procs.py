"""Processes of the local back-end's jobs, read from ``/proc``: whether a job's wrapper is alive (by pid AND its
start time in clock ticks, so a recycled pid is not mistaken for it), the members of its session, and finding a
wrapper by its command line after a crash. Linux only; no state."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def proc_stat(pid: int) -> tuple[str, int] | None:
    """(state letter, start time in clock ticks since boot) of a process, or None if it does not exist."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return fields[0], int(fields[19])


def alive(pid: int, start_ticks: int) -> bool:
    st = proc_stat(pid)
    return st is not None and st[1] == start_ticks and st[0] not in ("Z", "X")


def session_members(sid: int) -> list[int]:
    """PIDs whose session id is ``sid`` (the job's wrapper started a new session; ``timeout`` makes its own
    process group inside it, so a process-group kill would miss it)."""
    out = []
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            raw = (p / "stat").read_text()
        except OSError:
            continue
        fields = raw[raw.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] not in ("Z", "X"):
            out.append(int(p.name))
    return out


def kill_session(sid: int, sig: signal.Signals) -> None:
    for pid in session_members(sid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, sig)


def wrapper_process(wrapper: Path) -> tuple[int, int]:
    """(pid, start ticks) of the live process running ``wrapper`` (found by its command line), or (-1, -1)."""
    arg = str(wrapper).encode()
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if arg not in (p / "cmdline").read_bytes().split(b"\0"):
                continue
            raw = (p / "stat").read_text()
        except OSError:
            continue
        return int(p.name), int(raw[raw.rindex(")") + 2 :].split()[19])
    return -1, -1
