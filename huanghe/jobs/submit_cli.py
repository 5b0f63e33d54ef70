"""``huanghe submit``: one job, or a Slurm-like job array, over HTTP (:class:`huanghe.client.HuangheClient`).

Habits it keeps (docs/jobs.md, "The CLI"):

* the tenant comes from the token (``GET /auth/whoami``) when ``--tenant`` is not given and a token is set;
* ``--env KEY=VALUE`` (repeatable), ``--time-limit`` (``90`` s, ``30m``, ``2h``, ``1-00:00:00``),
  ``--script FILE`` instead of a command, ``--dataset`` (repeatable) and ``--data-class``; ``--output PATH``
  (repeatable) with ``--output-dataset NAME`` (files stored back as a dataset after success);
* ``--array 1-100`` (also ``1-100:2``, ``1,3,5``): N jobs in one batch, each with ``HUANGHE_ARRAY_TASK_ID``.

Exit codes (:mod:`huanghe.cli.remote`): 2 for a bad option (the option is named), 1 when the server refuses
(each problem with its field path) or ``--wait``'s job did not succeed, 3 when the server cannot be reached.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from huanghe.cli import remote
from huanghe.client import HuangheClient, WaitTimeoutError
from huanghe.client.types import Job

#: Looks at the output of a job that ended without any output yet (0.3 s apart; not local jobs, whose
#: output is complete when they end).
TAIL_LOOKS = 6
#: Most tasks in one ``--array`` (the server's largest batch, ``POST /jobs:batch``).
MAX_ARRAY_TASKS = 10_000
#: Largest ``--script`` file read, bytes; the server's own limit (256 KiB) is smaller and answered as 413
#: naming ``body.script``, this only keeps the CLI from reading a huge file into memory.
MAX_SCRIPT_READ_BYTES = 4 * 1024 * 1024
#: The env variable holding each array task's index.
ARRAY_TASK_ENV = "HUANGHE_ARRAY_TASK_ID"
DATA_CLASSES = ("general", "important", "core")
_ENV_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}

err = Console(stderr=True, soft_wrap=True)


def usage_error(option: str, message: str) -> typer.Exit:
    """Print ``option: message`` on stderr; the exit (code 2) to raise."""
    typer.echo(f"{option}: {message} (参数错误)", err=True)
    return typer.Exit(remote.EXIT_USAGE)


def parse_env(items: list[str]) -> dict[str, str]:
    """``KEY=VALUE`` items as a dict (a later KEY wins); ValueError naming the bad item."""
    env: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not _ENV_KEY.match(key):
            raise ValueError(f"{item!r} is not KEY=VALUE with KEY a shell variable name")
        env[key] = value
    return env


def parse_time_limit(text: str) -> float:
    """A wall-time limit in seconds: ``90`` (s), ``90s``, ``30m``, ``2h``, ``1d``, or Slurm's forms
    ``MM:SS``, ``HH:MM:SS``, ``D-HH[:MM[:SS]]``. ValueError when it is none of them or not > 0."""
    t = text.strip().lower()
    seconds: float
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*([smhd]?)", t):
        seconds = float(m.group(1)) * _UNITS_S[m.group(2) or "s"]
    elif m := re.fullmatch(r"(\d+)-(\d+)(?::(\d+))?(?::(\d+))?", t):
        d, h, mi, s = (int(g or 0) for g in m.groups())
        seconds = d * 86400 + h * 3600 + mi * 60 + s
    elif m := re.fullmatch(r"(\d+):(\d+)(?::(\d+))?", t):
        a, b, c = m.groups()
        seconds = int(a) * 3600 + int(b) * 60 + int(c) if c is not None else int(a) * 60 + int(b)
    else:
        raise ValueError(f"{text!r} is not a time: give 90 (seconds), 30m, 2h, 1d, HH:MM:SS or D-HH:MM:SS")
    if seconds <= 0:
        raise ValueError(f"{text!r} must be more than 0 s")
    return seconds


def parse_array(text: str) -> list[int]:
    """Slurm's ``--array`` indices: ``1-100``, ``1-100:2`` (step), ``1,3,5`` and mixes (``1-3,7``), sorted,
    each once; ValueError when malformed, empty or above :data:`MAX_ARRAY_TASKS` tasks."""
    out: set[int] = set()
    for part in text.replace(" ", "").split(","):
        m = re.fullmatch(r"(\d+)(?:-(\d+)(?::(\d+))?)?", part)
        if not m:
            raise ValueError(f"{part!r} is not N, N-M or N-M:STEP (e.g. 1-100, 1-100:2, 1,3,5)")
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) is not None else lo
        step = int(m.group(3) or 1)
        if hi < lo or step < 1:
            raise ValueError(f"{part!r}: the range must go up with a step of at least 1")
        if (hi - lo) // step + 1 + len(out) > MAX_ARRAY_TASKS:
            raise ValueError(f"at most {MAX_ARRAY_TASKS} tasks in one array")
        out.update(range(lo, hi + 1, step))
    return sorted(out)


def read_script(path: Path) -> str:
    """The text of a ``--script`` file (UTF-8); ValueError when it cannot be read."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SCRIPT_READ_BYTES + 1)
    except OSError as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from None
    if len(data) > MAX_SCRIPT_READ_BYTES:
        raise ValueError(f"{str(path)!r} is larger than {MAX_SCRIPT_READ_BYTES // 1024 // 1024} MiB")
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise ValueError(f"{str(path)!r} is not UTF-8 text") from None


