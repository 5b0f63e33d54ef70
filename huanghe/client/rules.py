"""Replication rules on a server (``/api/v1/rules``), for the CLI and the SDK::

    from huanghe.client import HuangheClient
    from huanghe.client import rules

    with HuangheClient() as hh:
        rule = rules.add_rule(hh, "my-dataset", copies=2, expression="circle=jiaodong&tier=hot")
        print(rule["state"], rule["reason"])

Answers are the server's JSON (see ``RulePublic`` in the API docs); errors are :class:`ClientError`."""

from __future__ import annotations

from typing import Any

from huanghe.client.base import BaseClient


def add_rule(
    client: BaseClient, dataset: str, *, copies: int, expression: str, lifetime_s: float | None = None,
    grouping: str = "all", weight: str | None = None, priority: int = 3,
) -> dict[str, Any]:  # fmt: skip
    """Add a rule; the server evaluates it at once (its ``state`` and ``reason`` say how it stands)."""
    body: dict[str, Any] = {"dataset": dataset, "copies": copies, "expression": expression, "grouping": grouping,
                            "priority": priority}  # fmt: skip
    if lifetime_s is not None:
        body["lifetime_s"] = lifetime_s
    if weight is not None:
        body["weight"] = weight
    answer: dict[str, Any] = client.call("POST", "/rules", json=body)
    return answer


def list_rules(
    client: BaseClient,
    *,
    dataset: str | None = None,
    state: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> dict[str, Any]:
    """A page ``{"items", "total", "limit", "offset"}`` of the rules the caller may see."""
    page: dict[str, Any] = client.call(
        "GET", "/rules", params={"dataset": dataset, "state": state, "limit": limit, "offset": offset}
    )
    return page


def get_rule(client: BaseClient, rule_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = client.call("GET", f"/rules/{rule_id}")
    return answer


def rule_locks(client: BaseClient, rule_id: str, *, limit: int = 1000, offset: int = 0) -> dict[str, Any]:
    page: dict[str, Any] = client.call(
        "GET", f"/rules/{rule_id}/locks", params={"limit": limit, "offset": offset}
    )
    return page


def delete_rule(client: BaseClient, rule_id: str) -> None:
    client.request("DELETE", f"/rules/{rule_id}")
