"""The four item routes every catalog resource has: ``GET/PATCH/DELETE /{plural}/{item_id}`` and
``POST /{plural}``. The list route stays with each resource (its filters differ).

This module deliberately does not use ``from __future__ import annotations``: FastAPI reads the parameter
annotations of the generated functions at run time, and they are the classes passed in.
"""

from collections.abc import Callable
from enum import Enum
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from huanghe.api.authentication import principal_of_request
from huanghe.api.deps import SessionDep


def add_item_routes(
    router: APIRouter,
    plural: str,
    *,
    id_type: Any,
    public: type[BaseModel],
    create_model: type[BaseModel],
    update_model: type[BaseModel],
    get: Callable[[Session, Any], BaseModel],
    create: Callable[[Session, Any], BaseModel],
    update: Callable[[Session, Any, Any], BaseModel],
    delete: Callable[[Session, Any], None],
    delete_doc: str = "",
    update_with_actor: bool = False,
) -> None:
    """Register get / create / patch / delete for one resource; errors come from the service.
    ``update_with_actor``: ``update`` also takes ``actor=`` (the caller, for the audit records it writes)."""
    item = f"/{plural}/{{item_id}}"
    singular = public.__name__.removesuffix("Public").lower()

    def get_item(s: SessionDep, item_id: id_type) -> Any:
        return get(s, item_id)

    def create_item(s: SessionDep, body: create_model) -> Any:  # type: ignore[valid-type]
        return create(s, body)

    def update_item(s: SessionDep, item_id: id_type, body: update_model) -> Any:  # type: ignore[valid-type]
        """Change the fields given; the result is validated again as a whole."""
        return update(s, item_id, body)

    def update_item_by(s: SessionDep, item_id: id_type, body: update_model, request: Request) -> Any:  # type: ignore[valid-type]
        """Change the fields given; the result is validated again as a whole."""
        return update(s, item_id, body, actor=principal_of_request(request).actor)  # type: ignore[call-arg]

    def delete_item(s: SessionDep, item_id: id_type) -> Response:
        delete(s, item_id)
        return Response(status_code=204)

    tags: list[str | Enum] = [plural]
    router.add_api_route(
        item, get_item, methods=["GET"], response_model=public, tags=tags, name=f"get_{singular}"
    )
    router.add_api_route(
        f"/{plural}", create_item, methods=["POST"], status_code=201, response_model=public, tags=tags,
        name=f"create_{singular}", summary=f"Create {singular}",
    )  # fmt: skip
    router.add_api_route(
        item, update_item_by if update_with_actor else update_item, methods=["PATCH"], response_model=public, tags=tags, name=f"update_{singular}",
        summary=f"Update {singular}",
    )  # fmt: skip
    router.add_api_route(
        item, delete_item, methods=["DELETE"], status_code=204, response_class=Response, tags=tags,
        name=f"delete_{singular}", summary=f"Delete {singular}", description=delete_doc or None,
    )  # fmt: skip