def submit(
    command: Annotated[
        list[str] | None,
        typer.Argument(help="the command to run, after -- (or --script FILE)", show_default=False),
    ] = None,
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
    time_limit: Annotated[
        str | None,
        typer.Option("--time-limit", "-t", help="wall-time limit: 90 (s), 30m, 2h, 1d, HH:MM:SS, D-HH:MM:SS"),
    ] = None,
    priority: Annotated[int, typer.Option(help="higher runs first")] = 0,
    max_price: Annotated[
        float | None, typer.Option("--max-price", help="price cap, CNY per hour (whole job)", min=0)
    ] = None,
    name: Annotated[str, typer.Option(help="job name (default: its id)")] = "",
    env: Annotated[
        list[str] | None, typer.Option("--env", "-e", help="KEY=VALUE in the job's environment (repeatable)")
    ] = None,
    script: Annotated[
        Path | None, typer.Option("--script", help="run this script file instead of a command")
    ] = None,
    dataset: Annotated[
        list[str] | None, typer.Option("--dataset", help="input dataset id (repeatable)")
    ] = None,
    data_class: Annotated[
        str | None, typer.Option("--data-class", help="general, important or core (Data Security Law)")
    ] = None,
    output: Annotated[
        list[str] | None,
        typer.Option(
            "--output",
            help="file the job writes, relative to its directory, stored after success (repeatable)",
        ),
    ] = None,
    output_dataset: Annotated[
        str | None,
        typer.Option("--output-dataset", help="dataset the --output files are stored in (created when new)"),
    ] = None,
    array: Annotated[
        str | None, typer.Option("--array", "-a", help="job array: 1-100, 1-100:2 or 1,3,5 (one batch)")
    ] = None,
    tenant: Annotated[str | None, typer.Option(help="tenant id (default: the token's tenant)")] = None,
    idempotency_key: Annotated[
        str | None, typer.Option("--idempotency-key", help="retries with the same key never make a 2nd job")
    ] = None,
    timeout_s: Annotated[
        float, typer.Option("--timeout-s", help="give up waiting after N s", min=0.1)
    ] = 3600.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the job (array: the batch) as JSON")] = False,
) -> None:
    """Submit a job: huanghe submit --cpus 1 --wait -- echo hello (提交作业)."""
    body: dict[str, Any] = {
        "cpus": cpus, "gpus": gpus, "mem_gb": mem_gb, "nodes": nodes, "accelerator": accelerator,
        "kind": kind, "priority": priority, "name": name, "datasets": dataset or [],
    }  # fmt: skip
    if script is not None and command:
        raise usage_error("--script", "give either a command after -- or --script FILE, not both")
    if script is not None:
        try:
            body["script"] = read_script(script)
        except ValueError as exc:
            raise usage_error("--script", str(exc)) from None
    elif command:
        body["command"] = command[0] if len(command) == 1 else shlex.join(command)
    else:
        typer.echo("nothing to run: give the command after -- or --script FILE (缺少命令)", err=True)
        raise typer.Exit(remote.EXIT_USAGE)
    try:
        job_env = parse_env(env or [])
    except ValueError as exc:
        raise usage_error("--env", str(exc)) from None
    if job_env:
        body["env"] = job_env
    if time_limit is not None:
        try:
            body["time_limit_s"] = parse_time_limit(time_limit)
        except ValueError as exc:
            raise usage_error("--time-limit", str(exc)) from None
    if data_class is not None:
        if data_class.strip().lower() not in DATA_CLASSES:
            raise usage_error("--data-class", f"{data_class!r} is not one of {', '.join(DATA_CLASSES)}")
        body["data_class"] = data_class.strip().lower()
    if bool(output) != bool(output_dataset):
        raise usage_error(
            "--output-dataset", "--output and --output-dataset go together (输出文件与数据集须同时给出)"
        )
    if output:
        body["outputs"], body["output_dataset"] = list(output), output_dataset
    try:
        tasks = parse_array(array) if array is not None else None
    except ValueError as exc:
        raise usage_error("--array", str(exc)) from None
    if tasks is not None and wait:
        raise usage_error("--array", "--wait follows one job: use `huanghe jobs wait ID...` for an array")
    optional = {
        "user_city": user_city, "latency_slo_ms": latency_slo_ms, "deadline_s": deadline_s,
        "duration_s": duration_s, "max_price_cny_per_hour": max_price,
    }  # fmt: skip
    body.update({k: v for k, v in optional.items() if v is not None})
    with remote.connect() as c:
        body_tenant = tenant if tenant is not None else _token_tenant(c)
        if body_tenant is not None:
            body["tenant"] = body_tenant
        if tasks is not None:
            _submit_array(c, body, tasks, idempotency_key, as_json)
            return
        job = c.submit_job(body, idempotency_key)
        if not wait:
            typer.echo(json.dumps(job, ensure_ascii=False) if as_json else f"submitted (已提交) {job['id']}")
            return
        err.print(f"submitted (已提交) {job['id']}")
        final = follow(c, job["id"], timeout_s)
    if as_json:
        typer.echo(json.dumps(final, ensure_ascii=False))
    ok = final["state"] == "SUCCEEDED"
    err.print(
        f"{final['state']} {final['id']} on {final.get('pool') or '-'} ({final.get('center') or '-'})"
        f"{'' if ok else ': ' + (final.get('message') or '')}"
    )
    raise typer.Exit(0 if ok else remote.EXIT_REFUSED)


