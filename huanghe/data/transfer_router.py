"""``/api/v1/transfers``: list (tenant-scoped: a tenant sees only its own; filters state, dataset, endpoint;
pages), one transfer, and retry of a failed one. Authorisation in :mod:`huanghe.api.policy` (``own_transfer``:
another tenant's transfer answers 404 exactly like an unknown one).

:func:`transfers_running` runs the transfer loop (:class:`~huanghe.data.transfers.TransferLoop`) for the app's
lifetime unless ``HUANGHE_TRANSFERS_ENABLED=0``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Path, Request

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import DEFAULT_PAGE_LIMIT, IdFilter, Limit, Offset, SessionDep, TenantFilter
from huanghe.core.paging import Page
from huanghe.data import transfer_queue as queue
from huanghe.data.transfer_schemas import TransferPublic, TransferState
from huanghe.data.transfers import TransferLoop, TransferSettings

router = APIRouter(tags=["data transfers"])
TransferId = Annotated[int, Path(ge=1, le=999_999_999, description="transfer id")]


@router.get("/transfers", response_model=Page[TransferPublic])
def list_transfers(
    s: SessionDep,
    tenant: TenantFilter,
    state: TransferState | None = None,
    dataset: IdFilter = None,
    endpoint: Annotated[IdFilter, "destination or source endpoint id"] = None,
    limit: Limit = DEFAULT_PAGE_LIMIT,
    offset: Offset = 0,
) -> Page[TransferPublic]:
    """Transfers, newest first (传输列表). ``endpoint`` matches the destination or the source."""
    return queue.list_transfers(
        s, tenant=tenant, state=state, dataset=dataset, endpoint=endpoint, limit=limit, offset=offset
    )


@router.get("/transfers/{transfer_id}", response_model=TransferPublic)
def get_transfer(s: SessionDep, transfer_id: TransferId) -> TransferPublic:
    """One transfer: state, source, attempts, bytes, duration, cost, energy, carbon, error."""
    return queue.get_transfer(s, transfer_id)


@router.post("/transfers/{transfer_id}/retry", response_model=TransferPublic)
def retry_transfer(s: SessionDep, transfer_id: TransferId, request: Request) -> TransferPublic:
    """Queue a failed transfer again with fresh attempts (409 when it has not failed)."""
    actor = principal_of_request(request).actor
    return queue.retry_transfer(s, transfer_id, actor=actor, now_s=time.time())


def init_state(app: FastAPI) -> None:
    """``app.state.transfer_settings`` from the environment (``HUANGHE_TRANSFERS_*``)."""
    app.state.transfer_settings = TransferSettings()


@contextmanager
def transfers_running(app: FastAPI) -> Iterator[TransferLoop | None]:
    """Run the transfer loop while the app runs (unless disabled); stop it after (running copies get up to
    10 s; a longer one is taken over by the next worker once its lease expires)."""
    settings: TransferSettings = getattr(app.state, "transfer_settings", None) or TransferSettings()
    if not settings.enabled:
        app.state.transfer_loop = None
        yield None
        return
    loop = TransferLoop(app.state.session_factory, settings)
    app.state.transfer_loop = loop
    loop.start()
    try:
        yield loop
    finally:
        loop.stop()
