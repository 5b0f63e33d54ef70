"""Every route answers a declared public schema: an APIRoute without a ``response_model`` fails here, unless it
is listed below as answering something other than JSON (CSV, PDF, YAML, HTML, a redirect, an empty 204), with
the reason, and then it must declare its ``response_class``. The jobs API's schemas name exactly the fields
its queries answer (a field added to one and not the other fails here, not silently in production)."""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from huanghe.api import API_PREFIX
from huanghe.api.app import create_app
from huanghe.api.routes import iter_api_routes
from huanghe.settings import Settings

_CATALOG = ("regions", "cities", "centers", "pools", "links", "tenants", "users", "datasets")
#: (method, path) → why the route answers no JSON schema. Each must declare its response_class.
NON_JSON: dict[tuple[str, str], str] = {
    ("GET", "/"): "the console page (HTML file)",
    ("GET", "/docs"): "the Swagger UI page (HTML)",
    ("GET", "/login"): "the console login form (HTML)",
    ("POST", "/login"): "a redirect to the console with a session cookie, or the form again (HTML)",
    ("POST", "/logout"): "a redirect to the login form",
    ("GET", "/metrics"): "Prometheus text exposition format",
    ("GET", f"{API_PREFIX}/audit/export"): "the audit chain as a CSV or JSON file download",
    ("GET", f"{API_PREFIX}/invoices/{{invoice_id}}/export"): "an invoice as a PDF or CSV file download",
    ("GET", f"{API_PREFIX}/observatory/reports/{{kind}}"): "a report as an HTML or PDF file download",
    **{("DELETE", f"{API_PREFIX}/{p}/{{item_id}}"): "204 No Content: no body" for p in _CATALOG},
    ("DELETE", f"{API_PREFIX}/secrets/{{name}}"): "204 No Content: no body",
    ("GET", f"{API_PREFIX}/datasets/{{item_id}}/files/{{name}}/content"): "a file's bytes, streamed",
    **{
        ("DELETE", f"{API_PREFIX}/{p}"): "204 No Content: no body"
        for p in (
            "datasets/{item_id}/files/{name}",
            "datasets/{item_id}/uploads/{upload_id}",
            "storage-endpoints/{endpoint_id}",
            "data-quotas/{tenant_id}/{endpoint_id}",
            "rules/{rule_id}",
            "lifecycle-policies/{policy_id}",
        )
    },
}


def _is_schema(model: Any) -> bool:
    """A pydantic model, or a list / union of them (``None`` allowed in a union)."""
    if isinstance(model, type) and issubclass(model, BaseModel):
        return True
    origin, args = typing.get_origin(model), typing.get_args(model)
    if origin is list:
        return len(args) == 1 and _is_schema(args[0])
    if origin in (typing.Union, types.UnionType):
        return all(a is type(None) or _is_schema(a) for a in args)
    return False


def test_every_route_has_a_public_response_schema(tmp_path: Path) -> None:
    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'r.db'}", dev_mode=True))
    seen: set[tuple[str, str]] = set()
    problems = []
    for route in iter_api_routes(app):
        for method in sorted(set(route.methods or ()) - {"HEAD"}):
            key = (method, route.path_format)
            seen.add(key)
            if key in NON_JSON:
                declared = getattr(route.response_class, "value", route.response_class)
                if not isinstance(declared, type) or declared is JSONResponse:
                    problems.append(f"{method} {route.path_format}: non-JSON route without a response_class")
            elif not _is_schema(route.response_model):
                problems.append(f"{method} {route.path_format}: response_model {route.response_model!r}")
    assert not problems, "\n".join(problems)
    # /docs is FastAPI's own page (not an APIRoute) when the Swagger UI files are not vendored
    stale = sorted(set(NON_JSON) - seen - {("GET", "/docs")})
    assert not stale, f"listed as non-JSON but not served: {stale}"
    assert len(seen) > 90


def test_job_schemas_match_what_the_jobs_queries_answer(tmp_path: Path) -> None:
    from huanghe.jobs import service as jobs
    from huanghe.jobs.logs import job_logs
    from huanghe.jobs.schemas import JobAccepted, JobDetail, JobEvent, JobLogs, JobPublic
    from tests.test_jobs_api import make_client

    with make_client(tmp_path, scheduler=False) as client:
        r = client.post(f"{API_PREFIX}/jobs", json={"command": "true", "name": "x"})
        assert r.status_code == 201 and set(r.json()) == set(JobAccepted.model_fields)
        job_id = r.json()["id"]
        with client.app.state.session_factory() as s:  # type: ignore[attr-defined]
            page = jobs.list_jobs(s)
            detail = jobs.show(s, job_id)
            events = jobs.events(s, job_id)
            logs = job_logs(s, client.app.state.backends, job_id, 0)  # type: ignore[attr-defined]
    assert set(page["items"][0]) == set(JobPublic.model_fields)
    assert set(detail) == set(JobDetail.model_fields)
    assert events and all(set(e) == set(JobEvent.model_fields) for e in events)
    assert set(logs) == set(JobLogs.model_fields)
