"""``huanghe data put|get|ls|rm``: files of datasets on a running server (through the typed client).

* ``put FILE... --dataset NAME [--endpoint E] [--data-class C] [--tenant T]``: creates the dataset when new,
  uploads each file (in parts when large) with a progress bar; the server verifies every SHA-256. An upload
  in parts interrupted by a lost connection or Ctrl-C is resumed by the same command (parts the server
  holds with the same SHA-256 are not sent again).
* ``get NAME/FILE --out PATH``: downloads, checks size and SHA-256 against the server's (a mismatch or a
  short answer exits 1 and leaves no file), progress bar.
* ``ls NAME [--json]``: files with their replicas, each with its endpoint and ``center``.
* ``rm NAME/FILE`` deletes a file, ``rm NAME`` the whole dataset (every replica's bytes).

Exit codes as every server command (:mod:`huanghe.cli.remote`): 0 ok, 1 refused (4xx) or checksum mismatch,
2 usage error, 3 server unreachable or failing.
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer

from huanghe.cli import remote

EXIT_USAGE = remote.EXIT_USAGE


def _progress() -> Any:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), transient=True)  # fmt: skip


def _usage(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(EXIT_USAGE)


def _resuming(console: Any, up: dict[str, Any]) -> None:
    console.print(f"resuming upload {up['id']} of {up['name']}: {len(up['parts'])} parts already on the server "
                  "(断点续传)", highlight=False)  # fmt: skip


def put_cmd(
    files: Annotated[list[Path], typer.Argument(help="local files to upload")],
    dataset: Annotated[str, typer.Option("--dataset", help="dataset id (created when new)")],
    endpoint: Annotated[
        str | None, typer.Option(help="storage endpoint (default: the home center's hot one)")
    ] = None,
    data_class: Annotated[str | None, typer.Option(help="general, important or core (new datasets)")] = None,
    tenant: Annotated[str | None, typer.Option(help="tenant of a new dataset (platform roles)")] = None,
) -> None:
    """Upload files into a dataset (verified by SHA-256 on the server)."""
    from huanghe.client import DataFiles

    for f in files:
        if not f.is_file():
            raise _usage(f"{f}: not a readable file (文件不存在)")
        if f.stat().st_size == 0:
            raise _usage(f"{f}: empty file; a file has at least one byte (空文件)")
    with remote.connect() as hh:
        api = DataFiles(hh)
        if api.get_dataset(dataset) is None:
            ds = api.register(dataset, data_class=data_class, endpoint=endpoint, tenant=tenant)
            typer.echo(f"dataset {ds['id']} registered in {ds['center']} (数据集已创建)")
        with _progress() as bar:
            for f in files:
                task = bar.add_task(f.name, total=f.stat().st_size)
                done = api.upload(dataset, f, endpoint=endpoint, progress=partial(bar.advance, task),
                                  on_resume=partial(_resuming, bar.console))  # fmt: skip
                where = ", ".join(f"{r['endpoint']} ({r['center']})" for r in done["replicas"])
                bar.console.print(f"uploaded {dataset}/{done['name']}: {done['size_bytes']} bytes, sha256 "
                                  f"{done['sha256'][:16]}…, on {where} (上传完成)", highlight=False)  # fmt: skip


def get_cmd(
    target: Annotated[str, typer.Argument(help="NAME/FILE: dataset id and file name")],
    out: Annotated[Path, typer.Option("--out", help="where to write (a directory: the file's own name)")],
) -> None:
    """Download a file; its size and SHA-256 are checked against the server's (exit 1 on mismatch)."""
    from huanghe.client import DataFiles

    dataset, sep, name = target.partition("/")
    if not sep or not dataset or not name:
        raise _usage(f"{target!r}: give NAME/FILE (dataset id, '/', file name)")
    dest = out / name.rsplit("/", 1)[-1] if out.is_dir() else out
    if not dest.parent.is_dir():
        raise _usage(f"--out {out}: directory {dest.parent} does not exist")
    with remote.connect() as hh, _progress() as bar:
        task = bar.add_task(name, total=None)
        digest = DataFiles(hh).download(dataset, name, dest, progress=lambda n: bar.advance(task, n),
                                        total=lambda n: bar.update(task, total=n if n >= 0 else None))  # fmt: skip
    typer.echo(f"downloaded {dataset}/{name} to {dest}: sha256 {digest} verified (校验通过)")


def ls_cmd(
    dataset: Annotated[str, typer.Argument(help="dataset id")],
    prefix: Annotated[str | None, typer.Option(help="only names starting with this")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the files as JSON")] = False,
) -> None:
    """Files of a dataset with their replicas (endpoint, center, state)."""
    from huanghe.client import DataFiles

    with remote.connect() as hh:
        items = DataFiles(hh).list_files(dataset, prefix=prefix)
    if as_json:
        typer.echo(json.dumps(items, ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{dataset}: {len(items)} files")
    for col in ("name", "size_bytes", "sha256", "state", "replicas (endpoint center state)"):
        table.add_column(col, overflow="fold")
    for f in items:
        reps = "\n".join(f"{r['endpoint']} {r['center']} {r['state']}" for r in f["replicas"]) or "-"
        table.add_row(f["name"], str(f["size_bytes"]), f["sha256"][:16] + "…", f["state"], reps)
    Console(width=160).print(table)


def rm_cmd(target: Annotated[str, typer.Argument(help="NAME (the whole dataset) or NAME/FILE")]) -> None:
    """Delete a file, or a whole dataset, with every replica's bytes."""
    from huanghe.client import DataFiles

    dataset, sep, name = target.partition("/")
    if not dataset or (sep and not name):
        raise _usage(f"{target!r}: give NAME or NAME/FILE")
    with remote.connect() as hh:
        api = DataFiles(hh)
        if name:
            api.delete_file(dataset, name)
        else:
            api.delete_dataset(dataset)
    typer.echo(f"deleted {target} (已删除)")


def register(app: typer.Typer) -> None:
    from huanghe.data.cli import data_app

    for name, fn in (("put", put_cmd), ("get", get_cmd), ("ls", ls_cmd), ("rm", rm_cmd)):
        data_app.command(name, epilog=remote.EXIT_CODES_HELP)(fn)
