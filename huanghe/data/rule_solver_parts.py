"""Pieces of the rule solver: per-rule working state, the output tally, the weighted draw and the reasons.

Reasons are bilingual (Chinese; English) and name the expression, how many endpoints match, how many
copies are needed and what excluded the others.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field

import numpy as np

from huanghe.data.rule_inputs import Rule, Solution

OK, REPLICATING, STUCK = 0, 1, 2
_LOCK_NAMES = np.array(["ok", "replicating", "stuck"], dtype=object)
_M1 = np.uint64(0x9E3779B97F4A7C15)
_M2 = np.uint64(0xBF58476D1CE4E5B9)
_M3 = np.uint64(0x94D049BB133111EB)
_C_FILE = np.uint64(0xD6E8FEB86659FD93)
_C_EP = np.uint64(0xC2B2AE3D27D4EB4F)


def weighted_rank(
    seed: int,
    rule_id: str,
    file_ids: np.ndarray,
    cols: np.ndarray,
    weights: np.ndarray,
    per_row_hash: bool = False,
) -> np.ndarray:
    """A (len(file_ids), len(cols)) array in [0, 1): smaller = drawn first. ``1 - u ** (1/w)`` with ``u`` a
    splitmix64 hash of (seed, rule id, file id, endpoint index): a weighted draw without replacement
    (Efraimidis–Spirakis) that is reproducible and does not depend on the other rules.

    With ``per_row_hash`` the rows are rules: ``file_ids`` holds each rule's hash
    (:func:`~huanghe.data.rule_batch.rule_hashes`) and ``weights`` one row per rule; a rule draws the same
    as with ``file_ids=[0]`` and its own id."""
    with np.errstate(over="ignore"):
        ep = np.asarray(cols, dtype=np.int64).astype(np.uint64)[None, :] * _C_EP
        if per_row_hash:
            z = np.asarray(file_ids, dtype=np.uint64)[:, None] ^ ep
        else:
            h = np.uint64((zlib.crc32(rule_id.encode()) | ((seed & 0xFFFFFFFF) << 32)) & 0xFFFFFFFFFFFFFFFF)
            z = h ^ (np.asarray(file_ids, dtype=np.int64).astype(np.uint64)[:, None] * _C_FILE) ^ ep
        z = z + _M1
        z = (z ^ (z >> np.uint64(30))) * _M2
        z = (z ^ (z >> np.uint64(27))) * _M3
        z = z ^ (z >> np.uint64(31))
    # 24 random bits as float32 (ties among 200 endpoints are rare and broken by endpoint order)
    u = ((z >> np.uint64(40)).astype(np.float32) + np.float32(0.5)) * np.float32(2.0**-24)
    w = np.asarray(weights, dtype=np.float32)
    w = np.where(w > 0, w, np.float32(1.0))
    w2 = w if w.ndim == 2 else np.broadcast_to(w[None, :], u.shape)
    plain = np.all(w2 == 1.0, axis=1)  # rows without weights: no power needed
    out = np.float32(1.0) - u
    if not plain.all():
        rows = ~plain
        out[rows] = np.float32(1.0) - u[rows] ** (np.float32(1.0) / w2[rows])
    return out


@dataclass
class RuleWork:
    """One rule during the solve: its files (indices, sizes), the endpoint masks and its existing locks."""

    index: int
    rule: Rule
    fidx: np.ndarray
    sizes: np.ndarray
    allowed: np.ndarray
    available: np.ndarray
    weighted: np.ndarray
    weights: np.ndarray
    cand: np.ndarray
    lock_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    lock_e: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    shortfall: int = 0
    reason: str = ""
    blocked: list[int] = field(default_factory=list)

    @classmethod
    def make(
        cls,
        index: int,
        rule: Rule,
        fidx: np.ndarray,
        sizes: np.ndarray,
        available: np.ndarray,
        weights: np.ndarray,
    ) -> RuleWork:
        sel = np.asarray(rule.selection, dtype=bool)
        allowed = (
            np.ones(len(sel), dtype=bool) if rule.allowed is None else np.asarray(rule.allowed, dtype=bool)
        )
        weighted = np.isfinite(weights) & (weights > 0)
        cand = sel & allowed & available & weighted
        return cls(index, rule, fidx, sizes, allowed, available, weighted, weights, cand)

    def attach_locks(self, lock_f: np.ndarray, lock_e: np.ndarray) -> None:
        """Keep the existing locks whose file is one of the rule's (rows index ``fidx``)."""
        if len(lock_f) == 0 or len(self.fidx) == 0:
            return
        pos = np.minimum(np.searchsorted(self.fidx, lock_f), len(self.fidx) - 1)
        hit = self.fidx[pos] == lock_f
        self.lock_rows, self.lock_e = pos[hit], lock_e[hit]


