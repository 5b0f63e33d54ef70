"""The private PostgreSQL fixture: clear failure without binaries, a working server with them."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.infra.postgres import PostgresServer, PostgresUnavailableError, find_pg_bin


def test_missing_binaries_give_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUANGHE_PG_BIN", str(tmp_path))
    assert find_pg_bin() is None
    with pytest.raises(PostgresUnavailableError, match="make test-deps"):
        PostgresServer.start()


@pytest.mark.postgres
def test_server_is_private_and_on_loopback(postgres_server: PostgresServer) -> None:
    assert postgres_server.process.poll() is None
    assert postgres_server.root.exists()
    url = postgres_server.create_database("fixture_check")
    assert url.startswith(f"postgresql+psycopg://postgres@127.0.0.1:{postgres_server.port}/")
    with psycopg.connect(postgres_server.dsn("fixture_check")) as conn:
        row = conn.execute("SHOW listen_addresses").fetchone()
        assert row is not None and row[0] == "127.0.0.1"
    postgres_server.drop_database("fixture_check")
