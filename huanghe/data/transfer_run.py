"""A transfer worker as its own process: ``python -m huanghe.data.transfer_run --db URL [--until-idle]``.

The server runs the same loop in its lifespan (:class:`~huanghe.data.transfers.TransferLoop`); a separate
process adds copy capacity beside it (leases keep them apart) and is what the crash test and the benchmark
kill with SIGKILL. It re-queues expired leases first, then steps; ``--until-idle`` exits 0 once no transfer
is queued or active any more (or 2 after ``--max-s`` seconds). Each ended transfer is printed as one line
``<id> <outcome>`` on stdout (flushed). Settings: ``HUANGHE_TRANSFERS_*``; endpoint keys need
``HUANGHE_SECRET_KEY``.
"""

from __future__ import annotations

import argparse
import sys
import time

from sqlalchemy import func, select

from huanghe.data.models import TransferRow
from huanghe.data.transfers import TransferService, TransferSettings
from huanghe.store.db import make_session_factory


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m huanghe.data.transfer_run", description=__doc__)
    ap.add_argument("--db", required=True, help="database URL")
    ap.add_argument("--until-idle", action="store_true", help="exit once nothing is queued or active")
    ap.add_argument("--max-s", type=float, default=600.0, help="give up after this many seconds")
    args = ap.parse_args(argv)
    sf = make_session_factory(args.db)
    svc = TransferService(sf, TransferSettings())
    svc.recover()
    deadline = time.monotonic() + args.max_s
    try:
        while time.monotonic() < deadline:
            svc.wake.clear()
            rep = svc.step()
            for tid, outcome in rep.outcomes.items():
                print(tid, outcome, flush=True)
            if args.until_idle and not svc.busy:
                with sf() as s:
                    live = s.scalar(select(func.count()).select_from(TransferRow)
                                    .where(TransferRow.state.in_(("queued", "active"))))  # fmt: skip
                if not live:
                    return 0
            svc.wake.wait(svc.settings.interval_s)
        return 2
    finally:
        svc.close(wait_s=0)


if __name__ == "__main__":
    sys.exit(main())
