"""A private PostgreSQL server for the tests: its own data dir, a free loopback port, stopped by PID.

Usage::

    server = PostgresServer.start()      # initdb + postgres on 127.0.0.1:<free port>
    url = server.create_database("x")    # SQLAlchemy URL postgresql+psycopg://postgres@127.0.0.1:<port>/x
    server.stop()

The binaries are looked up in ``$HUANGHE_PG_BIN`` or ``/usr/lib/postgresql/*/bin`` (newest version first).
As root, initdb runs as user ``postgres`` (``runuser -u postgres --``) and the server with that uid.
Durability is off (fsync, synchronous_commit): this is a throw-away test database.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.infra.ports import PortTakenError, free_port, start_with_retry, wait_listening

__all__ = ["PostgresServer", "PostgresUnavailableError", "find_pg_bin", "free_port"]

START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 15.0


class PostgresUnavailableError(RuntimeError):
    """The PostgreSQL binaries are missing or the server would not start."""


def find_pg_bin() -> Path | None:
    """Directory holding ``initdb`` and ``postgres``, or None."""
    env = os.environ.get("HUANGHE_PG_BIN")
    if env:  # explicit: only there
        return Path(env) if (Path(env) / "initdb").exists() and (Path(env) / "postgres").exists() else None
    candidates: list[str] = []

    def version_key(path: str) -> tuple[int, ...]:
        ver = Path(path).parent.name
        return tuple(int(p) for p in ver.split(".") if p.isdigit())

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version_key, reverse=True)
    for cand in candidates:
        if cand and (Path(cand) / "initdb").exists() and (Path(cand) / "postgres").exists():
            return Path(cand)
    return None


def _as_postgres() -> bool:
    return os.geteuid() == 0


def _launch(bin_dir: Path, root: Path, port: int, user: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start the postmaster on ``root``/data and 127.0.0.1:``port`` (as ``user`` when root), its output appended
    to ``root``/postgres.log; returns the process and the log's size before it started."""
    cmd = [
        str(bin_dir / "postgres"), "-D", str(root / "data"), "-h", "127.0.0.1", "-p", str(port),
        "-k", str(root / "sock"), "-c", "fsync=off", "-c", "synchronous_commit=off",
        "-c", "full_page_writes=off", "-c", "max_connections=100",
    ]  # fmt: skip
    kwargs: dict[str, object] = {}
    if _as_postgres():
        entry = pwd.getpwnam(user)
        kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
    log_path = root / "postgres.log"
    offset = log_path.stat().st_size if log_path.exists() else 0
    with open(log_path, "ab") as log:
        proc: subprocess.Popen[bytes] = subprocess.Popen(  # type: ignore[call-overload]
            cmd, stdout=log, stderr=subprocess.STDOUT, cwd=root, start_new_session=True, **kwargs
        )
    return proc, offset


