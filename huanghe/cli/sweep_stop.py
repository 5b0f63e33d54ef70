"""Ctrl-C (SIGINT) and SIGTERM stop a sweep through a flag of its own, not through ``KeyboardInterrupt``.

While a sweep runs, :meth:`StopFlag.installed` puts :meth:`StopFlag.handle` in place for both signals (the
previous handlers come back afterwards). The first signal only sets the flag and writes a one-line note to
stderr; the executors (:mod:`huanghe.cli.sweep_exec`) look at the flag before each cell and after each one, stop
there, and the command then names the finished cells and exits ``128 + signal`` (130 for Ctrl-C, 143 for
SIGTERM). A second signal raises ``KeyboardInterrupt``: stop at once, without waiting for the running cell.

Why a flag: an exception raised at whatever line the signal lands on can be caught and lost on the way (a
serial sweep once ran 12.3 s to its end and exit 0 after a SIGINT that reached it with Python's handler in
place, cause not found), and on Ray a ``KeyboardInterrupt`` inside Ray's own calls, followed by a forced cancel
of tasks that are just completing, trips a check in its core worker that ends the process with exit 1 (Ray 2.x,
"Tried to complete task that was not pending"). A handler that only sets a flag raises nothing to be lost.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

#: the signals that stop a sweep
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

_Handler = Callable[[int, FrameType | None], Any] | int | None


class StopFlag:
    """Set by the first SIGINT / SIGTERM while installed; ``note`` (one line) is written to stderr then."""

    def __init__(self, note: str = "") -> None:
        self.note = note
        #: the first signal received (None: not stopped)
        self.signum: int | None = None
        self._event = threading.Event()

    def is_set(self) -> bool:
        return self._event.is_set()

    @property
    def exit_code(self) -> int:
        """The shell's code for a process ended by the signal: 128 + its number (130 SIGINT, 143 SIGTERM)."""
        return 128 + int(self.signum if self.signum is not None else signal.SIGINT)

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum if self.signum is not None else signal.SIGINT).name

    def handle(self, signum: int, _frame: FrameType | None = None) -> None:
        """Signal handler: the first signal sets the flag and writes the note; a second one stops at once."""
        if self._event.is_set():
            raise KeyboardInterrupt
        self.signum = signum
        self._event.set()
        if self.note:
            with contextlib.suppress(OSError):  # a raw write: no lock or buffer of Python's is re-entered
                os.write(2, f"\n{signal.Signals(signum).name}: {self.note}\n".encode())

    @contextlib.contextmanager
    def installed(self) -> Iterator[StopFlag]:
        """:meth:`handle` for SIGINT and SIGTERM within the block, the previous handlers restored after it.

        A signal the process was started with ignored stays ignored (``nohup``, or a background job of a
        non-interactive shell, which must not stop on the terminal's Ctrl-C; Python itself leaves such a SIGINT
        alone). Both signals are unblocked in this thread for the block (a process inherits the signal mask of
        the thread that forked it, and a library there may have blocked them: the interrupt would then wait
        for ever). Nested use is fine (``ray.init`` puts its own SIGTERM handler in place, so the Ray executor
        installs the flag again inside its session). Outside the main thread, which alone runs Python's signal
        handlers, nothing is installed."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous: dict[signal.Signals, _Handler] = {}
        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) != signal.SIG_IGN:
                previous[sig] = signal.signal(sig, self.handle)
        mask = signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        try:
            yield self
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            for sig, handler in previous.items():  # None: a handler set outside Python; the default stands in
                signal.signal(sig, signal.SIG_DFL if handler is None else handler)
