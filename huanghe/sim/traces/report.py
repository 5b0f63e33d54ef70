"""What every trace loader returns beside its arrays: a load report, and the error for a bad row.

A loader never drops a row silently: a bad row either raises :class:`TraceRowError` naming the line
(1-based, the header is line 1) and the column, or, when the caller asked to skip bad rows, is counted
in :attr:`LoadReport.dropped_by_reason` under a short reason such as ``"gpus: must be >= 0"``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


class TraceRowError(ValueError):
    """A row of a trace file that cannot be read. ``line`` is 1-based (the header is line 1)."""

    def __init__(self, line: int, column: str, problem: str, source: str = "") -> None:
        self.line = line
        self.column = column
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}line {line}, column {column}: {problem}")

    @property
    def reason(self) -> str:
        """The key this error is counted under when bad rows are skipped."""
        return f"{self.column}: {self.problem}"


class TraceFileError(ValueError):
    """A trace file that cannot be read at all (missing, empty, wrong header)."""


@dataclass
class LoadReport:
    """How a load went: data ``rows`` read, rows ``loaded``, and the dropped rows counted by reason."""

    rows: int = 0
    loaded: int = 0
    dropped_by_reason: dict[str, int] = field(default_factory=dict)
    source: str = ""

    @property
    def dropped(self) -> int:
        return sum(self.dropped_by_reason.values())

    def drop(self, reason: str) -> None:
        self.dropped_by_reason[reason] = self.dropped_by_reason.get(reason, 0) + 1

    def merge_counts(self, counts: Counter[str]) -> None:
        for reason, n in counts.items():
            self.dropped_by_reason[reason] = self.dropped_by_reason.get(reason, 0) + n

    def summary(self) -> str:
        """One line, e.g. ``82247 rows, 82247 loaded, 0 dropped``; reasons in brackets."""
        text = f"{self.rows} rows, {self.loaded} loaded, {self.dropped} dropped"
        if self.dropped_by_reason:
            reasons = "; ".join(f"{k} ×{v}" for k, v in sorted(self.dropped_by_reason.items()))
            text += f" ({reasons})"
        return text