class Tally:
    """The locks and transfers decided so far, with their rule indices (concatenated at the end)."""

    def __init__(self) -> None:
        self.locks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, bool]] = []
        self.transfers: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def lock(
        self, rule: int | np.ndarray, f: np.ndarray, e: np.ndarray, state: np.ndarray, new: bool
    ) -> None:
        if len(f) == 0:
            return
        rules = np.full(len(f), rule, dtype=np.int64) if isinstance(rule, int) else rule
        self.locks.append((rules, f, e, np.asarray(state, dtype=np.int64), new))

    def transfer(self, rule: int | np.ndarray, f: np.ndarray, e: np.ndarray) -> None:
        if len(f):
            self.transfers.append(
                (np.full(len(f), rule, dtype=np.int64) if isinstance(rule, int) else rule, f, e)
            )

    def arrays(self) -> tuple[np.ndarray, ...]:
        """(lock rule, file, endpoint, state, new, transfer rule, file, endpoint) as index arrays."""

        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        return (
            cat([r for r, _, _, _, _ in self.locks], np.int64),
            cat([f for _, f, _, _, _ in self.locks], np.int64),
            cat([e for _, _, e, _, _ in self.locks], np.int64),
            cat([s for _, _, _, s, _ in self.locks], np.int64),
            cat([np.full(len(f), new) for _, f, _, _, new in self.locks], bool),
            cat([r for r, _, _ in self.transfers], np.int64),
            cat([f for _, f, _ in self.transfers], np.int64),
            cat([e for _, _, e in self.transfers], np.int64),
        )

    def solution(
        self,
        rule_ids: list[str],
        states: list[str],
        reasons: list[str],
        shortfall: np.ndarray,
        file_ids: np.ndarray,
        endpoint_ids: np.ndarray,
        free: np.ndarray,
    ) -> Solution:
        lr, lf, le, ls, ln, tr, tf, te = self.arrays()
        none = np.zeros(0, dtype=np.int64)
        return Solution(
            rule_ids=rule_ids,
            states=states,
            reasons=reasons,
            shortfall=shortfall,
            lock_rule=lr,
            lock_file_ids=file_ids[lf],
            lock_endpoint_ids=endpoint_ids[le],
            lock_states=_LOCK_NAMES[ls],
            lock_new=ln,
            transfer_rule=tr,
            transfer_file_ids=file_ids[tf],
            transfer_endpoint_ids=endpoint_ids[te],
            released_rule=none,
            released_file_ids=none.copy(),
            released_endpoint_ids=np.zeros(0, dtype=endpoint_ids.dtype),
            free_bytes=free,
        )


def exclusion_reason(
    w: RuleWork,
    considered: np.ndarray,
    full: np.ndarray,
    over_quota: np.ndarray,
    over_total: int,
    files_short: int = 0,
) -> str:
    """Why ``w`` is short of copies: matches, copies needed, qualifying endpoints and each exclusion."""
    sel = np.asarray(w.rule.selection, dtype=bool)
    matches = int(sel.sum())
    residency = int((sel & ~w.allowed).sum())
    unavailable = int((sel & w.allowed & ~w.available).sum())
    unweighted = int((sel & w.allowed & w.available & ~w.weighted).sum()) if w.rule.weight else 0
    n_full = int(full.sum())
    n_quota = int(over_quota.sum()) + over_total
    held = int((sel & w.cand & ~considered).sum())
    qualify = max(int(considered.sum()) - n_full - n_quota, 0) + held
    expr = w.rule.expression or "?"
    copies = w.rule.copies
    weight_zh = f"，无正权重（{w.rule.weight}）{unweighted} 个" if w.rule.weight else ""
    weight_en = f", {unweighted} without a positive weight ({w.rule.weight})" if w.rule.weight else ""
    head_zh = f"{files_short} 个文件副本不足；" if files_short else ""
    head_en = f"{files_short} of {len(w.fidx)} files lack copies; " if files_short else ""
    zh = (
        f"{head_zh}表达式 '{expr}' 匹配 {matches} 个端点，需要 {copies} 个副本，仅 {qualify} 个可用"
        f"（驻留限制排除 {residency} 个，不可用 {unavailable} 个{weight_zh}，空间不足 {n_full} 个，超出配额 {n_quota} 个）"
    )
    en = (
        f"{head_en}too few endpoints: expression '{expr}' matches {matches}, {copies} copies needed, {qualify} qualify "
        f"(excluded: {residency} by residency, {unavailable} unavailable{weight_en}, {n_full} full, "
        f"{n_quota} over quota)"
    )
    return f"{zh}; {en}"


def rule_states(
    shortfall: np.ndarray,
    reasons: list[str],
    lock_rule: np.ndarray,
    lock_state: np.ndarray,
    kept_stuck: np.ndarray,
) -> tuple[list[str], list[str]]:
    """Each rule's state and reason: stuck when short (``reasons`` says why) or holding stuck locks, ok when
    every lock is ok, else replicating. ``kept_stuck``: stuck locks per rule that were stuck before."""
    n = len(shortfall)
    n_stuck = np.bincount(lock_rule[lock_state == STUCK], minlength=n).tolist()
    n_rep = np.bincount(lock_rule[lock_state == REPLICATING], minlength=n).tolist()
    kept = kept_stuck.tolist()
    states, out = [], []
    for i in range(n):
        if shortfall[i]:
            states.append("stuck")
            out.append(reasons[i])
        elif n_stuck[i]:
            new = n_stuck[i] - kept[i]
            zh = f"{n_stuck[i]} 个副本锁卡住（其中 {new} 个因已选端点现在无法接收新文件），等待修复"
            en = (
                f"{n_stuck[i]} locks stuck ({new} because an endpoint the rule holds cannot take new files "
                "now); the repairer retries"
            )
            states.append("stuck")
            out.append(f"{zh}; {en}")
        elif n_rep[i]:
            states.append("replicating")
            out.append(f"{n_rep[i]} 个副本复制中; {n_rep[i]} replicas being copied")
        else:
            states.append("ok")
            out.append("")
    return states, out
