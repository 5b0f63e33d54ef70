"""The declarative base every ORM model derives from (one metadata for Alembic), and the column types the
domains share (``ID``: identifiers, ``ENUM``: lower-case enum values)."""

from __future__ import annotations

from sqlalchemy import MetaData, String
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Column type of identifiers (``^[a-z0-9][a-z0-9._-]*$``, at most 64 characters).
ID = String(64)
#: Column type of enum values, stored as their lower-case strings.
ENUM = String(32)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
