"""`huanghe submit ... -- COMMAND...` and `huanghe jobs list|show|cancel|logs|events`: the jobs API over HTTP,
through :class:`huanghe.client.HuangheClient`.

The server is ``$HUANGHE_URL`` (default http://127.0.0.1:8000); ``$HUANGHE_TOKEN``, when set, is sent as a
Bearer token. Exit codes (:mod:`huanghe.cli.remote`): 1 when the server refuses (each problem printed with its
field path), 3 when it cannot be reached or fails (5xx), 2 for usage errors. ``submit --wait`` follows the
job, prints its output, and exits 0 only when the job SUCCEEDED (1 otherwise).
"""

from __future__ import annotations

import json
import shlex
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from huanghe.cli import remote
from huanghe.client import DEFAULT_URL, TERMINAL_STATES, HuangheClient, WaitTimeoutError
from huanghe.client.types import Job

__all__ = ["DEFAULT_URL", "client", "register"]

TERMINAL = TERMINAL_STATES
EXIT_UNREACHABLE = remote.EXIT_UNREACHABLE
#: Looks at the output of a job that ended without any output yet (0.3 s apart; not local jobs, whose
#: output is complete when they end).
TAIL_LOOKS = 6

jobs_app = typer.Typer(
    help="Jobs: list, show, cancel, logs, events (作业管理).",
    epilog=remote.EXIT_CODES_HELP,
    no_args_is_help=True,
)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def client() -> Iterator[HuangheClient]:
    """A client of ``$HUANGHE_URL``; its failures become a message and an exit code (:mod:`huanghe.cli.remote`)."""
    with remote.connect() as c:
        yield c


def _fmt_time(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


def submit(
    command: Annotated[list[str], typer.Argument(help="the command to run, after --", show_default=False)],
    wait: Annotated[bool, typer.Option("--wait", help="follow the job; exit 0 only if it SUCCEEDED")] = False,
    cpus: Annotated[float, typer.Option(help="CPU cores per node", min=0.001)] = 1.0,
    gpus: Annotated[float, typer.Option(help="GPUs per node", min=0)] = 0.0,
    mem_gb: Annotated[float, typer.Option("--mem-gb", help="memory per node, GB", min=0)] = 0.0,
    nodes: Annotated[int, typer.Option(help="nodes (a gang)", min=1)] = 1,
    accelerator: Annotated[str, typer.Option(help="accelerator model or class (gpu, npu, ...)")] = "",
    kind: Annotated[str, typer.Option(help="cpu, gpu, hpc or inference")] = "cpu",
    user_city: Annotated[str | None, typer.Option("--user-city", help="city of the job's users")] = None,
    latency_slo_ms: Annotated[
        float | None, typer.Option("--latency-slo-ms", help="one-way latency bound, ms", min=0.001)
    ] = None,
    deadline_s: Annotated[
        float | None, typer.Option("--deadline-s", help="finish within N s of submission", min=0)
    ] = None,
    duration_s: Annotated[
        float | None, typer.Option("--duration-s", help="run-time estimate, s", min=0)
    ] = None,
    priority: Annotated[int, typer.Option(help="higher runs first")] = 0,
    max_price: Annotated[
        float | None, typer.Option("--max-price", help="price cap, CNY per hour (whole job)", min=0)
    ] = None,
    name: Annotated[str, typer.Option(help="job name (default: its id)")] = "",
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", help="input dataset id (repeatable)")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="tenant id")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="retries with the same key never make a 2nd job")
    ] = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout-s", help="give up waiting after N s", min=0.1)
    ] = 3600.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the job as JSON")] = False,
) -> None:
    """Submit a job: huanghe submit --cpus 1 --wait -- echo hello (提交作业)."""
    if not command:
        typer.echo("nothing to run: give the command after -- (缺少命令)", err=True)
        raise typer.Exit(2)
    body: dict[str, Any] = {
        "command": command[0] if len(command) == 1 else shlex.join(command),
        "cpus": cpus, "gpus": gpus, "mem_gb": mem_gb, "nodes": nodes, "accelerator": accelerator,
        "kind": kind, "priority": priority, "name": name, "datasets": dataset or [],
    }  # fmt: skip
    optional = {
        "user_city": user_city, "latency_slo_ms": latency_slo_ms, "deadline_s": deadline_s,
        "duration_s": duration_s, "max_price_cny_per_hour": max_price, "tenant": tenant,
    }  # fmt: skip
    body.update({k: v for k, v in optional.items() if v is not None})
    with client() as c:
        job = c.submit_job(body, idempotency_key)
        if not wait:
            typer.echo(json.dumps(job, ensure_ascii=False) if as_json else f"submitted (已提交) {job['id']}")
            return
        err.print(f"submitted (已提交) {job['id']}")
        final = _follow(c, job["id"], timeout_s)
    if as_json:
        typer.echo(json.dumps(final, ensure_ascii=False))
    ok = final["state"] == "SUCCEEDED"
    err.print(
        f"{final['state']} {final['id']} on {final.get('pool') or '-'} ({final.get('center') or '-'})"
        f"{'' if ok else ': ' + (final.get('message') or '')}"
    )
    raise typer.Exit(0 if ok else remote.EXIT_REFUSED)


