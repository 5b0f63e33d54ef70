"""Public schemas of replication rules: ``RuleCreate``, ``RulePublic``, ``LockPublic``.

Times are epoch seconds (``*_s``); ``lifetime_s`` in seconds from creation (None: the rule never expires)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from huanghe.domain.network import ID_PATTERN

#: Most copies one rule may ask for.
MAX_COPIES = 20
#: Longest lifetime of a rule, seconds (ten years).
MAX_LIFETIME_S = 10 * 365 * 86400.0
#: Longest expression, characters.
MAX_EXPRESSION_CHARS = 2000


class Grouping(StrEnum):
    """``all``: every file of the dataset on the same endpoints; ``none``: each file placed on its own."""

    ALL = "all"
    NONE = "none"


class RuleState(StrEnum):
    REPLICATING = "replicating"
    OK = "ok"
    STUCK = "stuck"
    SUSPENDED = "suspended"


class RuleOrigin(StrEnum):
    """Who made the rule: a user, the province's off-site backup policy, a job's input staging, an upload."""

    USER = "user"
    BACKUP = "backup"
    STAGING = "staging"
    UPLOAD = "upload"
    TIERING = "tiering"


class RuleCreate(BaseModel):
    """A replication rule: ``copies`` copies of every file of ``dataset`` on endpoints matching
    ``expression`` (see docs/data-rules.md), for ``lifetime_s`` seconds (None: until deleted)."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(pattern=ID_PATTERN, max_length=64)
    copies: int = Field(ge=1, le=MAX_COPIES)
    expression: str = Field(min_length=1, max_length=MAX_EXPRESSION_CHARS)
    lifetime_s: float | None = Field(default=None, gt=0, le=MAX_LIFETIME_S)
    grouping: Grouping = Grouping.ALL
    weight: str | None = Field(
        default=None, max_length=64, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="endpoint attribute whose numeric value weights the choice among qualifying endpoints",
    )  # fmt: skip
    priority: int = Field(default=3, ge=1, le=5, description="1 (lowest) to 5 (highest) for its transfers")


class RulePublic(BaseModel):
    """A rule with its state and why, and how many of its replica locks are ok / replicating / stuck."""

    id: str
    dataset: str
    tenant: str
    copies: int
    expression: str
    grouping: Grouping
    weight: str | None
    lifetime_s: float | None
    expires_s: float | None
    state: RuleState
    reason: str
    origin: RuleOrigin
    priority: int
    locks_ok: int
    locks_replicating: int
    locks_stuck: int
    created_by: str
    created_s: float
    updated_s: float


class LockPublic(BaseModel):
    """One file's copy claimed by a rule on one endpoint (in ``center``)."""

    rule: str
    file: str
    endpoint: str
    center: str
    state: str
