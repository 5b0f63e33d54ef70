"""Queue policies: registry, orders, backfill arithmetic, fair share, gangs, several pools."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from huanghe.broker.backfill import Profile, easy_shadow
from huanghe.broker.cluster_queue import ClusterQueue
from huanghe.broker.fairshare import DominantShares
from huanghe.broker.queue import (
    POLICY_LIST,
    Backfill,
    DuplicateQueuePolicyError,
    FcfsOrder,
    QueuePolicy,
    UnknownQueuePolicyError,
    build_registry,
    f1_score,
    get_policy,
    policy_names,
)
from huanghe.broker.queue_types import JobTable, PoolSpec
from huanghe.sim.simulation import ClusterSpec, Simulation, simulate
from huanghe.sim.workload import Workload

# (submit s, run s, estimate s, cores) of one job
JobRow = tuple[float, float, float, int]


def wl(jobs: Sequence[JobRow], **extra: list[int]) -> Workload:
    s, r, e, p = zip(*jobs, strict=True)
    return Workload.from_columns(submit_s=s, run_s=r, estimate_s=e, procs=p, **extra)  # type: ignore[arg-type]


def test_registry_has_every_pattern() -> None:
    names = set(policy_names())
    for order in ("fcfs", "sjf", "priority", "f1", "wfp3", "unicep", "drf"):
        assert {order, f"{order}-easy", f"{order}-conservative"} <= names
    assert "huanghe" in names
    assert get_policy("fcfs-easy").backfill is Backfill.EASY
    assert get_policy("sjf-conservative").backfill is Backfill.CONSERVATIVE
    assert get_policy("wfp3").backfill is Backfill.NONE


def test_duplicate_policy_name_is_an_error() -> None:
    with pytest.raises(DuplicateQueuePolicyError, match="fcfs"):
        build_registry([*POLICY_LIST, QueuePolicy("fcfs", FcfsOrder(), Backfill.NONE)])


def test_unknown_policy_names_the_known_ones() -> None:
    with pytest.raises(UnknownQueuePolicyError, match="fcfs-easy"):
        get_policy("nope")


def test_f1_formula() -> None:
    # log10(r)·n + 870·log10(s); r, s ≤ 0 count as 0.1
    got = f1_score(np.array([100.0, 0.0]), np.array([4.0, 2.0]), np.array([1000.0, 0.0]))
    assert got.tolist() == pytest.approx([2 * 4 + 870 * 3, -1 * 2 + 870 * -1])


# one core busy until t=100 by a blocker, so that the queue builds up and the order shows
def _queue_order(policy: str, jobs: Sequence[JobRow], **extra: list[int]) -> list[int]:
    r = simulate(wl([(0, 100, 100, 2), *jobs], **extra), 2, policy)
    order = np.argsort(r.start_s[1:], kind="stable")
    return order.tolist()


def test_sjf_orders_by_estimate() -> None:
    jobs = [(1, 50, 50, 2), (2, 5, 5, 2), (3, 20, 20, 2)]
    assert _queue_order("fcfs", jobs) == [0, 1, 2]
    assert _queue_order("sjf", jobs) == [1, 2, 0]


def test_priority_order() -> None:
    jobs = [(1, 5, 5, 2), (2, 5, 5, 2), (3, 5, 5, 2)]
    assert _queue_order("priority", jobs, priority=[0, 1, 5, 3]) == [1, 2, 0]


def test_wfp3_prefers_long_waits_relative_to_request() -> None:
    # at t=100: job A waited 99 s for a 1000 s request, job B waited 50 s for a 10 s request
    jobs = [(1, 1000, 1000, 2), (50, 10, 10, 2)]
    assert _queue_order("wfp3", jobs) == [1, 0]
    assert _queue_order("fcfs", jobs) == [0, 1]


def test_unicep_prefers_small_short_waiting_jobs() -> None:
    assert _queue_order("unicep", [(1, 1000, 1000, 2), (2, 10, 10, 2)]) == [1, 0]


def test_drf_serves_the_user_with_the_smaller_share_first() -> None:
    # user 1 holds the whole machine until t=100; then user 1's and user 2's jobs compete
    jobs = [(0, 100, 100, 4), (1, 10, 10, 2), (2, 10, 10, 2), (3, 10, 10, 2)]
    users = [1, 1, 1, 2]
    fcfs = simulate(wl(jobs, user=users), 4, "fcfs").start_s.tolist()
    drf = simulate(wl(jobs, user=users), 4, "drf").start_s.tolist()
    assert fcfs == [0, 100, 100, 110]
    # at t=100 user 1's first job starts (share 0.5); then user 2 (share 0) beats user 1's second job
    assert drf == [0, 100, 110, 100]


def test_drf_between_tenants() -> None:
    # same jobs; users all differ but tenants are 1,1,1,2: by tenant, tenant 2 goes before tenant 1's 2nd job
    jobs = [(0, 100, 100, 4), (1, 10, 10, 2), (2, 10, 10, 2), (3, 10, 10, 2)]
    w = wl(jobs, user=[1, 2, 3, 4], tenant=[1, 1, 1, 2])
    assert simulate(w, 4, "drf", fair_share_by="tenant").start_s.tolist() == [0, 100, 110, 100]
    assert simulate(w, 4, "drf", fair_share_by="user").start_s.tolist() == [0, 100, 100, 110]
    with pytest.raises(ValueError, match="fair_share_by"):
        simulate(w, 4, "drf", fair_share_by="group")


def test_dominant_shares() -> None:
    d = DominantShares([100.0, 10.0])
    d.add(7, (10.0, 5.0))
    assert d.share(7) == pytest.approx(0.5)
    d.remove(7, (10.0, 5.0))
    assert d.share(7) == 0.0 and d.shares == {}


def test_gang_starts_all_nodes_together() -> None:
    # 4 nodes of 2 cores; job 1 needs 5 cores = 3 nodes and waits until 3 are free, never partly
    cluster = ClusterSpec("c", (PoolSpec("p", 4, 2),))
    r = simulate(wl([(0, 10, 10, 4), (0, 20, 20, 2), (1, 5, 5, 5)]), cluster, "fcfs")
    assert r.nodes.tolist() == [2, 1, 3]
    assert r.start_s.tolist() == [0, 0, 10]


def test_job_larger_than_any_pool_is_counted_not_silently_dropped() -> None:
    sim = Simulation(wl([(0, 5, 5, 2), (1, 5, 5, 9)]), [ClusterSpec.single(4)], [get_policy("fcfs")])
    r = sim.run()
    assert len(r.workload) == 1
    assert sum(r.rejected.values()) == 1


def test_two_pools_first_fit_and_reservation() -> None:
    cluster = ClusterSpec("c", (PoolSpec("small", 2), PoolSpec("big", 4)))
    # job 0 fills 'small'; job 1 (3 cores) only fits 'big'; job 2 goes to 'big' as 'small' is full
    r = simulate(wl([(0, 10, 10, 2), (0, 10, 10, 3), (0, 10, 10, 1), (1, 5, 5, 2)]), cluster, "fcfs-easy")
    assert r.pool_names() == ["small", "big", "big", "small"]
    assert r.start_s.tolist() == [0, 0, 0, 10]


def test_router_spreads_jobs_over_clusters() -> None:
    w = wl([(0, 10, 10, 4), (0, 10, 10, 4), (0, 10, 10, 4)])
    c = [ClusterSpec.single(4, name="a"), ClusterSpec.single(4, name="b")]
    pol = get_policy("fcfs")
    r = Simulation(w, c, [pol, pol], router=lambda j, now: j % 2).run()
    assert r.cluster.tolist() == [0, 1, 0]
    assert r.start_s.tolist() == [0, 0, 10]


def test_easy_shadow_and_extra() -> None:
    nodes_of = [0, 2, 3]
    running = [(10.0, 1), (20.0, 2)]
    assert easy_shadow(3, 1, running, nodes_of) == (10.0, 0)
    assert easy_shadow(4, 1, running, nodes_of) == (20.0, 2)
    shadow, extra = easy_shadow(1, 1, running, nodes_of)
    assert shadow == -math.inf and extra == 0


def test_profile_earliest_and_reserve() -> None:
    prof = Profile(0.0, 1, [(10.0, 2), (20.0, 1)])  # 1 free now, 3 at 10, 4 at 20
    assert prof.earliest(1, 100.0) == 0
    k = prof.earliest(3, 5.0)
    assert prof.times[k] == 10.0
    prof.reserve(k, 3, 5.0)
    assert list(zip(prof.times, prof.free, strict=True)) == [(0.0, 1), (10.0, 0), (15.0, 3), (20.0, 4)]
    # a 1-node job of 12 s cannot start at 0 (no node during [10,15)) → at 15
    assert prof.times[prof.earliest(1, 12.0)] == 15.0


def test_huanghe_starvation_bound_puts_old_jobs_first() -> None:
    order = get_policy("huanghe").order
    jobs = JobTable(
        submit_s=[0.0, 100.0], estimate_s=[10_000.0, 10.0], procs=[1, 64], owner=[0, 0], priority=[0, 0]
    )
    key_at = order.make_key(jobs)
    day = 86400.0
    assert sorted([0, 1], key=key_at(200.0, {})) == [1, 0]  # the short wide job first
    assert sorted([0, 1], key=key_at(15 * day, {})) == [0, 1]  # both past the bound: oldest first


def test_cluster_queue_live_use_without_simulator() -> None:
    """The same engine driven by hand, as the live service does with its own clock."""
    jobs = JobTable(submit_s=[0.0, 1.0], estimate_s=[10.0, 10.0], procs=[2, 2], owner=[0, 0], priority=[0, 0])
    q = ClusterQueue([PoolSpec("p", 2)], jobs, get_policy("fcfs-easy"))
    q.submit(0, 0.0)
    assert q.schedule(0.0) == [(0, 0)]
    q.submit(1, 1.0)
    assert q.schedule(1.0) == [] and q.queue_length == 1
    q.finish(0, 9.0)
    assert q.schedule(9.0) == [(1, 0)]
    assert q.waiting() == [] and q.running_count == 1
