"""Loopback ports for the test servers, without losing a port to another process.

Choosing a port with :func:`free_port` (bind port 0, read it, close) and starting a server on it later is a
time-of-check/time-of-use race: under pytest-xdist another worker, or a server another test starts, can take
the port in between, and a health check that only asks "does something answer on the port?" then talks to
the wrong server. So:

* in-process servers bind first and are handed the bound socket (:func:`bind_loopback`,
  :class:`ThreadedUvicorn`): no gap at all;
* external daemons that must be given a port number are started by :func:`start_with_retry` (one port:
  :func:`spawn_on_free_port`): a start whose port was taken raises :class:`PortTakenError` (seen in the
  daemon's log, or a foreign process listening on one of its ports) and is tried again on new ports;
  :func:`wait_listening` accepts a port only when the listening socket belongs to the daemon's own process
  tree (by PID, from ``/proc``);
* a command that binds its port and then fails on purpose (a test of the failure) runs again on a new port
  while its output says the port was in use (:func:`run_on_free_port`);
* a URL nobody must answer holds its port bound but not listening (:func:`refused_url`): a connection is
  refused, and nothing else can take the port while it is held.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal, TypeVar

import uvicorn

T = TypeVar("T")

#: Starts tried by :func:`start_with_retry` before its :class:`PortTakenError` is raised.
PORT_ATTEMPTS = 3
#: What daemons write when a port they were given is taken (postgres, slurm, Go servers, Python; Ray's check).
IN_USE_MARKERS = ("address already in use", "errno 98", "eaddrinuse", "because it's already occupied")
_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


class PortTakenError(RuntimeError):
    """A daemon could not have a port chosen for it: another process took it first."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 at the time of the call. Racy by nature: give it only to a daemon started
    through :func:`start_with_retry` (or use :func:`bind_loopback` / :func:`refused_url` instead)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bind_loopback() -> socket.socket:
    """A TCP socket listening on 127.0.0.1 on a port chosen by the kernel: the caller owns the port from now on
    (give it to uvicorn; connections made before it serves wait in the backlog). No ``SO_REUSEADDR``: no other
    socket can bind the port while this one is open."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


@contextlib.contextmanager
def refused_url(path: str = "") -> Iterator[str]:
    """``http://127.0.0.1:PORT{path}`` on which every connection is refused while the ``with`` lasts: the port
    is bound (so no other process can listen on it) but not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{path}"


class ThreadedUvicorn:
    """uvicorn serving ``app`` in a daemon thread on a socket bound before the server starts; ``stop()`` ends it.

    Usage: ``server = ThreadedUvicorn(app).start()`` … ``server.url`` … ``server.stop()`` (or ``with``)."""

    def __init__(
        self, app: Any, *, lifespan: Literal["auto", "on", "off"] = "auto", start_timeout_s: float = 15.0
    ) -> None:
        self.sock = bind_loopback()
        self.port = int(self.sock.getsockname()[1])
        self.start_timeout_s = start_timeout_s
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan=lifespan)
        )
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedUvicorn:
        """Start the thread and return once uvicorn serves (RuntimeError after ``start_timeout_s`` seconds)."""
        self.thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                self.stop()
                raise RuntimeError(f"uvicorn did not start on {self.url}")
            time.sleep(0.05)
        return self

    def stop(self) -> None:
        """Ask uvicorn to exit, wait up to 10 s for its thread, release the socket."""
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(timeout=10)
        self.sock.close()

    def __enter__(self) -> ThreadedUvicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _listening_inodes(port: int) -> set[str]:
    """Inodes of the sockets listening on TCP ``port`` (any local address, IPv4 and IPv6)."""
    found: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    found.add(fields[9])
    return found


def process_tree(root: int) -> set[int]:
    """``root`` and all its descendants (from ``/proc/*/stat``)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])  # the command name may hold spaces and ')'
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in tree:
                tree.add(child)
                todo.append(child)
    return tree


def process_starts(root: int) -> dict[int, str]:
    """``root``'s process tree as PID -> start time (field 22 of ``/proc/PID/stat``), to kill it later without
    hitting a process that reused one of the PIDs (:func:`kill_processes`)."""
    out: dict[int, str] = {}
    for pid in process_tree(root):
        with contextlib.suppress(OSError, IndexError):
            out[pid] = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    return out


def kill_processes(starts: dict[int, str]) -> None:
    """SIGKILL each PID of ``starts`` that is still the process recorded (same start time)."""
    for pid, start in starts.items():
        with contextlib.suppress(OSError, IndexError):
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19] == start:
                os.kill(pid, signal.SIGKILL)


def listening_pids(port: int, among: set[int] | None = None) -> set[int]:
    """PIDs holding a socket that listens on ``port`` (only those of ``among`` when given; every process
    otherwise, as far as /proc lets this user see)."""
    inodes = {f"socket:[{i}]" for i in _listening_inodes(port)}
    if not inodes:
        return set()
    pids = among if among is not None else {int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()}
    out: set[int] = set()
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if fd.readlink().as_posix() in inodes:
                        out.add(pid)
                        break
    return out


def port_owner(port: int, root_pid: int) -> str:
    """``"ours"`` when a process of ``root_pid``'s tree listens on ``port``, ``"foreign"`` when only other
    processes do, ``"none"`` when nobody listens."""
    if not _listening_inodes(port):
        return "none"
    return "ours" if listening_pids(port, process_tree(root_pid)) else "foreign"


def port_in_use_text(text: str) -> bool:
    """True when a daemon's log says a port it was given is taken."""
    low = text.lower()
    return any(marker in low for marker in IN_USE_MARKERS)


