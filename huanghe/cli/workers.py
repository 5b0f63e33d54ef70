"""A small supervisor for ``huanghe up --workers N``: N uvicorn server processes, each with its OWN listening
socket bound with ``SO_REUSEPORT`` on the configured host and port (issue #16).

Why not uvicorn's own ``workers=N``: its processes share one listening socket, so whichever worker's event loop
wakes first accepts every pending connection; with 32 keep-alive clients one worker held 26–32 of them in about
half the runs of bench/bench_replicas.py and the other idled. With one socket per worker, Linux spreads new
connections over the sockets by a hash of the client's address and port, so each worker gets its share.

The supervisor binds the N sockets itself (so a bind error is reported once, before any worker starts) and keeps
them open for its whole life: a worker that dies is restarted on the *same* socket (connections the kernel queued
on it meanwhile are served by the new worker, not reset), at most once per :data:`RESTART_MIN_INTERVAL_S` per
worker. SIGTERM / SIGINT stop every worker (SIGTERM: uvicorn's graceful shutdown, SIGKILL after
:data:`STOP_TIMEOUT_S`). Workers are started with multiprocessing's *spawn* method, inherit the environment (the
``HUANGHE_*`` settings, ``PROMETHEUS_MULTIPROC_DIR``) and ask the kernel to SIGTERM them should the supervisor die.

Only processes of the same user can join a ``SO_REUSEPORT`` group (Linux checks the effective uid), so no other
account can steal connections from the port.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from types import FrameType

import uvicorn

log = logging.getLogger("huanghe.workers")

#: Longest wait, seconds, for a worker to finish its graceful shutdown after SIGTERM before it is SIGKILLed.
STOP_TIMEOUT_S = 30.0
#: Shortest time, seconds, between two starts of the same worker (a worker that dies at once is not respawned
#: in a tight loop).
RESTART_MIN_INTERVAL_S = 1.0
#: How often, seconds, the supervisor looks for dead workers.
POLL_S = 0.2
_PR_SET_PDEATHSIG = 1


def bind_reuseport(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` with ``SO_REUSEADDR`` and ``SO_REUSEPORT`` (Linux)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host.strip("[]"), port))
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind_group(host: str, port: int, count: int, backlog: int = 2048) -> list[socket.socket]:
    """``count`` sockets of one ``SO_REUSEPORT`` group on ``host``:``port``; ``OSError`` (EADDRINUSE) if any
    socket already listens there, even one of another ``SO_REUSEPORT`` group of this user (a second ``huanghe
    up`` on the same port must fail, not silently share the port's connections with the first)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:  # no SO_REUSEPORT: fails if the port is taken
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host.strip("[]"), port))
    out: list[socket.socket] = []
    try:
        for _ in range(count):
            out.append(bind_reuseport(host, port, backlog))
    except OSError:
        for s in out:
            s.close()
        raise
    return out


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this process when its parent (the supervisor) ends (best effort)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux / no libc symbol: the supervisor's SIGTERM still applies
        pass


def _serve(config: uvicorn.Config, sock: socket.socket) -> None:
    """Body of one worker process: serve ``config``'s app on ``sock`` until SIGTERM / SIGINT."""
    _die_with_parent()
    config.configure_logging()
    uvicorn.Server(config).run(sockets=[sock])


class Supervisor:
    """``workers`` uvicorn processes serving ``config``, one ``SO_REUSEPORT`` socket each."""

    def __init__(
        self, config: uvicorn.Config, workers: int, sockets: list[socket.socket] | None = None
    ) -> None:
        self.config = config
        self.workers = workers
        #: One bound socket per worker (:func:`bind_group`): given, or bound by :meth:`run`.
        self.sockets: list[socket.socket] = list(sockets or [])
        self.procs: list[BaseProcess | None] = [None] * workers
        self.started_at = [0.0] * workers
        self.restarts = 0
        self._stop = threading.Event()
        self._ctx = multiprocessing.get_context("spawn")

    def _start(self, i: int) -> None:
        proc = self._ctx.Process(
            target=_serve, args=(self.config, self.sockets[i]), name=f"huanghe-worker-{i}"
        )
        proc.start()
        self.procs[i] = proc
        self.started_at[i] = time.monotonic()

    def request_stop(self, signum: int = signal.SIGTERM, _frame: FrameType | None = None) -> None:
        """Signal handler: stop every worker and return from :meth:`run`."""
        self._stop.set()

    def run(self) -> None:
        """Bind, start every worker, restart the ones that die, until SIGTERM / SIGINT; then stop them all."""
        handled = (signal.SIGTERM, signal.SIGINT)
        previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {
            s: signal.signal(s, self.request_stop) for s in handled
        }
        try:
            if not self.sockets:
                self.sockets = bind_group(
                    self.config.host, self.config.port, self.workers, self.config.backlog
                )
            for i in range(self.workers):
                self._start(i)
            while not self._stop.wait(POLL_S):
                self._restart_dead()
        finally:
            self._stop_all()
            for s in self.sockets:
                s.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _restart_dead(self) -> None:
        for i, proc in enumerate(self.procs):
            if proc is None or proc.is_alive() or self._stop.is_set():
                continue
            if time.monotonic() - self.started_at[i] < RESTART_MIN_INTERVAL_S:
                continue
            log.warning(
                "worker %d (pid %s) exited with code %s; restarting it (工作进程退出，正在重启)",
                i, proc.pid, proc.exitcode,
            )  # fmt: skip
            proc.close()
            self.restarts += 1
            self._start(i)

    def _stop_all(self) -> None:
        alive = [p for p in self.procs if p is not None and p.is_alive()]
        for p in alive:
            p.terminate()  # SIGTERM: uvicorn finishes the requests in flight
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for p in alive:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                log.warning("worker pid %s did not stop in %.0f s; killing it", p.pid, STOP_TIMEOUT_S)
                p.kill()
                p.join(5)


def serve_workers(
    app: str,
    *,
    host: str,
    port: int,
    workers: int,
    log_level: str,
    sockets: list[socket.socket] | None = None,
) -> None:
    """Serve the app factory ``app`` ("module:function") with ``workers`` processes until SIGTERM / SIGINT, on
    ``sockets`` (``workers`` of them, from :func:`bind_group`) or on sockets bound here."""
    config = uvicorn.Config(app, factory=True, host=host, port=port, log_level=log_level)
    Supervisor(config, workers, sockets).run()
