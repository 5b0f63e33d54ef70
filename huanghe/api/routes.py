"""Walking an app's routes: the matched route's template of a request, and every FastAPI route of an app with
its method(s) and full path (router prefixes included), for the policy table and the route checks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute


def route_template(scope: Mapping[str, Any]) -> str | None:
    """The matched route's path template including router prefixes (e.g. ``/api/v1/centers/{item_id}``);
    None before routing or when no route matched."""
    fastapi_scope = scope.get("fastapi")
    effective = fastapi_scope.get("effective_route_context") if isinstance(fastapi_scope, dict) else None
    route = effective or scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else None


def iter_api_routes(app: FastAPI) -> Iterator[Any]:
    """Every FastAPI route of ``app``: an :class:`APIRoute` or, for routes of included routers, its effective
    context (same attributes: ``methods``, ``path_format``, ``response_model``, ``response_class``...)."""
    for route in app.router.routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            for ctx in contexts():
                if isinstance(ctx.original_route, APIRoute):
                    yield ctx
        elif isinstance(route, APIRoute):
            yield route


def iter_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """Every (method, template) served by FastAPI routes of ``app`` (HEAD left out), sub-routers included."""
    for route in iter_api_routes(app):
        path = route.path_format if hasattr(route, "path_format") else route.path
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            yield method, path
