"""A request that finds every connection of its process's pool in use for the pool's timeout is answered 503 with
``Retry-After`` (server busy), never a 500: a real SQLAlchemy pool of one connection held by the test."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.pool import QueuePool

from huanghe.api.errors import install_error_handlers


def test_an_exhausted_pool_answers_503_with_retry_after(tmp_path: Path) -> None:
    engine = create_engine(
        f"sqlite:///{tmp_path / 'busy.db'}",
        poolclass=QueuePool,
        pool_size=1,
        max_overflow=0,
        pool_timeout=0.2,
    )
    app = FastAPI()
    install_error_handlers(app)

    @app.get("/count")
    def count() -> int:
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT 1")).scalar_one())

    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.get("/count").json() == 1
        with engine.connect():  # the pool's only connection, held
            r = client.get("/count")
        assert r.status_code == 503 and r.headers["Retry-After"]
        assert r.json()["detail"][0]["message"].startswith("server busy")
        assert client.get("/count").status_code == 200  # free again: served
    engine.dispose()