def _follow(c: HuangheClient, job_id: str, timeout_s: float) -> Job:
    """Print state changes (stderr) and the output (stdout) until the job is terminal; exit 1 on time-out."""
    shown = 0  # history entries printed so far (every state is shown, even one shorter than a poll)
    offset = 0

    def on_poll(job: Job) -> None:
        nonlocal shown, offset
        history = job.get("history", [])
        for h in history[shown:]:
            err.print(f"{h['state']:<10} {h['message']}", highlight=False)
        shown = max(shown, len(history))
        if job.get("backend_job_id"):
            out = c.job_logs(job_id, offset)
            if out["data"]:
                sys.stdout.write(out["data"])
                sys.stdout.flush()
            offset = out["next_offset"]

    try:
        job = c.wait_job(job_id, timeout_s=timeout_s, poll_s=0.2, on_poll=on_poll)
    except WaitTimeoutError as exc:
        err.print(f"still {exc.job['state']} after {timeout_s} s; not waiting longer (等待超时)")
        raise typer.Exit(remote.EXIT_REFUSED) from None
    if job.get("backend_job_id"):
        # some back-ends (Ray, Slurm) write the last lines a moment after the end: look a few times
        for _ in range(TAIL_LOOKS if offset == 0 and job.get("backend") != "local" else 1):
            tail = c.job_logs(job_id, offset)
            sys.stdout.write(tail["data"])
            sys.stdout.flush()
            offset = tail["next_offset"]
            if offset:
                break
            time.sleep(0.3)
    return job


@jobs_app.command("list")
def list_cmd(
    state: Annotated[str | None, typer.Option(help="PENDING, RUNNING, SUCCEEDED, ...")] = None,
    pool: Annotated[str | None, typer.Option(help="pool id")] = None,
    center: Annotated[str | None, typer.Option(help="center id")] = None,
    tenant: Annotated[str | None, typer.Option(help="tenant id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the page as JSON")] = False,
) -> None:
    """List jobs, newest first (作业列表)."""
    with client() as c:
        page = c.list_jobs(
            state=state or None, pool=pool or None, center=center or None, tenant=tenant or None,
            limit=limit, offset=offset,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(page, ensure_ascii=False))
        return
    t = Table(title=f"jobs 作业 ({page['total']} total)")
    for col in ("id", "name", "state", "pool", "center", "submitted", "exit"):
        t.add_column(col)
    for j in page["items"]:
        t.add_row(
            j["id"], j["name"], j["state"], j["pool"] or "-", j["center"] or "-", _fmt_time(j["submit_s"]),
            "-" if j["exit_code"] is None else str(j["exit_code"]),
        )  # fmt: skip
    Console().print(t)


@jobs_app.command("show")
def show_cmd(
    job_id: Annotated[str, typer.Argument(help="job id")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """A job: state history, placement and why, cost (作业详情)."""
    with client() as c:
        job = c.get_job(job_id)
    if as_json:
        typer.echo(json.dumps(job, ensure_ascii=False))
        return
    con = Console()
    con.print(f"[bold]{job['id']}[/] {job['name']}  state 状态: [bold]{job['state']}[/]  {job['message']}")
    con.print(
        f"pool 资源池: {job['pool'] or '-'}  center 中心: {job['center'] or '-'}  attempt {job['attempt']}"
    )
    cost = "-" if job["cost_cny"] is None else f"{job['cost_cny']:.4f}"
    est = "-" if job["est_cost_cny"] is None else f"{job['est_cost_cny']:.4f}"
    con.print(f"cost 费用 CNY: {cost} (estimate 估计 {est})  exit code: {job['exit_code']}")
    t = Table(title="history 状态历史")
    t.add_column("time")
    t.add_column("state")
    t.add_column("message")
    for h in job["history"]:
        t.add_row(_fmt_time(h["t_s"]), h["state"], h["message"])
    con.print(t)
    p = job.get("placement")
    if p:
        why = p["explanation"]
        con.print(
            f"placement 调度 ({p['policy']}): {p['pool']} @ {p['center']}; "
            f"{why.get('feasible')} of {why.get('candidates')} pools feasible"
        )
        for r in why.get("removed", []):
            con.print(f"  removed by {r['reason']}: {r['count']} (e.g. {', '.join(r['pool_ids'])})")
        if why.get("runner_up"):
            con.print(f"  runner-up 次优: {why['runner_up']['pool']} (score {why['runner_up']['score']:.3f})")


@jobs_app.command("cancel")
def cancel_cmd(
    job_id: Annotated[str, typer.Argument(help="job id")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Cancel a job (取消作业)."""
    with client() as c:
        job = c.cancel_job(job_id)
    if as_json:
        typer.echo(json.dumps(job, ensure_ascii=False))
        return
    what = "cancel requested (已请求取消)" if job["state"] not in TERMINAL else job["state"]
    typer.echo(f"{job['id']}: {what}")


@jobs_app.command("logs")
def logs_cmd(
    job_id: Annotated[str, typer.Argument(help="job id")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing until the job ends")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
) -> None:
    """A job's output (作业输出)."""
    offset = 0
    with client() as c:
        while True:
            out = c.job_logs(job_id, offset)
            if as_json:
                typer.echo(json.dumps(out, ensure_ascii=False))
                return
            sys.stdout.write(out["data"])
            sys.stdout.flush()
            offset = out["next_offset"]
            if not follow or out["terminal"]:
                if out["message"] and not out["data"] and offset == 0:
                    err.print(out["message"])
                return
            time.sleep(0.3)


@jobs_app.command("events")
def events_cmd(
    job_id: Annotated[str, typer.Argument(help="job id")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Every recorded event of a job (作业事件)."""
    with client() as c:
        data = c.job_events(job_id)
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    for e in data["items"]:
        typer.echo(f"{_fmt_time(e['t_s'])}  {e['kind']:<16} {e['state'] or '':<10} {e['message']}")


def register(app: typer.Typer) -> None:
    app.command("submit", epilog=remote.EXIT_CODES_HELP)(submit)
    app.add_typer(jobs_app, name="jobs")
