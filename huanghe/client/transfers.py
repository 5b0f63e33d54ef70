"""Transfers between storage endpoints on a server (``/api/v1/transfers``), for the CLI and the SDK::

    from huanghe.client import HuangheClient, Transfers

    with HuangheClient() as hh:
        page = Transfers(hh).list(state="failed")
        for t in page["items"]:
            Transfers(hh).retry(t["id"])

A tenant's token sees only its tenant's transfers. Answers are the server's JSON, typed below; errors are
:class:`~huanghe.client.errors.ClientError`."""

from __future__ import annotations

from typing import TypedDict

from huanghe.client.base import BaseClient


class Transfer(TypedDict):
    """One copy of a file to an endpoint: ``state`` queued | active | done | failed; sizes in bytes, times
    epoch seconds (``duration_s`` the copy's wall time), ``cost_fen`` egress in fen, ``energy_wh`` Wh,
    ``carbon_g`` grams of CO2."""

    id: int
    tenant: str
    dataset: str
    file_id: int
    file: str
    rule: str | None
    dest_endpoint: str
    source_endpoint: str | None
    state: str
    priority: int
    attempts: int
    max_attempts: int
    tried_sources: list[str]
    bytes: int
    created_s: float
    started_s: float | None
    finished_s: float | None
    duration_s: float | None
    cost_fen: int
    energy_wh: float
    carbon_g: float
    error: str


class TransferPage(TypedDict):
    """A page of transfers, newest first."""

    items: list[Transfer]
    total: int
    limit: int
    offset: int


class Transfers:
    """The transfer operations of one client connection."""

    def __init__(self, client: BaseClient) -> None:
        self.client = client

    def list(
        self, *, state: str | None = None, dataset: str | None = None, endpoint: str | None = None,
        tenant: str | None = None, limit: int = 100, offset: int = 0,
    ) -> TransferPage:  # fmt: skip
        """A page of transfers (``endpoint`` matches the destination or the source)."""
        params = {"state": state, "dataset": dataset, "endpoint": endpoint, "tenant": tenant, "limit": limit,
                  "offset": offset}  # fmt: skip
        page: TransferPage = self.client.call("GET", "/transfers", params=params)
        return page

    def get(self, transfer_id: int) -> Transfer:
        """One transfer."""
        t: Transfer = self.client.call("GET", f"/transfers/{int(transfer_id)}")
        return t

    def retry(self, transfer_id: int) -> Transfer:
        """Queue a failed transfer again (refused, 409, when it has not failed)."""
        t: Transfer = self.client.call("POST", f"/transfers/{int(transfer_id)}/retry")
        return t
