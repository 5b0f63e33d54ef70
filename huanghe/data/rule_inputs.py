"""Inputs and output of the replication-rule solver (:mod:`huanghe.data.rule_solver`), as numpy columns.

Sizes and free space are integer bytes. Ids are the database's: file ids are integers, endpoint and rule ids
strings. Every array of a record type has one entry per row (``Replicas.file_ids[i]`` with
``Replicas.endpoint_ids[i]`` …). Pure: no database, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from huanghe.data.expression import EndpointTable

#: "No limit" for a quota or the free space of an endpoint (bytes).
UNLIMITED = np.iinfo(np.int64).max // 4
LOCK_STATES: tuple[str, ...] = ("ok", "replicating", "stuck")
REPLICA_STATES: tuple[str, ...] = ("available", "copying", "bad")
GROUPINGS: tuple[str, ...] = ("all", "none")
RULE_STATES: tuple[str, ...] = ("ok", "replicating", "stuck")


class _Index:
    """Sorted view of unique keys for vectorised look-ups (built once per input)."""

    def __init__(self, keys: np.ndarray) -> None:
        self.order = np.argsort(keys, kind="stable")
        self.sorted = keys[self.order]
        if len(keys) > 1 and np.any(self.sorted[1:] == self.sorted[:-1]):
            raise ValueError(
                f"duplicate id {self.sorted[1:][self.sorted[1:] == self.sorted[:-1]][0].item()!r}"
            )

    def find(self, wanted: np.ndarray, what: str) -> np.ndarray:
        """Positions of ``wanted`` in the keys; ValueError naming ``what`` and the first unknown id."""
        if len(wanted) == 0:
            return np.zeros(0, dtype=np.int64)
        n = len(self.sorted)
        pos = np.minimum(np.searchsorted(self.sorted, wanted), max(n - 1, 0))
        bad = (self.sorted[pos] != wanted) if n else np.ones(len(wanted), dtype=bool)
        if np.any(bad):
            raise ValueError(f"{what}: unknown id {wanted[np.flatnonzero(bad)[0]].item()!r}")
        return np.asarray(self.order[pos], dtype=np.int64)


@dataclass(frozen=True)
class Endpoints:
    """The endpoints: their attribute ``table``, the bytes each may still receive (``free_bytes``, int64) and
    whether each answers (``available``). ``free_bytes`` defaults to the table's column of that name."""

    table: EndpointTable
    available: np.ndarray
    free_bytes: np.ndarray | None = None

    def __post_init__(self) -> None:
        n = len(self.table)
        free = self.free_bytes
        if free is None:
            col = self.table.column("free_bytes")
            free = np.full(n, UNLIMITED) if col is None else np.nan_to_num(col.astype(float), nan=0.0)
        object.__setattr__(self, "free_bytes", np.asarray(free).astype(np.int64))
        object.__setattr__(self, "available", np.asarray(self.available, dtype=bool))
        if len(self.available) != n or len(self.free) != n:
            raise ValueError(f"endpoints: available/free_bytes need {n} values")
        object.__setattr__(self, "_ids", np.asarray(self.table.ids).astype(str))
        object.__setattr__(self, "_index", _Index(self._ids))  # type: ignore[attr-defined]

    @property
    def free(self) -> np.ndarray:
        """Free bytes per endpoint (int64)."""
        assert self.free_bytes is not None
        return self.free_bytes

    @property
    def ids(self) -> np.ndarray:
        return self._ids  # type: ignore[attr-defined]

    def index(self, ids: np.ndarray, what: str) -> np.ndarray:
        """Positions of endpoint ``ids``; ValueError naming ``what`` for an unknown one."""
        return self._index.find(np.asarray(ids).astype(str), what)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Files:
    """The files the rules cover: unique integer ``ids`` and ``size_bytes``."""

    ids: np.ndarray
    size_bytes: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "ids", np.asarray(self.ids, dtype=np.int64))
        object.__setattr__(self, "size_bytes", np.asarray(self.size_bytes, dtype=np.int64))
        if len(self.ids) != len(self.size_bytes):
            raise ValueError("files: ids and size_bytes differ in length")
        if np.any(self.size_bytes < 0):
            raise ValueError("files: size_bytes must be >= 0")
        object.__setattr__(self, "_index", _Index(self.ids))

    def index(self, ids: np.ndarray, what: str) -> np.ndarray:
        """Positions of file ``ids``; ValueError naming ``what`` for an unknown one."""
        return self._index.find(np.asarray(ids, dtype=np.int64), what)  # type: ignore[attr-defined]


def _check_columns(what: str, table: object, columns: tuple[str, ...], states: tuple[str, ...]) -> None:
    """The array ``columns`` of ``table`` (the last one: ``states``) have one length and every state is one of
    ``states``; ValueError naming ``what`` and the first bad state otherwise."""
    arrays = [np.asarray(getattr(table, c)) for c in columns]
    if len({len(a) for a in arrays}) > 1:
        raise ValueError(f"{what}: {', '.join(columns[:-1])} and {columns[-1]} differ in length")
    bad = ~np.isin(arrays[-1].astype(str), states)
    if np.any(bad):
        raise ValueError(
            f"{what}: state {getattr(table, columns[-1])[np.flatnonzero(bad)[0]]!r} is not one of {states}"
        )


