"""The stored endpoints as the attribute table that rule expressions select on (one query, no per-row work).

Attributes of an endpoint (docs/data-rules.md): ``id``, ``center``, ``city``, ``circle`` (the economic circle,
the network's region), ``tier`` (hot|warm|cold), ``medium``, ``operator``, ``security_level`` (the center's),
``free_bytes`` (capacity − used, bytes), plus the endpoint's custom ``attributes``. A custom attribute never
overrides a built-in one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from huanghe.data.expression import ATTRIBUTES, EndpointTable
from huanghe.data.models import StorageEndpointRow
from huanghe.data.rule_inputs import Endpoints
from huanghe.network.models import CenterRow, CityRow


@dataclass(frozen=True)
class StoredEndpoints:
    """The endpoints for the solver (:class:`Endpoints`), with each endpoint's center, in the same order."""

    endpoints: Endpoints
    centers: np.ndarray  # center id per endpoint (object array)
    capacity_bytes: np.ndarray  # int64
    used_bytes: np.ndarray  # int64

    @property
    def table(self) -> EndpointTable:
        return self.endpoints.table

    def position(self) -> dict[str, int]:
        """Endpoint id → its row in the table."""
        return {str(e): i for i, e in enumerate(self.table.ids)}


def load_endpoints(session: Session) -> StoredEndpoints:
    """Every stored endpoint, ordered by id, as the solver's input."""
    rows = session.execute(
        select(StorageEndpointRow, CenterRow.city_id, CityRow.region_id, CenterRow.operator,
               CenterRow.security_level)
        .join(CenterRow, CenterRow.id == StorageEndpointRow.center_id)
        .join(CityRow, CityRow.id == CenterRow.city_id)
        .order_by(StorageEndpointRow.id)
    ).all()  # fmt: skip
    records: list[dict[str, object]] = []
    available: list[bool] = []
    capacity: list[int] = []
    used: list[int] = []
    for ep, city, circle, operator, level in rows:
        free_now = max(0, int(ep.capacity_bytes) - int(ep.used_bytes))
        rec: dict[str, object] = {
            k: v for k, v in (ep.attributes or {}).items() if k not in ATTRIBUTES and isinstance(k, str)
        }
        rec.update(
            id=ep.id, center=ep.center_id, city=city, circle=circle, tier=ep.temperature, medium=ep.medium,
            operator=operator, security_level=level, free_bytes=free_now,
        )  # fmt: skip
        records.append(rec)
        available.append(bool(ep.available) and not ep.drained)  # drained: no new placements
        capacity.append(int(ep.capacity_bytes))
        used.append(int(ep.used_bytes))
    table = EndpointTable.from_records(records) if records else EndpointTable(np.zeros(0, dtype=object))
    free = np.maximum(np.asarray(capacity, dtype=np.int64) - np.asarray(used, dtype=np.int64), 0)
    return StoredEndpoints(
        Endpoints(table, np.asarray(available, dtype=bool), free),
        np.array([r["center"] for r in records], dtype=object),
        np.asarray(capacity, dtype=np.int64),
        np.asarray(used, dtype=np.int64),
    )
