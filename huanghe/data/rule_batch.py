"""Whole-solve vectorised steps of the rule solver: every rule's files at once, the states of kept locks,
which rules need no work, and the endpoint ranking of the ``all`` rules that share no file with another
rule of the solve and hold no lock yet (the common case: a new dataset's rule), so that the sequential part
of the solve only walks a few precomputed candidates per rule.

Sizes in bytes. "Present" = an available or copying replica (nothing to move); keys of (file, endpoint)
pairs are ``file_index * n_endpoints + endpoint_index``.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from huanghe.data.rule_inputs import Endpoints, Files, Locks, Rule
from huanghe.data.rule_solver_parts import _C_FILE, OK, REPLICATING, STUCK, weighted_rank


def rule_hashes(seed: int, rules: Sequence[Rule]) -> np.ndarray:
    """One uint64 per rule from the seed and the rule id (the base of the weighted draw)."""
    hi = (seed & 0xFFFFFFFF) << 32
    return np.array([zlib.crc32(r.id.encode()) | hi for r in rules], dtype=np.uint64)


def weight_values(endpoints: Endpoints, attr: str | None) -> np.ndarray:
    """Float weight per endpoint (ones without an attribute; NaN where the value is no number)."""
    n = len(endpoints.table)
    if attr is None:
        return np.ones(n)
    col = endpoints.table.column(attr)
    return np.full(n, np.nan) if col is None else to_float(col)


def to_float(col: np.ndarray) -> np.ndarray:
    """Each value of ``col`` as a float; NaN where it is no number."""
    out = np.full(len(col), np.nan)
    for k, v in enumerate(col.tolist()):
        try:
            out[k] = float(v)
        except (TypeError, ValueError):
            continue
    return out


def replica_positions(rep_ptr: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For the files ``f`` (a file may repeat) in the CSR replica table (file i's replicas at
    ``rep_ptr[i]:rep_ptr[i+1]``): how many replicas each has, and their positions, file after file."""
    starts = rep_ptr[f]
    counts = rep_ptr[f + 1] - starts
    idx = (
        np.arange(int(counts.sum()))
        - np.repeat(np.cumsum(counts) - counts, counts)
        + np.repeat(starts, counts)
    )
    return counts, idx


@dataclass
class Batch:
    """Everything computed once per solve (see the module docstring)."""

    m_rule: np.ndarray  # member = (rule, file), sorted by rule then file; unique
    m_f: np.ndarray
    m_ptr: np.ndarray  # members of rule i: m_ptr[i]:m_ptr[i+1]
    l_rule: np.ndarray  # kept locks, sorted by rule
    l_f: np.ndarray
    l_e: np.ndarray
    l_state: np.ndarray  # their state now
    l_ptr: np.ndarray
    cand: np.ndarray  # (R, E) bool: selected, allowed, available, weighted
    weights: np.ndarray  # (R, E) float
    satisfied: np.ndarray  # (R,) bool: nothing to add
    fast: np.ndarray  # (R,) bool: grouping all, no lock, no shared file, at least one file
    fast_none: np.ndarray  # (R,) bool: the same with grouping none

    def files_of(self, i: int) -> np.ndarray:
        return self.m_f[self.m_ptr[i] : self.m_ptr[i + 1]]

    def locks_of(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.l_ptr[i], self.l_ptr[i + 1]
        return self.l_f[lo:hi], self.l_e[lo:hi]


def _ptr(keys: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(np.bincount(keys, minlength=n))]).astype(np.int64)


