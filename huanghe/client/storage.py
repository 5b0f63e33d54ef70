"""Storage endpoints and data quotas on a server (``/api/v1/storage-endpoints``, ``/api/v1/data-quotas``), for
the CLI and the SDK::

    from huanghe.client import HuangheClient
    from huanghe.client import storage

    with HuangheClient() as hh:
        for ep in storage.list_endpoints(hh, temperature="hot"):
            print(ep["id"], ep["center"], ep["free_bytes"], ep["available"])
        storage.set_quota(hh, "acme", "*", 10**12)          # platform admins

Answers are the server's JSON (``EndpointPublic`` / ``QuotaPublic`` in the API docs; sizes in bytes). An
endpoint's ``connection`` (URL, bucket, secret names) is answered to platform admins only, never a key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from huanghe.client.base import BaseClient, Params

#: Page size when reading a whole list (the server's largest ``?limit=``).
PAGE = 1000


def _all(client: BaseClient, path: str, params: Params) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    while True:
        page = client.call("GET", path, params={**params, "limit": PAGE, "offset": len(items)})
        items.extend(page["items"])
        if not page["items"] or len(items) >= page["total"]:
            return items


def list_endpoints(
    client: BaseClient, *, center: str | None = None, temperature: str | None = None,
    available: bool | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """Every storage endpoint matching the filters (AND), by id."""
    return _all(client, "/storage-endpoints", {"center": center, "temperature": temperature,
                                                "available": available})  # fmt: skip


def get_endpoint(client: BaseClient, endpoint_id: str) -> dict[str, Any]:
    """One endpoint (RequestRefusedError 404 when there is none)."""
    answer: dict[str, Any] = client.call("GET", f"/storage-endpoints/{endpoint_id}")
    return answer


def register_endpoint(client: BaseClient, endpoint: Mapping[str, Any]) -> dict[str, Any]:
    """Register an external S3 endpoint (platform admins); it is pinged at once."""
    answer: dict[str, Any] = client.call("POST", "/storage-endpoints", json=dict(endpoint))
    return answer


def update_endpoint(client: BaseClient, endpoint_id: str, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change capacity, drain (``drained``, ``reason``), attributes (admins and the center's operators)."""
    answer: dict[str, Any] = client.call("PATCH", f"/storage-endpoints/{endpoint_id}", json=dict(changes))
    return answer


def delete_endpoint(client: BaseClient, endpoint_id: str) -> None:
    """Delete an endpoint (refused, 409, while it holds replicas)."""
    client.request("DELETE", f"/storage-endpoints/{endpoint_id}")


def list_quotas(
    client: BaseClient, *, tenant: str | None = None, endpoint: str | None = None
) -> list[dict[str, Any]]:
    """Data quotas with used and left bytes (tenant roles: their own tenant's only)."""
    return _all(client, "/data-quotas", {"tenant": tenant, "endpoint": endpoint})


def set_quota(client: BaseClient, tenant: str, endpoint: str, limit_bytes: int) -> dict[str, Any]:
    """Set a tenant's limit on ``endpoint`` (``*``: all endpoints together), bytes (platform admins)."""
    answer: dict[str, Any] = client.call(
        "PUT", f"/data-quotas/{tenant}/{endpoint}", json={"limit_bytes": limit_bytes}
    )
    return answer


def delete_quota(client: BaseClient, tenant: str, endpoint: str) -> None:
    """Remove a quota (no limit there any more)."""
    client.request("DELETE", f"/data-quotas/{tenant}/{endpoint}")
