"""`huanghe submit ... -- COMMAND...` (:mod:`huanghe.jobs.submit_cli`) and `huanghe jobs
list|show|cancel|logs|events|wait`: the jobs API over HTTP, through :class:`huanghe.client.HuangheClient`.

Every command taking a job id also takes a short unique prefix of it (as ``git`` does): it is resolved with
:meth:`~huanghe.client.HuangheClient.resolve_job_id` (the newest visible jobs, a few pages at most); an
ambiguous prefix exits 1 listing the candidates, an unknown one exits 1.

The server is ``$HUANGHE_URL`` (default http://127.0.0.1:8000); ``$HUANGHE_TOKEN``, when set, is sent as a
Bearer token. Exit codes (:mod:`huanghe.cli.remote`): 1 when the server refuses (each problem printed with its
field path), 3 when it cannot be reached or fails (5xx), 2 for usage errors. ``submit --wait`` follows the
job, prints its output, and exits 0 only when the job SUCCEEDED (1 otherwise); so does ``jobs wait``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from huanghe.cli import remote
from huanghe.client import DEFAULT_URL, TERMINAL_STATES, HuangheClient, JobIdUnresolvedError, WaitTimeoutError
from huanghe.client.types import Job
from huanghe.jobs.submit_cli import submit

__all__ = ["DEFAULT_URL", "client", "register"]

TERMINAL = TERMINAL_STATES
EXIT_UNREACHABLE = remote.EXIT_UNREACHABLE
#: Candidates printed at most when a short id is ambiguous.
MAX_CANDIDATES_SHOWN = 10

jobs_app = typer.Typer(
    help="Jobs: list, show, cancel, logs, events, wait (作业管理).",
    epilog=remote.EXIT_CODES_HELP,
    no_args_is_help=True,
)
err = Console(stderr=True, soft_wrap=True)


@contextmanager
def client() -> Iterator[HuangheClient]:
    """A client of ``$HUANGHE_URL``; its failures become a message and an exit code (:mod:`huanghe.cli.remote`)."""
    with remote.connect() as c:
        yield c


def resolve(c: HuangheClient, job_id: str) -> str:
    """The full id of ``job_id`` (a full id or a unique prefix); an unresolved one prints why (the candidates
    when ambiguous) and exits 1."""
    try:
        return c.resolve_job_id(job_id)
    except JobIdUnresolvedError as exc:
        err.print(exc.message, highlight=False)
        for cand in exc.candidates[:MAX_CANDIDATES_SHOWN]:
            err.print(f"  {cand}", highlight=False)
        if len(exc.candidates) > MAX_CANDIDATES_SHOWN:
            err.print(f"  ... and {len(exc.candidates) - MAX_CANDIDATES_SHOWN} more", highlight=False)
        raise typer.Exit(remote.EXIT_REFUSED) from None


def _fmt_time(t: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"


@jobs_app.command("list")
def list_cmd(
    state: Annotated[str | None, typer.Option(help="PENDING, RUNNING, SUCCEEDED, ...")] = None,
    pool: Annotated[str | None, typer.Option(help="pool id")] = None,
    center: Annotated[str | None, typer.Option(help="center id")] = None,
    tenant: Annotated[str | None, typer.Option(help="tenant id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="print the page as JSON")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="print only the ids, one a line")] = False,
) -> None:
    """List jobs, newest first; the ids are printed whole, ready to paste (作业列表)."""
    with client() as c:
        page = c.list_jobs(
            state=state or None, pool=pool or None, center=center or None, tenant=tenant or None,
            limit=limit, offset=offset,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(page, ensure_ascii=False))
        return
    if quiet:
        for j in page["items"]:
            typer.echo(j["id"])
        return
    t = Table(title=f"jobs 作业 ({page['total']} total)")
    t.add_column("id", no_wrap=True, overflow="ignore", min_width=20)  # always whole: ids are pasted
    for col in ("name", "state", "pool", "center", "submitted", "exit"):
        t.add_column(col, overflow="fold")
    for j in page["items"]:
        t.add_row(
            j["id"], j["name"], j["state"], j["pool"] or "-", j["center"] or "-", _fmt_time(j["submit_s"]),
            "-" if j["exit_code"] is None else str(j["exit_code"]),
        )  # fmt: skip
    Console().print(t)


@jobs_app.command("show")
def show_cmd(
    job_id: Annotated[str, typer.Argument(help="job id, or a unique prefix of it")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """A job: state history, placement and why, cost (作业详情)."""
    with client() as c:
        job = c.get_job(resolve(c, job_id))
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
        if why.get("winner") and why["winner"].get("data"):
            con.print(f"  data 数据 ({why['winner']['pool']}): {data_term_text(why['winner']['data'])}")
        if why.get("runner_up"):
            con.print(f"  runner-up 次优: {why['runner_up']['pool']} (score {why['runner_up']['score']:.3f})")
            if why["runner_up"].get("data"):
                con.print(
                    f"  data 数据 ({why['runner_up']['pool']}): {data_term_text(why['runner_up']['data'])}"
                )


def data_term_text(data: dict[str, Any]) -> str:
    """``1.000 GB from qd-ai in 0.9 s`` or ``a copy is there`` for an explanation's data term."""
    if not data.get("bytes"):
        return "a copy is there, nothing to move (本地已有副本)"
    return f"{data['bytes'] / 1e9:.3f} GB from {data.get('from')} in {data.get('transfer_s') or 0.0:.1f} s (需传输)"