def wait_listening(
    pid: int,
    ports: list[int],
    *,
    alive: Callable[[], bool],
    log: Callable[[], str],
    timeout_s: float,
    what: str,
    log_while_alive: bool = False,
) -> None:
    """Wait until the process tree of ``pid`` listens on every port of ``ports``.

    Raise :class:`PortTakenError` when another process listens on one of them, or when the daemon ended
    (``alive()`` false) with a log (``log()``) saying a port is in use (with ``log_while_alive``, also while it
    runs: for a daemon whose part that lost the port dies and the rest waits, as Ray's GCS); RuntimeError with
    the log's tail when it ended otherwise or after ``timeout_s`` seconds."""
    deadline = time.monotonic() + timeout_s
    while True:
        owners = {port: port_owner(port, pid) for port in ports}
        if all(owner == "ours" for owner in owners.values()):
            return
        taken = [port for port, owner in owners.items() if owner == "foreign"]
        if taken:
            raise PortTakenError(f"{what}: port(s) {taken} taken by another process")
        if log_while_alive and port_in_use_text(text := log()):
            raise PortTakenError(f"{what}: a port was taken before it bound it: {text[-1500:]}")
        if not alive():
            text = log()
            if port_in_use_text(text):
                raise PortTakenError(f"{what}: a port was taken before it bound it: {text[-1500:]}")
            raise RuntimeError(f"{what} exited before listening on {ports}: {text[-2000:]}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} not listening on {ports} after {timeout_s} s: {log()[-2000:]}")
        time.sleep(0.05)


def start_with_retry(start: Callable[[], T], attempts: int = PORT_ATTEMPTS) -> T:
    """``start()`` (which chooses its ports anew on each call and cleans up after itself when it fails) until
    it does not raise :class:`PortTakenError`, at most ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except PortTakenError:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def log_after(path: Path, offset: int) -> str:
    """``path``'s text after byte ``offset`` (what one start of a daemon appended); "" if it does not exist."""
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace")
    except OSError:
        return ""


def log_size(path: Path) -> int:
    """``path``'s size in bytes, 0 if it does not exist (the offset for :func:`log_after`)."""
    return path.stat().st_size if path.exists() else 0


def stop_process(proc: subprocess.Popen[bytes], timeout_s: float = 15.0) -> None:
    """SIGTERM ``proc`` by PID and wait; SIGKILL after ``timeout_s`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def spawn_on_free_port(
    spawn: Callable[[int], subprocess.Popen[bytes]], log: Path, *, what: str, timeout_s: float = 60.0
) -> tuple[subprocess.Popen[bytes], int]:
    """``spawn(port)`` a daemon that writes its output to ``log`` on a free port, and return it and the port
    once its own process tree listens there; started again on a new port (at most :data:`PORT_ATTEMPTS` starts)
    when another process took the port first. A start that failed otherwise raises RuntimeError (log tail)."""

    def attempt() -> tuple[subprocess.Popen[bytes], int]:
        port = free_port()
        offset = log_size(log)
        proc = spawn(port)
        try:
            wait_listening(proc.pid, [port], alive=lambda: proc.poll() is None, log=lambda: log_after(log, offset),
                           timeout_s=timeout_s, what=f"{what} on port {port}")  # fmt: skip
        except BaseException:
            stop_process(proc)
            raise
        return proc, port

    return start_with_retry(attempt)


def run_on_free_port(run: Callable[[int], T], output: Callable[[T], str], attempts: int = PORT_ATTEMPTS) -> T:
    """``run(port)`` a command that binds the free port it is given and then ends (a test of a server's
    failure after it bound its port); run again on a new port, at most ``attempts`` times, while its output
    (``output(result)``) says the port was in use. Returns the last result."""
    for attempt in range(1, attempts + 1):
        result = run(free_port())
        if attempt == attempts or not port_in_use_text(output(result)):
            return result
    raise AssertionError("unreachable")  # pragma: no cover
