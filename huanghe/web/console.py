"""Mount the console on the FastAPI app: the index page at ``/`` and its files at ``/static``.

The console is a static page (``static/index.html`` + ``app.js`` + ``i18n.js`` + ``style.css``) that reads the
network from ``GET /api/v1/topology``. Its browser libraries (ECharts, the Shandong map as GeoJSON) are vendored
from npm packages into ``static/vendor/`` by ``scripts/vendor-web.sh`` (run by ``make install``); nothing is
fetched from the internet at run time. When they are missing the page still shows the cards and the table,
and says how to install the map (:func:`vendor_missing` tells the same on the server side).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).resolve().parent / "static"
VENDOR_DIR = STATIC_DIR / "vendor"
#: Files the map needs, relative to ``VENDOR_DIR``.
VENDOR_FILES = ("echarts.min.js", "shandong.geo.json")


def vendor_missing(vendor_dir: Path = VENDOR_DIR) -> list[str]:
    """Names of the vendored files that are missing or empty (``[]`` when the map can be drawn)."""
    return [
        name
        for name in VENDOR_FILES
        if not (vendor_dir / name).is_file() or not (vendor_dir / name).stat().st_size
    ]


def mount(app: FastAPI) -> None:
    """Serve the console on ``app``: ``GET /`` (the index page) and ``/static/*``.

    Routes already on the app (``/api``, ``/docs``, ``/healthz``) are left as they are.
    """
    index = STATIC_DIR / "index.html"

    @app.get("/", include_in_schema=False)
    def console_index() -> FileResponse:
        return FileResponse(
            index, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
        )

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=True), name="static")
