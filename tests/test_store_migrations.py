"""Migrations: the schema built by Alembic equals the ORM metadata, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from huanghe.store.db import make_engine
from huanghe.store.migrate import alembic_config, current_revision, head_revision, migrate
from huanghe.store.models import Base

CATALOG_TABLES = {
    "network", "regions", "cities", "centers", "storage_tiers", "pools", "links", "tenants", "users", "datasets",
}  # fmt: skip


def test_first_revision_id_is_fixed() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    base = script.get_revision("0001_catalog")
    assert base is not None and base.down_revision is None


def test_migrated_schema_matches_orm(migrated_url: str) -> None:
    engine = make_engine(migrated_url)
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            tables = set(inspect(conn).get_table_names())
        assert diff == []
        assert tables >= CATALOG_TABLES
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_migrate_is_idempotent_and_downgrades(migrated_url: str) -> None:
    migrate(migrated_url)  # second run: nothing to do, no error
    engine = make_engine(migrated_url)
    try:
        cfg = alembic_config()
        with engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert not (CATALOG_TABLES & set(inspect(engine).get_table_names()))
        assert current_revision(engine) is None
    finally:
        engine.dispose()
    migrate(migrated_url)
    engine = make_engine(migrated_url)
    try:
        assert set(inspect(engine).get_table_names()) >= CATALOG_TABLES
    finally:
        engine.dispose()


def test_migrate_from_another_cwd(tmp_path: Path) -> None:
    """The migrations are found inside the package, whatever the working directory."""
    db = tmp_path / "sub" / "dir" / "x.db"
    code = "import sys; from huanghe.store.migrate import migrate; migrate(sys.argv[1])"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "-c", code, f"sqlite:///{db}"], cwd=tmp_path, env=env, check=True)
    engine = make_engine(f"sqlite:///{db}")
    try:
        assert "centers" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10_000
    finally:
        engine.dispose()
