"""Base classes shared by the public schemas of every domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class UpdateSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