@jobs_app.command("cancel")
def cancel_cmd(
    job_id: Annotated[str, typer.Argument(help="job id, or a unique prefix of it")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Cancel a job (取消作业)."""
    with client() as c:
        job = c.cancel_job(resolve(c, job_id))
    if as_json:
        typer.echo(json.dumps(job, ensure_ascii=False))
        return
    what = "cancel requested (已请求取消)" if job["state"] not in TERMINAL else job["state"]
    typer.echo(f"{job['id']}: {what}")


@jobs_app.command("logs")
def logs_cmd(
    job_id: Annotated[str, typer.Argument(help="job id, or a unique prefix of it")],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing until the job ends")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print the answer as JSON")] = False,
) -> None:
    """A job's output (作业输出)."""
    offset = 0
    with client() as c:
        job_id = resolve(c, job_id)
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
    job_id: Annotated[str, typer.Argument(help="job id, or a unique prefix of it")],
    as_json: Annotated[bool, typer.Option("--json", help="print as JSON")] = False,
) -> None:
    """Every recorded event of a job (作业事件)."""
    with client() as c:
        data = c.job_events(resolve(c, job_id))
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    for e in data["items"]:
        typer.echo(f"{_fmt_time(e['t_s'])}  {e['kind']:<16} {e['state'] or '':<10} {e['message']}")


@jobs_app.command("wait")
def wait_cmd(
    job_ids: Annotated[list[str], typer.Argument(help="job ids (or unique prefixes)", show_default=False)],
    timeout_s: Annotated[
        float, typer.Option("--timeout-s", help="give up after N s (all jobs together)", min=0.1)
    ] = 3600.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the jobs as a JSON array")] = False,
) -> None:
    """Wait until every job has ended; exit 0 only if all SUCCEEDED (1 otherwise or on time-out) (等待作业)."""
    deadline = time.monotonic() + timeout_s
    finals: list[Job] = []
    with client() as c:
        ids = [resolve(c, j) for j in job_ids]
        for job_id in ids:
            left = deadline - time.monotonic()
            try:
                finals.append(c.wait_job(job_id, timeout_s=max(left, 0.0), poll_s=0.5))
            except WaitTimeoutError as exc:
                finals.append(exc.job)
                break
    if as_json:
        typer.echo(json.dumps(finals, ensure_ascii=False))
    else:
        for j in finals:
            typer.echo(
                f"{j['id']}  {j['state']:<10} {j.get('pool') or '-'}  {j.get('message') or ''}".rstrip()
            )
    not_ended = sum(j["state"] not in TERMINAL for j in finals) + len(ids) - len(finals)
    if not_ended:
        err.print(f"{not_ended} job(s) not ended after {timeout_s:g} s (等待超时)", highlight=False)
    ok = len(finals) == len(ids) and all(j["state"] == "SUCCEEDED" for j in finals)
    raise typer.Exit(0 if ok else remote.EXIT_REFUSED)


def register(app: typer.Typer) -> None:
    app.command("submit", epilog=remote.EXIT_CODES_HELP)(submit)
    app.add_typer(jobs_app, name="jobs")
