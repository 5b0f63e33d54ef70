"""Mount the console on the FastAPI app: the index page at ``/`` and its files at ``/static``.

The console is one static page (``static/index.html``, ``style.css``, ``i18n.js`` with every string in zh-CN and
English, no build step) with hash-routed views: the network (``app.js``: cards, map, centers table and which
back-end runs the pools, from ``GET /api/v1/topology``), ``#jobs`` (``jobs.js``: submit form, list, detail with
placement explanation, logs, cancel) and ``#observatory`` (``observatory.js``: indicators, index, targets, green
list, latency circles, alerts, telemetry, reports). ``common.js`` holds what they share (language, API calls that
show 401/403 as a link to ``/login`` and send the ``huanghe_csrf`` cookie back as ``X-CSRF-Token``).

Its browser libraries (ECharts, the Shandong map as GeoJSON) are vendored from npm packages into
``static/vendor/`` by ``scripts/vendor-web.sh`` (run by ``make install``); nothing is fetched from the internet
at run time. When they are missing the page still shows the cards and the tables, and says how to install
the map (:func:`vendor_missing` tells the same on the server side).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
#: Files the map needs, relative to ``VENDOR_DIR``.
VENDOR_FILES = ("echarts.min.js", "shandong.geo.json")
#: Swagger UI files for an offline ``/docs``, relative to ``VENDOR_DIR``.
SWAGGER_FILES = ("swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css")


def vendor_missing(vendor_dir: Path = VENDOR_DIR, names: tuple[str, ...] = VENDOR_FILES) -> list[str]:
    """Which of ``names`` are missing or empty in ``vendor_dir`` (``[]`` when the map can be drawn)."""
    return [
        name for name in names if not (vendor_dir / name).is_file() or not (vendor_dir / name).stat().st_size
    ]


def mount(app: FastAPI) -> None:
    """Serve the console on ``app``: ``GET /`` (the index page) and ``/static/*``.

    Routes already on the app (``/api``, ``/healthz``, ``/openapi.json``) are left as they are. The Swagger UI
    page at ``app.docs_url`` stays where it is but loads its script and style from ``/static/vendor`` instead of
    a CDN, when they have been vendored (FastAPI's default page is kept otherwise).
    """
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False, response_class=FileResponse)
    def console_index() -> FileResponse:
        return FileResponse(
            index, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=True), name="static")
    if not vendor_missing(names=SWAGGER_FILES):
        _serve_docs_locally(app)


def _serve_docs_locally(app: FastAPI) -> None:
    """Replace the Swagger UI route FastAPI made with the same page using the vendored files."""
    docs_url, openapi_url = app.docs_url, app.openapi_url
    if not docs_url or not openapi_url:
        return
    app.router.routes[:] = [r for r in app.router.routes if getattr(r, "path", None) != docs_url]

    def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}/static/vendor/{SWAGGER_FILES[0]}",
            swagger_css_url=f"{root}/static/vendor/{SWAGGER_FILES[1]}",
            swagger_favicon_url=f"{root}/static/favicon.svg",
            oauth2_redirect_url=app.swagger_ui_oauth2_redirect_url,
            init_oauth=app.swagger_ui_init_oauth,
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    app.add_api_route(
        docs_url, swagger_ui, methods=["GET"], include_in_schema=False, response_class=HTMLResponse
    )
