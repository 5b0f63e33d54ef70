"""What a job submission looks like: :class:`JobSubmit` (one job) and :class:`JobBatchSubmit` (many)."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from huanghe.domain.jobs import JobSpec
from huanghe.domain.network import ID_PATTERN

#: Most jobs accepted in one batch request.
MAX_BATCH_JOBS = 10_000
#: Longest accepted Idempotency-Key.
MAX_IDEMPOTENCY_KEY = 200


class JobSubmit(JobSpec):
    """A job submission: the :class:`JobSpec` fields plus what to run and who runs it.

    Exactly one of ``command`` (one shell command line) and ``script`` (a whole script) is given.
    ``duration_s`` is the submitter's run-time estimate (used for placement only); ``time_limit_s`` is
    enforced by back-ends that can; ``max_attempts`` bounds dispatches (first run + retries elsewhere).
    """

    name: str = Field(default="", max_length=63)
    script: str = Field(default="", max_length=1_000_000)
    tenant: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    user: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    time_limit_s: float | None = Field(default=None, gt=0)
    env: dict[str, str] = Field(default_factory=dict, max_length=100)
    max_attempts: int = Field(default=3, ge=1, le=10)

    @model_validator(mode="after")
    def _one_of_command_script(self) -> JobSubmit:
        if bool(self.command.strip()) == bool(self.script.strip()):
            raise ValueError("exactly one of command and script must be given")
        if self.cpus <= 0:
            raise ValueError("cpus must be > 0")
        return self


class JobBatchSubmit(BaseModel):
    """Body of ``POST /jobs:batch``: up to :data:`MAX_BATCH_JOBS` submissions."""

    jobs: list[JobSubmit] = Field(min_length=1, max_length=MAX_BATCH_JOBS)