def member(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    if len(sorted_keys) == 0:
        return np.zeros(len(keys), dtype=bool)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return np.asarray(sorted_keys[pos] == keys, dtype=bool)


def prepare(
    endpoints: Endpoints,
    files: Files,
    rules: Sequence[Rule],
    locks: Locks,
    avail_keys: np.ndarray,
    present_keys: np.ndarray,
) -> Batch:
    """Members, kept-lock states, candidate masks and the rules needing no work or the fast path."""
    n_r, n_e, n_f = len(rules), len(endpoints.table), len(files.ids)
    for r in rules:
        if len(r.selection) != n_e or (r.allowed is not None and len(r.allowed) != n_e):
            raise ValueError(f"rule {r.id}: selection/allowed need {n_e} values (one per endpoint)")
    lens = np.array([len(r.file_ids) for r in rules], dtype=np.int64)
    ids = (
        np.concatenate([np.asarray(r.file_ids, dtype=np.int64) for r in rules])
        if n_r
        else np.zeros(0, np.int64)
    )
    keys = np.unique(np.repeat(np.arange(n_r), lens) * n_f + files.index(ids, "rules.file_ids"))
    m_rule, m_f = keys // max(n_f, 1), keys % max(n_f, 1)
    m_ptr = _ptr(m_rule, n_r)
    n_files = np.diff(m_ptr)

    pos = {r.id: i for i, r in enumerate(rules)}
    rid = np.array([pos.get(str(x), -1) for x in np.asarray(locks.rule_ids).tolist()], dtype=np.int64)
    keep = rid >= 0
    order = np.argsort(rid[keep], kind="stable")
    l_rule = rid[keep][order]
    l_f = files.index(np.asarray(locks.file_ids)[keep], "locks.file_ids")[order]
    l_e = endpoints.index(np.asarray(locks.endpoint_ids)[keep], "locks.endpoint_ids")[order]
    was = np.searchsorted(
        np.array(["ok", "replicating", "stuck"]), np.asarray(locks.states).astype(str)[keep]
    )[order]
    pair = l_f * n_e + l_e
    here_ok, here = member(avail_keys, pair), member(present_keys, pair)
    # ok when an available replica is there; an ok lock whose replica is gone or bad turns stuck
    l_state = np.where(here_ok, OK, np.where(was == OK, np.where(here, REPLICATING, STUCK), was))
    l_ptr = _ptr(l_rule, n_r)

    sel = np.stack([np.asarray(r.selection, dtype=bool) for r in rules]) if n_r else np.zeros((0, n_e), bool)
    allowed = np.ones_like(sel)
    for i, r in enumerate(rules):
        if r.allowed is not None:
            allowed[i] = np.asarray(r.allowed, dtype=bool)
    weights = np.ones(sel.shape)
    for attr in {r.weight for r in rules if r.weight}:
        rows = [i for i, r in enumerate(rules) if r.weight == attr]
        weights[rows] = weight_values(endpoints, attr)
    weighted = np.isfinite(weights) & (weights > 0)
    cand = sel & allowed & endpoints.available[None, :] & weighted

    copies = np.array([r.copies for r in rules], dtype=np.int64)
    grouped = np.array([r.grouping == "all" for r in rules], dtype=bool)
    in_rule = member(keys, l_rule * n_f + l_f)
    lock_eps = (
        np.bincount(np.unique(l_rule * n_e + l_e) // n_e, minlength=n_r)
        if len(l_rule)
        else np.zeros(n_r, int)
    )
    locks_in = np.bincount(l_rule[in_rule], minlength=n_r)
    member_locks = np.zeros(len(keys), dtype=np.int64)
    if in_rule.any():
        np.add.at(member_locks, np.searchsorted(keys, (l_rule * n_f + l_f)[in_rule]), 1)
    short_files = np.bincount(m_rule, weights=member_locks < copies[m_rule], minlength=n_r)
    satisfied = np.where(grouped, (lock_eps >= copies) & (locks_in == n_files * lock_eps), short_files == 0)
    satisfied |= n_files == 0
    shared = np.bincount(m_rule, weights=np.bincount(m_f, minlength=n_f)[m_f] > 1, minlength=n_r) > 0
    simple = (np.diff(l_ptr) == 0) & ~shared & (n_files > 0)
    return Batch(
        m_rule,
        m_f,
        m_ptr,
        l_rule,
        l_f,
        l_e,
        l_state,
        l_ptr,
        cand,
        weights,
        satisfied,
        grouped & simple,
        ~grouped & simple,
    )


@dataclass
class FastRanking:
    """For the fast rules (``rows``): total bytes, bytes to move per endpoint and candidates in order."""

    row_of: np.ndarray  # rule index → row (-1 if not fast)
    total: np.ndarray  # (n,) bytes of the rule's files
    move: np.ndarray  # (n, E) bytes to move to each endpoint
    order: np.ndarray  # (n, E) endpoints, best first; the first n_cand[row] are candidates
    n_cand: np.ndarray


def rank_fast(
    batch: Batch, files: Files, rep_ptr: np.ndarray, rep_e: np.ndarray, hashes: np.ndarray, n_e: int
) -> FastRanking:
    """Rank endpoints for every fast rule at once: fewest bytes to move, then the weighted draw."""
    rows = np.flatnonzero(batch.fast)
    row_of = np.full(len(batch.fast), -1, dtype=np.int64)
    row_of[rows] = np.arange(len(rows))
    sel = batch.fast[batch.m_rule]
    mr, mf = row_of[batch.m_rule[sel]], batch.m_f[sel]
    size = files.size_bytes[mf].astype(float)
    counts, idx = replica_positions(rep_ptr, mf)
    n = len(rows)
    present = np.bincount(
        np.repeat(mr, counts) * n_e + rep_e[idx], weights=np.repeat(size, counts), minlength=n * n_e
    )
    total = np.bincount(mr, weights=size, minlength=n)
    move = total[:, None] - present.reshape(n, n_e)
    rank = weighted_rank(0, "", hashes[rows], np.arange(n_e), batch.weights[rows], per_row_hash=True)
    cand = batch.cand[rows]
    key_move = np.where(cand, move, np.inf)
    order = np.lexsort((rank, key_move), axis=-1)
    return FastRanking(row_of, total, move, order, cand.sum(axis=1))


@dataclass
class NonePicks:
    """For the fast ``none`` rules: each file's best endpoints (picks of rule i: ``ptr[i]:ptr[i+1]``), with
    the file, whether bytes move and the size; ``short[i]``: some file of rule i lacks candidates."""

    ptr: np.ndarray
    f: np.ndarray
    e: np.ndarray
    move: np.ndarray
    size: np.ndarray
    short: np.ndarray


def pick_none(
    batch: Batch, files: Files, rep_ptr: np.ndarray, rep_e: np.ndarray, hashes: np.ndarray, copies: np.ndarray
) -> NonePicks:
    """Every fast ``none`` rule's files at once: endpoints holding the file first, then the weighted draw
    (the same draw as the exact path: hash of rule, file id and endpoint)."""
    n_r, n_e = batch.cand.shape
    sel = batch.fast_none[batch.m_rule]
    mr, mf = batch.m_rule[sel], batch.m_f[sel]
    n = len(mr)
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return NonePicks(np.zeros(n_r + 1, np.int64), z, z, z.astype(bool), z, np.zeros(n_r, bool))
    counts, idx = replica_positions(rep_ptr, mf)
    here = np.zeros((n, n_e), dtype=bool)
    here[np.repeat(np.arange(n), counts), rep_e[idx]] = True
    with np.errstate(over="ignore"):
        h = hashes[mr] ^ (files.ids[mf].astype(np.uint64) * _C_FILE)
    rank = weighted_rank(0, "", h, np.arange(n_e), batch.weights[mr], per_row_hash=True)
    key = np.where(batch.cand[mr], (~here).astype(float) + 0.5 * rank, np.inf)
    k = int(copies[mr].max())
    if k < n_e:
        top = np.argpartition(key, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(top, np.argsort(np.take_along_axis(key, top, axis=1), axis=1), axis=1)
    else:
        order = np.argsort(key, axis=1)
    k = order.shape[1]
    rows = np.repeat(np.arange(n), k)
    cols = order.ravel()
    valid = (np.tile(np.arange(k), n) < np.repeat(copies[mr], k)) & np.isfinite(key[rows, cols])
    rows, cols = rows[valid], cols[valid]
    got = np.bincount(rows, minlength=n)
    short = np.bincount(mr, weights=got < np.minimum(copies[mr], n_e + 1), minlength=n_r) > 0
    return NonePicks(
        _ptr(mr[rows], n_r), mf[rows], cols, ~here[rows, cols], files.size_bytes[mf[rows]], short
    )
