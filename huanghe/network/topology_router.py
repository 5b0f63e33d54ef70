"""``/api/v1/topology``: the whole network as one document (the topology file schema).

* ``GET`` → ``Topology.model_dump(mode="json")``; ``?format=yaml`` gives the YAML file.
* ``PUT`` → import a YAML or JSON document (by ``Content-Type``; YAML otherwise). ``?mode=replace`` (default)
  makes the network exactly the document; ``?mode=merge`` creates or updates and keeps the rest;
  ``?dry_run=true`` validates only (every check of a real import, the database's included; nothing stored).
  Errors name their path: ``body.centers[3].pools[0].nodes: must be >= 0``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from huanghe.api.deps import SessionDep
from huanghe.catalog.topology import dump_topology, loads_topology, parse_topology
from huanghe.core.errors import FieldError, TopologyError
from huanghe.domain.network import Topology
from huanghe.network import topology_store as topology_store
from huanghe.network.schemas import ImportSummary

router = APIRouter(tags=["topology"])

#: Largest accepted topology document, bytes.
MAX_TOPOLOGY_BYTES = 20 * 1024 * 1024

_BODY_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"$ref": "#/components/schemas/Topology"}},
        },
    }
}


@router.get(
    "/topology",
    response_model=Topology,
    responses={200: {"content": {"application/yaml": {"schema": {"type": "string"}}}}},
)
def get_topology(
    s: SessionDep, format: Annotated[Literal["json", "yaml"], Query()] = "json"
) -> Topology | Response:
    """The whole network (JSON, or the YAML file with ``?format=yaml``); 404 when none has been imported."""
    topo = topology_store.export_topology(s)
    if format == "yaml":
        return Response(dump_topology(topo), media_type="application/yaml; charset=utf-8")
    return topo


def _parse(raw: bytes, content_type: str) -> Any:
    if len(raw) > MAX_TOPOLOGY_BYTES:
        raise HTTPException(413, f"topology document larger than {MAX_TOPOLOGY_BYTES} bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TopologyError([FieldError("", "the body is not UTF-8 text")]) from None
    if not text.strip():
        raise TopologyError([FieldError("", "empty body: send a topology document (YAML or JSON)")])
    if "json" in content_type:
        try:
            return parse_topology(json.loads(text))
        except RecursionError:
            raise TopologyError([FieldError("", "the document is nested too deeply")]) from None
        except json.JSONDecodeError as exc:
            msg = f"line {exc.lineno}, column {exc.colno}: invalid JSON: {exc.msg}"
            raise TopologyError([FieldError("", msg)]) from None
    try:
        data = yaml.load(text, Loader=_LOADER)  # a safe loader (CSafeLoader or SafeLoader)
    except yaml.YAMLError:
        return loads_topology(text)  # raises TopologyError naming the line and column
    except RecursionError:
        raise TopologyError([FieldError("", "the document is nested too deeply")]) from None
    _check_expanded_size(data)
    return parse_topology(data)


_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Most values a document may hold once YAML aliases are expanded (a 60-center network holds ~10^4):
#: refuses "billion laughs" documents whose aliases would expand exponentially when validated.
MAX_EXPANDED_VALUES = 2_000_000


def _check_expanded_size(data: Any) -> None:
    sizes: dict[int, int] = {}

    def size(obj: Any) -> int:
        if not isinstance(obj, list | dict):
            return 1
        key = id(obj)
        if key not in sizes:
            sizes[key] = MAX_EXPANDED_VALUES + 1  # a cycle counts as too large
            items = obj.values() if isinstance(obj, dict) else obj
            sizes[key] = 1 + sum(size(v) for v in items)
        return sizes[key]

    try:
        total = size(data)
    except RecursionError:
        raise TopologyError([FieldError("", "the document is nested too deeply")]) from None
    if total > MAX_EXPANDED_VALUES:
        raise TopologyError(
            [FieldError("", f"more than {MAX_EXPANDED_VALUES} values once YAML aliases are expanded")]
        )


@router.put("/topology", response_model=ImportSummary, openapi_extra=_BODY_DOC)
async def put_topology(
    request: Request,
    s: SessionDep,
    mode: Annotated[Literal["replace", "merge"], Query()] = "replace",
    dry_run: Annotated[
        bool, Query(description="validate only: every check of the import, nothing stored")
    ] = False,
) -> ImportSummary:
    """Import a topology document (YAML or JSON) and return what was stored (``?dry_run=true``: what would
    be; the same errors as a real import, nothing stored)."""
    raw = await request.body()
    topo = _parse(raw, request.headers.get("content-type", "").lower())
    return await run_in_threadpool(
        topology_store.import_from_api, s, topo, replace=mode == "replace", dry_run=dry_run
    )
