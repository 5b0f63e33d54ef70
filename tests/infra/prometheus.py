"""A real Prometheus (Debian ``prometheus``) on a private loopback port, with a private data directory; stopped
by PID.

The port is chosen free and chosen again (up to 3 starts) when another process takes it before Prometheus
binds it; the start only counts once Prometheus itself (by PID) listens on it.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.infra.ports import spawn_on_free_port, stop_process

PROMETHEUS = shutil.which("prometheus")
#: Seconds Prometheus may take to listen on its port.
START_TIMEOUT_S = 30.0


@dataclass
class Prometheus:
    """A running Prometheus: its process, port and log (stderr)."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        """SIGTERM by PID; SIGKILL if it has not ended after 15 s."""
        stop_process(self.proc)


def start_prometheus(config: Path, root: Path) -> Prometheus:
    """Prometheus with ``config``, its TSDB under ``root``/tsdb and its log in ``root``/prometheus.log."""
    if PROMETHEUS is None:
        raise RuntimeError("prometheus is not installed (Debian package prometheus)")
    exe, log = PROMETHEUS, root / "prometheus.log"

    def spawn(port: int) -> subprocess.Popen[bytes]:
        with log.open("ab") as err:
            return subprocess.Popen(
                [exe, f"--config.file={config}", f"--storage.tsdb.path={root / 'tsdb'}",
                 f"--web.listen-address=127.0.0.1:{port}"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
            )  # fmt: skip

    proc, port = spawn_on_free_port(spawn, log, what="prometheus", timeout_s=START_TIMEOUT_S)
    return Prometheus(proc, port, log)