@dataclass(frozen=True)
class Replicas:
    """Existing copies: (``file_ids[i]``, ``endpoint_ids[i]``) in ``states[i]`` (available|copying|bad)."""

    file_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    endpoint_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, str))
    states: np.ndarray = field(default_factory=lambda: np.zeros(0, str))

    def __post_init__(self) -> None:
        _check_columns("replicas", self, ("file_ids", "endpoint_ids", "states"), REPLICA_STATES)


@dataclass(frozen=True)
class Locks:
    """Locks the rules already hold: rule ``rule_ids[i]`` on (``file_ids[i]``, ``endpoint_ids[i]``) in
    ``states[i]`` (ok|replicating|stuck). Locks of rules not being solved are ignored."""

    rule_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, str))
    file_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    endpoint_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, str))
    states: np.ndarray = field(default_factory=lambda: np.zeros(0, str))

    def __post_init__(self) -> None:
        _check_columns("locks", self, ("rule_ids", "file_ids", "endpoint_ids", "states"), LOCK_STATES)


@dataclass(frozen=True)
class Quota:
    """What a tenant may still add (bytes): in total (None: no limit) and per endpoint id (absent: no
    limit). Every new lock charges its file's size, shared replicas included (Rucio's accounting)."""

    total_bytes: int | None = None
    per_endpoint: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Rule:
    """A rule to evaluate: ``copies`` copies of each of ``file_ids`` on endpoints of ``selection`` (bool per
    endpoint, from :meth:`Expression.select`; ``expression`` is its text, for the reasons).

    ``grouping``: ``all`` (every file on the same endpoints) or ``none`` (each file on its own). ``weight``:
    a numeric endpoint attribute weighting the choice among equals (endpoints without a positive weight do
    not qualify). ``allowed``: the endpoints the data-security class allows (residency; None = all).
    ``tenant``: whose :class:`Quota` is charged."""

    id: str
    file_ids: np.ndarray
    copies: int
    selection: np.ndarray
    expression: str = ""
    grouping: str = "all"
    weight: str | None = None
    tenant: str = ""
    allowed: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.copies < 1:
            raise ValueError(f"rule {self.id}: copies must be >= 1")
        if self.grouping not in GROUPINGS:
            raise ValueError(f"rule {self.id}: grouping must be one of {GROUPINGS}")


@dataclass(frozen=True)
class RuleOutcome:
    """One rule's decision, with ids: its locks (file id, endpoint id, state, new?) and transfers."""

    rule_id: str
    state: str
    reason: str
    shortfall: int
    locks: list[tuple[int, str, str, bool]]
    transfers: list[tuple[int, str]]
    released: list[tuple[int, str]]


@dataclass(frozen=True)
class Solution:
    """Every rule's state and reason (``states[i]``, ``reasons[i]`` for ``rule_ids[i]``; ``shortfall[i]``:
    copies missing, for ``all`` endpoints short, for ``none`` file copies short), then all locks
    (``lock_rule`` indexes ``rule_ids``; ``lock_new`` False for locks the rule already held), the transfers
    to queue and, from :func:`repair`, the locks to release. ``free_bytes``: per endpoint after the solve."""

    rule_ids: list[str]
    states: list[str]
    reasons: list[str]
    shortfall: np.ndarray
    lock_rule: np.ndarray
    lock_file_ids: np.ndarray
    lock_endpoint_ids: np.ndarray
    lock_states: np.ndarray
    lock_new: np.ndarray
    transfer_rule: np.ndarray
    transfer_file_ids: np.ndarray
    transfer_endpoint_ids: np.ndarray
    released_rule: np.ndarray
    released_file_ids: np.ndarray
    released_endpoint_ids: np.ndarray
    free_bytes: np.ndarray

    def outcome(self, rule_id: str) -> RuleOutcome:
        """The decision for one rule, as lists of ids (slow path for tests and small callers)."""
        i = self.rule_ids.index(rule_id)
        lk = np.flatnonzero(self.lock_rule == i)
        tr = np.flatnonzero(self.transfer_rule == i)
        rl = np.flatnonzero(self.released_rule == i)
        return RuleOutcome(
            rule_id,
            self.states[i],
            self.reasons[i],
            int(self.shortfall[i]),
            [
                (
                    int(self.lock_file_ids[k]),
                    str(self.lock_endpoint_ids[k]),
                    str(self.lock_states[k]),
                    bool(self.lock_new[k]),
                )
                for k in lk
            ],
            [(int(self.transfer_file_ids[k]), str(self.transfer_endpoint_ids[k])) for k in tr],
            [(int(self.released_file_ids[k]), str(self.released_endpoint_ids[k])) for k in rl],
        )

    def locks(self) -> Locks:
        """All locks after the solve, as input for the next solve."""
        rules = (
            np.asarray(self.rule_ids, dtype=object)[self.lock_rule]
            if len(self.lock_rule)
            else np.zeros(0, str)
        )
        return Locks(rules, self.lock_file_ids, self.lock_endpoint_ids, self.lock_states)
