"""One typed HTTP client of the Huanghe server: the CLI's only way to talk to a server, and the Python SDK.

::

    from huanghe.client import ClientError, HuangheClient

    with HuangheClient(url="http://127.0.0.1:8000", token=None, timeout_s=30) as hh:
        print(hh.health()["status"], [c.id for c in hh.centers(region="jiaodong")])

``url`` and ``token`` default to ``$HUANGHE_URL`` and ``$HUANGHE_TOKEN``. Every failure is a
:class:`ClientError` (``status_code``, the server's path-named ``detail``); see :mod:`huanghe.client.errors`
and docs/client.md. Importing this package loads httpx, not FastAPI, SQLAlchemy or pydantic.
"""

from huanghe.client.base import API_PREFIX, DEFAULT_TIMEOUT_S, DEFAULT_URL, resolve_token, resolve_url
from huanghe.client.client import HuangheClient
from huanghe.client.data import ChecksumMismatchError, DataFiles
from huanghe.client.errors import (
    ClientError,
    InvalidServerUrlError,
    JobIdUnresolvedError,
    RequestRefusedError,
    ServerFailedError,
    ServerUnreachableError,
    WaitTimeoutError,
)
from huanghe.client.transfers import Transfer, TransferPage, Transfers
from huanghe.client.types import TERMINAL_STATES, Problem, Report

__all__ = [
    "API_PREFIX",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_URL",
    "TERMINAL_STATES",
    "ChecksumMismatchError",
    "ClientError",
    "DataFiles",
    "HuangheClient",
    "InvalidServerUrlError",
    "JobIdUnresolvedError",
    "Problem",
    "Report",
    "RequestRefusedError",
    "ServerFailedError",
    "ServerUnreachableError",
    "Transfer",
    "TransferPage",
    "Transfers",
    "WaitTimeoutError",
    "resolve_token",
    "resolve_url",
]
