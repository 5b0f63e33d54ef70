"""Every ORM model, imported in one place so that ``Base.metadata`` (and so Alembic) sees all tables.

To add tables: write ``huanghe/store/models_<area>.py`` with classes deriving from
``huanghe.store.base.Base``, import the module here, and add a migration chained onto the last one
(``0001_catalog`` → ``0002_jobs`` → ``0003_telemetry`` ...).
"""

from __future__ import annotations

from huanghe.store import models_catalog, models_jobs, models_telemetry, models_tenancy
from huanghe.store.base import Base

__all__ = ["Base", "models_catalog", "models_jobs", "models_telemetry", "models_tenancy"]
