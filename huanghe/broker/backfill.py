"""Backfill arithmetic on one pool: the EASY shadow time and the conservative availability profile.

Running jobs are given as a list of ``(estimated_end_s, job)`` sorted by estimated end, with the nodes of
each job in ``nodes_of[job]``. A running job past its estimate (``estimated_end_s <= now``) is still
running: its nodes are not free now, they are expected "right after now".
"""

from __future__ import annotations

from collections.abc import Sequence

JUST_AFTER_S = 1e-6
"""Where a profile puts the release of a job already past its estimate: just after ``now``."""


def easy_shadow(
    need: int, free: int, running: Sequence[tuple[float, int]], nodes_of: Sequence[int]
) -> tuple[float, int]:
    """EASY reservation for a head job needing ``need`` nodes when ``free`` are free now.

    Returns ``(shadow_s, extra_nodes)``: the estimated end of the running job whose release lets the head
    start (``-inf`` if it fits now; the caller clamps to now), and the nodes still free at that time
    beyond the head's need (jobs on them may run past the shadow time). ``need`` must not exceed the pool.
    """
    avail = free
    shadow = float("-inf")
    if avail < need:
        for end_s, job in running:
            avail += nodes_of[job]
            shadow = end_s
            if avail >= need:
                break
    return shadow, avail - need


class Profile:
    """Free nodes of one pool as a step function of time from ``now``: ``free[k]`` during
    ``[times[k], times[k+1])``; the last step lasts forever. Reservations subtract from it.
    """

    __slots__ = ("free", "times")

    def __init__(self, now: float, free_now: int, releases: Sequence[tuple[float, int]]) -> None:
        """``releases``: ``(estimated_end_s, nodes)`` of running jobs, sorted by time."""
        times = [now]
        free = [free_now]
        cur = free_now
        floor = now + JUST_AFTER_S
        for end_s, nodes in releases:
            t = end_s if end_s > floor else floor
            cur += nodes
            if t == times[-1]:
                free[-1] = cur
            else:
                times.append(t)
                free.append(cur)
        self.times = times
        self.free = free

    def earliest(self, need: int, duration_s: float) -> int:
        """Index of the earliest step where ``need`` nodes stay free for ``duration_s``."""
        times, free = self.times, self.free
        m = len(times)
        k = 0
        while k < m:
            if free[k] < need:
                k += 1
                continue
            end = times[k] + duration_s
            i = k + 1
            while i < m and times[i] < end:
                if free[i] < need:
                    break
                i += 1
            else:
                return k
            k = i + 1
        raise ValueError(f"{need} nodes never free: job larger than the pool")

    def reserve(self, k: int, need: int, duration_s: float) -> None:
        """Take ``need`` nodes from step ``k``'s start for ``duration_s`` seconds."""
        times, free = self.times, self.free
        end = times[k] + max(duration_s, JUST_AFTER_S)
        i = k
        m = len(times)
        while i < m and times[i] < end:
            free[i] -= need
            i += 1
        if i == m or times[i] != end:
            # split: the step before ``end`` continues at its old level after the reservation
            times.insert(i, end)
            free.insert(i, free[i - 1] + need)
