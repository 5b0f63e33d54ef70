"""How CLI commands talk to a server: one :class:`~huanghe.client.HuangheClient`, one exit-code convention,
one way to print a failure, one way to say where the data came from.

Exit codes of every ``huanghe`` command that talks to a server (docs/client.md):

* 0 ok;
* 1 the server refused the request (4xx; each problem printed as ``path: message``), or what was asked
  did not succeed (``submit --wait``: the job did not end SUCCEEDED or did not end in time);
* 2 usage error (bad option or value, including an invalid ``$HUANGHE_URL``; Typer's own code);
* 3 the server could not be reached or failed (no answer, 5xx) — worth retrying later.

One exception, kept for compatibility: ``huanghe alerts`` exits 1 when the server cannot be reached.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import typer

from huanghe.client import (
    ClientError,
    HuangheClient,
    InvalidServerUrlError,
    RequestRefusedError,
    ServerFailedError,
    ServerUnreachableError,
)

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3

#: One line for the help of commands that talk to a server.
EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 refused by the server (4xx) or the job did not succeed; 2 usage error; "
    "3 server unreachable or failing (5xx). Server: $HUANGHE_URL (token: $HUANGHE_TOKEN)."
)


def server_url() -> str | None:
    """``$HUANGHE_URL`` when set (the commands that can read a server or files then read the server)."""
    return os.environ.get("HUANGHE_URL", "").strip() or None


def exit_code(exc: ClientError) -> int:
    """The exit code of a client error under the convention above."""
    if isinstance(exc, InvalidServerUrlError):
        return EXIT_USAGE
    if isinstance(exc, ServerUnreachableError):
        return EXIT_UNREACHABLE
    if isinstance(exc, ServerFailedError):
        return EXIT_UNREACHABLE
    return EXIT_REFUSED


def print_error(exc: ClientError) -> None:
    """The error on stderr: what happened, then one ``path: message`` line per problem of the server."""
    if isinstance(exc, InvalidServerUrlError):
        typer.echo(f"HUANGHE_URL={exc.url!r} is not a valid URL (地址无效): {exc.message}", err=True)
        return
    if isinstance(exc, ServerUnreachableError):
        typer.echo(
            f"cannot reach the Huanghe server at {exc.url} (无法连接服务器): {exc.reason}. "
            "Is `huanghe up` running? Set HUANGHE_URL to its address.",
            err=True,
        )
        return
    if isinstance(exc, RequestRefusedError):
        typer.echo(f"error {exc.status_code} (请求被拒绝): {exc.method} {exc.path}", err=True)
    elif exc.status_code is not None:
        typer.echo(f"server error {exc.status_code} (服务器错误): {exc.method} {exc.path}", err=True)
    else:
        typer.echo(f"error (错误): {exc.message}", err=True)
    for line in exc.problems():
        typer.echo(f"  {line}", err=True)


@contextmanager
def failures_exit() -> Iterator[None]:
    """Turn a :class:`ClientError` raised inside into its message and exit code (never a traceback)."""
    try:
        yield
    except ClientError as exc:
        print_error(exc)
        raise typer.Exit(exit_code(exc)) from None


@contextmanager
def connect(url: str | None = None, *, timeout_s: float = 30.0) -> Iterator[HuangheClient]:
    """A client of the server (``url``, else ``$HUANGHE_URL``, else the default); a :class:`ClientError`
    inside the block becomes its message on stderr and its exit code."""
    with failures_exit(), HuangheClient(url, timeout_s=timeout_s) as client:
        yield client


def say_source(what: str) -> None:
    """Say on stderr where the data shown came from (``source: server http://…``, ``source: bundled …``)."""
    typer.echo(f"source: {what}", err=True)


def describe_network(name_or_path: str) -> str:
    """``bundled network NAME`` or ``file PATH`` for a ``--network`` value."""
    from huanghe.catalog.topology import bundled_networks

    return f"bundled network {name_or_path}" if name_or_path in bundled_networks() else f"file {name_or_path}"


def use_server(network: str | None, as_json: bool, *, files: tuple[object, ...] = ()) -> str | None:
    """Where a catalog or observatory command reads: None for the server, else the network to load.

    The server when ``$HUANGHE_URL`` is set and neither ``--network`` nor a file option (``files``) is given;
    otherwise the files (``--network``, default the bundled ``shandong``). Says which on stderr, except for
    ``--json`` from files without ``$HUANGHE_URL`` (that output has always been stdout only)."""
    url = server_url()
    if url is not None and network is None and not any(f is not None for f in files):
        say_source(f"server {url}")
        return None
    name = network or DEFAULT_NETWORK
    if url is not None or not as_json:
        say_source(describe_network(name))
    return name


#: The network read from files when neither the server nor ``--network`` is chosen.
DEFAULT_NETWORK = "shandong"
