"""Every ORM model, imported in one place so that ``Base.metadata`` (and so Alembic) sees all tables.

Each domain keeps its rows in its own ``models.py`` (classes deriving from :class:`huanghe.store.base.Base`).
To add tables: write them there, import the module here, and add a migration chained onto the last one
(``0001_catalog`` → ``0002_jobs`` → ``0003_telemetry`` ...). See CONTRIBUTING.md.
"""

from __future__ import annotations

from huanghe.audit import models as audit_models
from huanghe.billing import models as billing_models
from huanghe.data import models as data_models
from huanghe.jobs import models as jobs_models
from huanghe.network import models as network_models
from huanghe.regulator import models as regulator_models
from huanghe.store import leases as lease_models
from huanghe.store.base import Base
from huanghe.telemetry import models as telemetry_models
from huanghe.tenancy import models as tenancy_models

__all__ = [
    "Base",
    "audit_models",
    "billing_models",
    "data_models",
    "jobs_models",
    "lease_models",
    "network_models",
    "regulator_models",
    "telemetry_models",
    "tenancy_models",
]
