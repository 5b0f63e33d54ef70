"""Public schemas of storage endpoints and data quotas (``/api/v1/storage-endpoints``, ``/api/v1/data-quotas``).

Sizes are integer bytes; times epoch seconds. An endpoint's connection (URL, bucket, the NAMES of the secrets
holding its keys) is answered only to platform admins (``connection``); nobody is ever answered a key.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from huanghe.core.schemas import UpdateSchema
from huanghe.domain.enums import StorageMedium, Temperature
from huanghe.domain.network import ID_PATTERN

#: S3 bucket names: lower case, digits, dots and dashes, 3–63 characters, starting and ending alphanumeric.
BUCKET_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"
#: Keys of custom endpoint attributes (the rule expressions' attribute syntax).
ATTRIBUTE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
#: Attribute keys the platform derives itself (custom attributes may not override them).
RESERVED_ATTRIBUTES = frozenset(
    {"id", "center", "city", "circle", "tier", "medium", "operator", "security_level", "free_bytes",
     "available"}
)  # fmt: skip
#: Most custom attributes per endpoint; longest text value, characters.
MAX_ATTRIBUTES = 32
MAX_ATTRIBUTE_CHARS = 200
#: Quota target meaning "all endpoints together".
ALL_ENDPOINTS = "*"
QUOTA_ENDPOINT_PATTERN = r"^(\*|[a-z0-9][a-z0-9_.-]{0,63})$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

AttributeValue = str | bool | int | float
SecretName = Annotated[str, Field(pattern=ID_PATTERN, max_length=64, description="name of a stored secret")]


def check_attributes(value: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
    """Custom attributes: at most :data:`MAX_ATTRIBUTES`, keys in the expression syntax and not built in,
    values short text without control characters or finite numbers / booleans (ValueError naming the key)."""
    if len(value) > MAX_ATTRIBUTES:
        raise ValueError(f"at most {MAX_ATTRIBUTES} attributes")
    for key, v in value.items():
        if not ATTRIBUTE_KEY.match(key):
            raise ValueError(f"attribute key {key!r} must match {ATTRIBUTE_KEY.pattern}")
        if key in RESERVED_ATTRIBUTES:
            raise ValueError(f"attribute {key!r} is derived by the platform and cannot be set")
        if isinstance(v, str) and (len(v) > MAX_ATTRIBUTE_CHARS or _CONTROL.search(v) or not v.strip()):
            raise ValueError(f"attribute {key!r}: 1..{MAX_ATTRIBUTE_CHARS} characters, no control characters")
        if isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"attribute {key!r}: must be a finite number")
    return value


def check_url(value: str) -> str:
    """An ``http(s)://host[:port][/path]`` URL without user info, query or fragment (ValueError)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(value)
        _ = parts.port  # raises on a malformed port
    except ValueError:
        raise ValueError("must be an http:// or https:// URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL with a host")
    if parts.username or parts.password or "@" in parts.netloc:
        raise ValueError("must not carry credentials: name secrets in access_key_secret / secret_key_secret")
    if parts.query or parts.fragment or _CONTROL.search(value):
        raise ValueError("must not have a query, a fragment or control characters")
    return value.rstrip("/")


class EndpointCreate(BaseModel):
    """An external S3 endpoint registered by a platform admin (one storage tier of one center)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=ID_PATTERN, max_length=64, description="endpoint id, e.g. jn-sc-hot")
    center: str = Field(pattern=ID_PATTERN, max_length=64, description="center holding the storage")
    temperature: Temperature
    medium: StorageMedium
    url: str = Field(max_length=500, description="S3 endpoint URL, http(s)://host:port")
    bucket: str = Field(pattern=BUCKET_PATTERN, description="bucket holding the objects")
    access_key_secret: SecretName | None = None
    secret_key_secret: SecretName | None = None
    capacity_bytes: int = Field(ge=0, le=2**62, description="bytes the platform may store there")
    attributes: dict[str, AttributeValue] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        return check_url(v)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, v: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
        return check_attributes(v)


class EndpointUpdate(UpdateSchema):
    """Changed fields. ``drained`` takes the endpoint out of new placements (existing copies stay);
    ``reason`` says why. ``attributes`` replaces the custom attributes. Connection fields: admins only."""

    capacity_bytes: int | None = Field(default=None, ge=0, le=2**62)
    drained: bool | None = None
    reason: str | None = Field(default=None, max_length=500)
    attributes: dict[str, AttributeValue] | None = None
    url: str | None = Field(default=None, max_length=500)
    bucket: str | None = Field(default=None, pattern=BUCKET_PATTERN)
    access_key_secret: SecretName | None = None
    secret_key_secret: SecretName | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        return None if v is None else check_url(v)

    @field_validator("attributes")
    @classmethod
    def _attributes(cls, v: dict[str, AttributeValue] | None) -> dict[str, AttributeValue] | None:
        return None if v is None else check_attributes(v)

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str | None) -> str | None:
        if v is not None and _CONTROL.search(v):
            raise ValueError("must be text without control characters")
        return v


class EndpointConnection(BaseModel):
    """Where the platform reaches the endpoint (platform admins only): never the keys, only secret names."""

    url: str
    bucket: str
    access_key_secret: str | None
    secret_key_secret: str | None


class EndpointPublic(BaseModel):
    """A storage endpoint. ``free_bytes`` = capacity − used (not below 0). ``available``: it answered its
    last health check and is not drained (``reason`` says why not). ``connection``: admins only."""

    id: str
    center: str
    city: str
    circle: str
    temperature: str
    medium: str
    operator: str
    security_level: int
    capacity_bytes: int
    used_bytes: int
    free_bytes: int
    available: bool
    healthy: bool
    drained: bool
    reason: str
    checked_s: float | None
    attributes: dict[str, AttributeValue]
    created_s: float
    connection: EndpointConnection | None = None


class SyncSummary(BaseModel):
    """What :func:`huanghe.data.endpoints.sync_endpoints` did: endpoint ids per outcome. ``skipped``: tiers
    of centers whose circle has no server; ``without_tier``: stored endpoints matching no tier (left as is)."""

    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list)
    without_tier: list[str] = Field(default_factory=list)


class HealthChange(BaseModel):
    """An endpoint whose health changed at a check."""

    id: str
    healthy: bool
    reason: str


class QuotaPut(BaseModel):
    """A tenant's limit on one endpoint or (endpoint ``*``) on all together, bytes."""

    model_config = ConfigDict(extra="forbid")

    limit_bytes: int = Field(ge=0, le=2**62)


class QuotaPublic(BaseModel):
    """A quota with what the tenant uses under it (its replicas' sizes) and what is left, bytes."""

    tenant: str
    endpoint: str
    limit_bytes: int
    used_bytes: int
    left_bytes: int
