"""Public schemas of the back-ends: what each registered back-end can run, and why not where it cannot."""

from __future__ import annotations

from pydantic import BaseModel, Field


class CapabilityPublic(BaseModel):
    """One capability of a back-end: ``supported``, or not with the back-end's declared ``reason``."""

    name: str = Field(description="capability, e.g. gpus, multi_node, time_limits")
    supported: bool
    reason: str | None = Field(default=None, description="why not, when not supported")


class BackendPublic(BaseModel):
    """A registered back-end. Connection settings are per pool and never shown here."""

    name: str
    capabilities: list[CapabilityPublic]
    simulated: bool = Field(
        default=False,
        description="true when jobs are not executed but simulated for their estimated run time",
    )
