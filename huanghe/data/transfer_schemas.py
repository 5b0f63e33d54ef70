"""Public shape of a transfer (``GET /transfers``): no lease owner (host names stay inside), no key."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

TransferState = Literal["queued", "active", "done", "failed"]


class TransferPublic(BaseModel):
    """One copy of a file to an endpoint. Sizes in bytes, times epoch seconds (``duration_s`` the copy's
    wall time, s), ``cost_fen`` egress in fen, ``energy_wh`` Wh, ``carbon_g`` grams CO2."""

    id: int
    tenant: str
    dataset: str
    file_id: int
    file: str = Field(description="file name inside its dataset")
    rule: str | None
    dest_endpoint: str
    source_endpoint: str | None
    state: TransferState
    priority: int = Field(description="1 (lowest) to 5 (highest)")
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
