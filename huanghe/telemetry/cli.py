"""``huanghe telemetry generate``: simulated telemetry history (``source: simulated``) for backfilling.

* ``--out FILE``: write the samples in the push format — ``.json``: one ``{"samples": [...]}`` document
  (``POST /api/v1/telemetry`` accepts it, up to its batch limit), ``.jsonl``: one sample per line;
  the network is ``--network`` (bundled name or topology file).
* ``--db URL``: store them directly in a database (migrated first) holding a network, then compute the
  rollups of the range.

Times: ``--hours`` before ``--end`` (ISO 8601, default now, UTC) every ``--step-s`` seconds.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

telemetry_app = typer.Typer(help="遥测 Telemetry tools.", no_args_is_help=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _end_ms(end: str | None) -> int:
    if end is None:
        return int(time.time() * 1000)
    try:
        when = datetime.fromisoformat(end.replace("Z", "+00:00"))
    except ValueError:
        raise _fail(f"--end: not an ISO 8601 time: {end!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp() * 1000)


def push_record(s: Any) -> dict[str, Any]:
    """A generated sample in the push format of ``POST /api/v1/telemetry``."""
    from huanghe.observatory.metric_catalog import METRICS

    rec: dict[str, Any] = {
        "center": s.center, "metric": s.metric,
        "time": datetime.fromtimestamp(s.time_ms / 1000, tz=UTC).isoformat().replace("+00:00", "Z"),
        "value": round(s.value, 6), "unit": s.unit, "source": s.source,
    }  # fmt: skip
    kind = METRICS[s.metric].subject
    if s.subject and kind in ("center_or_pool", "tier", "peer"):
        rec[{"center_or_pool": "pool", "tier": "tier", "peer": "peer"}[kind]] = s.subject
    return rec


def _to_file(out: Path, network: str, hours: float, end_ms: int, step_s: float, seed: int) -> int:
    from huanghe.catalog.topology import load_topology
    from huanghe.core.errors import TopologyError
    from huanghe.observatory.generator import TelemetryGenerator

    if out.suffix.lower() not in (".json", ".jsonl"):
        raise _fail(f"--out: use a .json or .jsonl file, not {out.suffix or 'no suffix'!r}")
    try:
        gen = TelemetryGenerator(load_topology(network), seed)
    except (TopologyError, OSError, ValueError) as exc:
        raise _fail(f"--network: {exc}") from None
    records = [
        push_record(s) for tick in gen.history(end_ms - int(hours * 3_600_000), end_ms, step_s) for s in tick
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        if out.suffix.lower() == ".json":
            json.dump({"samples": records}, fh, ensure_ascii=False)
        else:
            fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    return len(records)


def _to_db(db: str, hours: float, end_ms: int, step_s: float, seed: int) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from huanghe.store.db import make_session_factory
    from huanghe.store.migrate import migrate
    from huanghe.telemetry.runtime import TelemetryRuntime
    from huanghe.telemetry.settings import TelemetrySettings

    try:
        migrate(db)
        factory = make_session_factory(db)
    except (SQLAlchemyError, ValueError, OSError) as exc:
        raise _fail(
            f"--db: cannot open or migrate the database (数据库不可用): {str(exc).splitlines()[0]}", 1
        ) from None
    try:
        runtime = TelemetryRuntime(factory, TelemetrySettings(seed=seed))
        n = runtime.backfill(hours, end_ms, step_s)
    finally:
        factory.kw["bind"].dispose()
    if n == 0:
        raise _fail(
            "--db: the database holds no network (import one: huanghe topology import shandong --db ...)", 1
        )
    return n


@telemetry_app.command("generate")
def generate_cmd(
    hours: float = typer.Option(24.0, "--hours", min=0.0, max=24.0 * 366, help="history length, hours"),
    out: Path | None = typer.Option(None, "--out", help=".json (one batch) or .jsonl file"),
    db: str | None = typer.Option(None, "--db", help="store into this database URL instead"),
    network: str = typer.Option("shandong", "--network", help="with --out: bundled network or topology file"),
    step_s: float = typer.Option(300.0, "--step-s", min=1.0, help="seconds between samples"),
    end: str | None = typer.Option(None, "--end", help="end time, ISO 8601 (default: now, UTC)"),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Simulated telemetry history (模拟遥测数据), marked source=simulated."""
    if (out is None) == (db is None):
        raise _fail("give exactly one of --out FILE or --db URL")
    end_ms = _end_ms(end)
    if out is not None:
        n = _to_file(out, network, hours, end_ms, step_s, seed)
        typer.echo(f"wrote {n} simulated samples to {out}")
    else:
        assert db is not None
        n = _to_db(db, hours, end_ms, step_s, seed)
        typer.echo(f"stored {n} simulated samples ({hours:g} h, step {step_s:g} s) and their rollups")


def register(app: typer.Typer) -> None:
    app.add_typer(telemetry_app, name="telemetry")