@dataclass
class PostgresServer:
    """A running private server. ``pid`` is the postmaster's process id."""

    bin_dir: Path
    root: Path
    port: int
    pid: int
    process: subprocess.Popen[bytes] = field(repr=False)
    user: str = "postgres"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"

    @classmethod
    def start(cls, bin_dir: Path | None = None) -> PostgresServer:
        """initdb into a new temporary directory and start the server; raise PostgresUnavailableError on failure."""
        bin_dir = bin_dir or find_pg_bin()
        if bin_dir is None:
            raise PostgresUnavailableError(
                "PostgreSQL binaries not found in /usr/lib/postgresql/*/bin (or $HUANGHE_PG_BIN). "
                "Install them with `make test-deps` (Debian package `postgresql`), "
                "or set HUANGHE_SKIP_POSTGRES=1 to skip the PostgreSQL tests."
            )
        root = Path(tempfile.mkdtemp(prefix="huanghe-pg-"))
        data, sock = root / "data", root / "sock"
        sock.mkdir()
        run_as: list[str] = []
        user = pwd.getpwuid(os.geteuid()).pw_name
        if _as_postgres():
            user = "postgres"
            entry = pwd.getpwnam(user)
            for p in (root, sock):
                os.chown(p, entry.pw_uid, entry.pw_gid)
            run_as = ["runuser", "-u", user, "--"]
        init = subprocess.run(
            [*run_as, str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
             "-E", "UTF8", "--locale=C", "--no-sync"],
            capture_output=True, text=True, check=False, cwd=root,
        )  # fmt: skip
        if init.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailableError(
                f"initdb failed ({init.returncode}): {init.stderr.strip()[-2000:]}"
            )

        def attempt() -> PostgresServer:  # a new port each time (start_with_retry)
            port = free_port()
            proc, offset = _launch(bin_dir, root, port, user)
            server = cls(bin_dir=bin_dir, root=root, port=port, pid=proc.pid, process=proc, user=user)
            server._await_own(offset)
            return server

        try:
            return start_with_retry(attempt)
        except (PostgresUnavailableError, PortTakenError) as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise PostgresUnavailableError(f"postgres did not start: {exc}") from exc

    def _await_own(self, log_offset: int) -> None:
        """Wait until this postmaster (by PID) listens on ``port`` and accepts connections; on failure stop it
        and raise PortTakenError (another process took the port) or PostgresUnavailableError."""
        try:
            wait_listening(self.pid, [self.port], alive=lambda: self.process.poll() is None,
                           log=lambda: self._log_tail(log_offset), timeout_s=START_TIMEOUT_S,
                           what=f"postgres on port {self.port}")  # fmt: skip
            self._wait_ready()
        except PortTakenError:
            self._kill()
            raise
        except RuntimeError as exc:
            self._kill()
            if isinstance(exc, PostgresUnavailableError):
                raise
            raise PostgresUnavailableError(str(exc)) from exc

    def _wait_ready(self) -> None:
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise PostgresUnavailableError(f"exited with {self.process.returncode}: {self._log_tail()}")
            try:
                with psycopg.connect(self.dsn("postgres"), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                time.sleep(0.05)
        raise PostgresUnavailableError(f"not ready after {START_TIMEOUT_S} s: {self._log_tail()}")

    def _log_tail(self, offset: int = 0) -> str:
        """The end of the server's log after byte ``offset`` (this start's lines)."""
        try:
            with open(self.log_file, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")[-2000:]
        except OSError:
            return ""

    def dsn(self, database: str) -> str:
        """libpq connection string for ``database``."""
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={database}"

    def url(self, database: str) -> str:
        """SQLAlchemy URL (psycopg 3 driver) for ``database``."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database ``name`` (letters, digits, _) and return its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad database name {name!r}")
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _kill(self) -> None:
        """Immediate shutdown (SIGQUIT: no checkpoint, the data is thrown away) of the postmaster by PID;
        SIGKILL if it does not stop in time."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGQUIT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(self.pid, signal.SIGKILL)
                self.process.wait(timeout=STOP_TIMEOUT_S)

    def cut(self) -> None:
        """Take the database away (immediate shutdown by PID) but keep its data: :meth:`restore` brings it
        back on the same port, as after an outage."""
        self._kill()

    def restore(self) -> None:
        """Start the server again on its data directory and port after :meth:`cut` (crash recovery). The port
        cannot change (clients hold URLs with it): PostgresUnavailableError if another process took it."""
        self.process, offset = _launch(self.bin_dir, self.root, self.port, self.user)
        self.pid = self.process.pid
        try:
            self._await_own(offset)
        except PortTakenError as exc:
            raise PostgresUnavailableError(f"cannot restore postgres on its port {self.port}: {exc}") from exc

    def stop(self) -> None:
        """Stop the server by PID and delete its directory."""
        self._kill()
        shutil.rmtree(self.root, ignore_errors=True)