def _token_tenant(c: HuangheClient) -> str | None:
    """The tenant of the caller's token (``GET /auth/whoami``); None without a token (dev mode: the job has
    no tenant, as before) or for a platform role."""
    if "Authorization" not in c.headers:
        return None
    return c.whoami()["tenant"]


def _submit_array(
    c: HuangheClient, body: dict[str, Any], tasks: list[int], key: str | None, as_json: bool
) -> None:
    """One batch of ``len(tasks)`` jobs, each with ``HUANGHE_ARRAY_TASK_ID`` (and ``NAME_TASK`` as name when
    a name is given); prints one id per line (``--json``: the batch answer)."""
    jobs = []
    for t in tasks:
        job = {**body, "env": {**body.get("env", {}), ARRAY_TASK_ENV: str(t)}}
        if body.get("name"):
            job["name"] = f"{body['name']}_{t}"
        jobs.append(job)
    batch = c.submit_jobs(jobs, key)
    if as_json:
        typer.echo(json.dumps(batch, ensure_ascii=False))
        return
    err.print(f"submitted (已提交) {batch['count']} jobs, array tasks {tasks[0]}..{tasks[-1]}")
    for t, item in zip(tasks, batch["items"], strict=False):
        typer.echo(f"{item['id']}\t{t}")


def follow(c: HuangheClient, job_id: str, timeout_s: float) -> Job:
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
