"""The replication-rule solver (Rucio's rule × grouping × copies, quota and space, repairer checklist)."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest

from huanghe.data.expression import EndpointTable, parse
from huanghe.data.rule_inputs import Endpoints, Files, Locks, Quota, Replicas, Rule, Solution
from huanghe.data.rule_solver import repair, solve

GB = 10**9
RECORDS: list[dict[str, object]] = [
    {"id": "jn-hot", "city": "jinan", "circle": "jinan", "tier": "hot", "security_level": 3, "w": 1},
    {"id": "jn-cold", "city": "jinan", "circle": "jinan", "tier": "cold", "security_level": 3, "w": 1},
    {"id": "qd-hot", "city": "qingdao", "circle": "jiaodong", "tier": "hot", "security_level": 2, "w": 3},
    {"id": "qd-cold", "city": "qingdao", "circle": "jiaodong", "tier": "cold", "security_level": 2, "w": 3},
    {"id": "yt-cold", "city": "yantai", "circle": "jiaodong", "tier": "cold", "security_level": 1, "w": 0},
    {"id": "lc-warm", "city": "liaocheng", "circle": "west", "tier": "warm", "security_level": 2, "w": 1},
]
TABLE = EndpointTable.from_records(RECORDS)
IDS = [str(r["id"]) for r in RECORDS]


def endpoints(free: dict[str, int] | None = None, down: tuple[str, ...] = ()) -> Endpoints:
    room = np.array([(free or {}).get(i, 100 * GB) for i in IDS], dtype=np.int64)
    return Endpoints(TABLE, np.array([i not in down for i in IDS]), room)


def files(n: int, size: int = GB, first: int = 1) -> Files:
    return Files(np.arange(first, first + n), np.full(n, size))


def rule(rid: str, text: str, fids: np.ndarray, copies: int, **kw: object) -> Rule:
    return Rule(rid, fids, copies, parse(text, {"w"}).select(TABLE), text, **kw)  # type: ignore[arg-type]


def replicas(pairs: list[tuple[int, str]], state: str = "available") -> Replicas:
    return Replicas(
        np.array([f for f, _ in pairs]), np.array([e for _, e in pairs]), np.full(len(pairs), state)
    )


def placement(sol: Solution, rid: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    for f, e, _, _ in sol.outcome(rid).locks:
        out[f].add(e)
    return dict(out)


@pytest.mark.parametrize("grouping", ["all", "none"])
@pytest.mark.parametrize("copies", [1, 2, 3])
def test_rule_grouping_copies(grouping: str, copies: int) -> None:
    fs = files(12)
    sol = solve(endpoints(), fs, [rule("r", "tier=cold|tier=hot", fs.ids, copies, grouping=grouping)])
    where = placement(sol, "r")
    assert sorted(where) == fs.ids.tolist()
    allowed = {"jn-hot", "jn-cold", "qd-hot", "qd-cold", "yt-cold"}
    for eps in where.values():
        assert len(eps) == copies and eps <= allowed
    groups = {frozenset(e) for e in where.values()}
    if grouping == "all":
        assert len(groups) == 1  # every file on the same endpoints
    elif copies < 3:
        assert len(groups) > 1  # each file on its own: the weighted draw spreads them
    out = sol.outcome("r")
    assert out.state == "replicating" and len(out.transfers) == 12 * copies
    assert all(state == "replicating" and new for _, _, state, new in out.locks)


def test_prefers_endpoints_holding_the_data() -> None:
    fs = files(4)
    held = replicas([(1, "qd-cold"), (2, "qd-cold"), (3, "qd-cold"), (4, "qd-cold"), (1, "yt-cold")])
    sol = solve(endpoints(), fs, [rule("r", "tier=cold", fs.ids, 1)], held)
    out = sol.outcome("r")
    assert {e for _, e, _, _ in out.locks} == {"qd-cold"}
    assert out.transfers == [] and out.state == "ok" and out.reason == ""
    # two copies: the second is the endpoint with the most bytes already there (yt-cold holds one file)
    sol = solve(endpoints(), fs, [rule("r", "tier=cold", fs.ids, 2)], held)
    assert placement(sol, "r")[1] == {"qd-cold", "yt-cold"}
    assert sorted(sol.outcome("r").transfers) == [(2, "yt-cold"), (3, "yt-cold"), (4, "yt-cold")]
    # per-file grouping: each file stays where it is
    sol = solve(endpoints(), fs, [rule("r", "tier=cold", fs.ids, 1, grouping="none")], held)
    assert sol.outcome("r").transfers == []


def test_copying_replicas_and_earlier_rules_of_the_same_solve_move_nothing_twice() -> None:
    fs = files(3)
    sol = solve(
        endpoints(),
        fs,
        [rule("a", "jn-cold", fs.ids, 1), rule("b", "jn-cold|qd-cold", fs.ids, 1, grouping="none")],
        replicas([(1, "qd-cold")], "copying"),
    )
    assert len(sol.outcome("a").transfers) == 3
    assert sol.outcome("b").transfers == []  # b joins a's transfers (or the copying replica)
    assert all(state == "replicating" for _, _, state, _ in sol.outcome("b").locks)


def test_solving_twice_queues_nothing_new_and_locks_follow_the_replicas() -> None:
    fs = files(5)
    rules = [rule("a", "tier=cold", fs.ids, 2), rule("n", "*", fs.ids, 2, grouping="none")]
    first = solve(endpoints(), fs, rules, seed=4)
    assert len(first.transfer_rule) > 0
    again = solve(endpoints(), fs, rules, locks=first.locks(), seed=4)
    assert len(again.transfer_rule) == 0 and not again.lock_new.any()
    assert sorted(zip(again.lock_file_ids.tolist(), again.lock_endpoint_ids.tolist(), strict=True)) == sorted(
        zip(first.lock_file_ids.tolist(), first.lock_endpoint_ids.tolist(), strict=True)
    )
    # the transfers finished: every lock ok, rules ok
    done = Replicas(
        first.transfer_file_ids, first.transfer_endpoint_ids, np.full(len(first.transfer_rule), "available")
    )
    later = solve(endpoints(), fs, rules, done, first.locks())
    assert later.states == ["ok", "ok"] and set(later.lock_states.tolist()) == {"ok"}
    # one replica went bad: its ok lock turns stuck (the repairer's job), nothing is queued here
    states = np.array(done.states)
    states[0] = "bad"
    broken = solve(endpoints(), fs, rules, Replicas(done.file_ids, done.endpoint_ids, states), later.locks())
    assert "stuck" in broken.states and len(broken.transfer_rule) == 0
    assert "1 locks stuck" in broken.reasons[broken.states.index("stuck")]


def test_new_files_of_a_grouped_rule_join_its_endpoints() -> None:
    fs = files(3)
    locks = Locks(
        np.array(["r", "r"]), np.array([1, 2]), np.array(["lc-warm", "lc-warm"]), np.array(["ok", "ok"])
    )
    sol = solve(
        endpoints(), fs, [rule("r", "*", fs.ids, 1)], replicas([(1, "lc-warm"), (2, "lc-warm")]), locks
    )
    out = sol.outcome("r")
    assert out.transfers == [(3, "lc-warm")]
    assert (3, "lc-warm", "replicating", True) in out.locks and out.state == "replicating"
    # ... and are stuck, with the reason, when that endpoint is down
    sol = solve(
        endpoints(down=("lc-warm",)), fs, [rule("r", "*", fs.ids, 1)], replicas([(1, "lc-warm")]), locks
    )
    out = sol.outcome("r")
    assert out.transfers == [] and out.state == "stuck" and "cannot take new files" in out.reason


def test_free_space_is_respected_and_charged_across_rules() -> None:
    fs = files(4, size=10 * GB)
    room = {"jn-cold": 30 * GB, "qd-cold": 45 * GB, "yt-cold": 100 * GB}
    one = [rule("big", "tier=cold", fs.ids, 1)]
    assert placement(solve(endpoints(room), fs, one), "big")[1] == {"yt-cold"}  # only one fits 40 GB
    two = [rule("a", "tier=cold", fs.ids, 1, weight="w"), rule("b", "tier=cold", files(4, 10 * GB, 9).ids, 1)]
    fs2 = Files(np.concatenate([fs.ids, np.arange(9, 13)]), np.full(8, 10 * GB))
    sol = solve(endpoints(room), fs2, two)
    a, b = placement(sol, "a")[1], placement(sol, "b")[9]
    assert a == {"qd-cold"} and b == {"yt-cold"}  # w=0 bars yt-cold for a; qd-cold is then too full for b
    assert sol.free_bytes[IDS.index("qd-cold")] == 5 * GB


def test_per_file_grouping_packs_exactly_when_space_is_tight() -> None:
    fs = files(6, size=10 * GB)
    room = {"jn-cold": 20 * GB, "qd-cold": 20 * GB, "yt-cold": 20 * GB}
    sol = solve(endpoints(room), fs, [rule("r", "tier=cold", fs.ids, 1, grouping="none")])
    counts = Counter(e for _, e, _, _ in sol.outcome("r").locks)
    assert counts == {"jn-cold": 2, "qd-cold": 2, "yt-cold": 2} and sol.outcome("r").state == "replicating"
    sol = solve(
        endpoints(room), files(7, 10 * GB), [rule("r", "tier=cold", np.arange(1, 8), 1, grouping="none")]
    )
    out = sol.outcome("r")
    assert (
        out.state == "stuck"
        and out.shortfall == 1
        and "3 full" in out.reason
        and "1 of 7 files" in out.reason
    )


def test_quotas_per_endpoint_and_in_total_are_shared_by_a_tenants_rules() -> None:
    fs = files(2, size=10 * GB)
    quotas = {"t1": Quota(total_bytes=50 * GB, per_endpoint={"jn-cold": 0, "qd-cold": 25 * GB})}
    r1 = rule("r1", "tier=cold", fs.ids, 1, tenant="t1", weight="w")  # yt-cold has weight 0
    r2 = rule("r2", "tier=cold", fs.ids, 1, tenant="t1", weight="w")
    sol = solve(endpoints(), fs, [r1, r2], quotas=quotas)
    assert placement(sol, "r1")[1] == {"qd-cold"}
    out = sol.outcome("r2")  # qd-cold has 5 GB of quota left for 20 GB; jn-cold none
    assert out.state == "stuck" and "2 over quota" in out.reason and out.locks == []
    other = rule("r3", "tier=cold", fs.ids, 1, tenant="t2", weight="w")
    assert solve(endpoints(), fs, [r1, r2, other], quotas=quotas).outcome("r3").state == "replicating"
    total = {"t1": Quota(total_bytes=30 * GB)}
    sol = solve(endpoints(), fs, [rule("x", "tier=cold", fs.ids, 2, tenant="t1")], quotas=total)
    reason = sol.outcome("x").reason
    assert (
        sol.outcome("x").shortfall == 1
        and "2 copies needed, 1 qualify" in reason
        and "2 over quota" in reason
    )
    # the same through the sequential path (the rule shares its files with a later rule)
    later = rule("later", "lc-warm", fs.ids, 1)
    seq = solve(endpoints(), fs, [rule("x", "tier=cold", fs.ids, 2, tenant="t1"), later], quotas=total)
    assert seq.outcome("x").reason == reason


def test_residency_too_few_endpoints_and_the_reason() -> None:
    fs = files(2)
    jinan_only = np.array([r["city"] == "jinan" for r in RECORDS])
    sol = solve(
        endpoints(down=("qd-cold",)),
        fs,
        [rule("r", "circle=jinan&tier=cold|circle=jiaodong", fs.ids, 3, allowed=jinan_only)],
    )
    out = sol.outcome("r")
    assert out.state == "stuck" and out.shortfall == 2
    en = out.reason.split("; ", 1)[1]
    assert "expression 'circle=jinan&tier=cold|circle=jiaodong' matches 4, 3 copies needed, 1 qualify" in en
    assert "3 by residency" in en and "0 unavailable" in en
    assert "副本" in out.reason  # Chinese first
    assert placement(sol, "r")[1] == {"jn-cold"}  # what can be placed is placed
    sol = solve(
        endpoints(down=("qd-cold", "yt-cold")), fs, [rule("r", "circle=jiaodong", fs.ids, 3, grouping="none")]
    )
    assert "1 qualify" in sol.reasons[0] and "2 unavailable" in sol.reasons[0]
    empty = solve(endpoints(), fs, [rule("e", "city=weihai", fs.ids, 1)])
    assert "matches 0" in empty.reasons[0]


def test_weights_bias_the_choice_deterministically() -> None:
    fs = files(400, size=1)  # one file per rule (a rule would follow an earlier rule's copy of the same file)
    rules = [rule(f"r{i}", "tier=hot", fs.ids[i : i + 1], 1, weight="w") for i in range(400)]
    picks = Counter(solve(endpoints(), fs, rules, seed=1).lock_endpoint_ids.tolist())
    assert 2.0 < picks["qd-hot"] / picks["jn-hot"] < 4.5  # weights 3 : 1
    a = solve(endpoints(), fs, rules, seed=1)
    assert np.array_equal(a.lock_endpoint_ids, solve(endpoints(), fs, rules, seed=1).lock_endpoint_ids)
    assert not np.array_equal(a.lock_endpoint_ids, solve(endpoints(), fs, rules, seed=2).lock_endpoint_ids)
    zero = solve(endpoints(), fs, [rule("z", "yt-cold", fs.ids, 1, weight="w")])
    assert zero.states == ["stuck"] and "1 without a positive weight (w)" in zero.reasons[0]


def test_repair_retries_or_moves_stuck_locks() -> None:
    fs = files(2)
    r_all = rule("all", "tier=cold", fs.ids, 1)
    r_one = rule("one", "tier=cold", fs.ids, 1, grouping="none")
    stuck = Locks(
        np.array(["all", "all", "one", "one"]),
        np.array([1, 2, 1, 2]),
        np.array(["jn-cold", "jn-cold", "qd-cold", "yt-cold"]),
        np.array(["ok", "stuck", "stuck", "stuck"]),
    )
    have = replicas([(1, "jn-cold"), (1, "qd-cold"), (2, "qd-cold")])
    sol = repair(endpoints(down=("jn-cold", "yt-cold")), fs, [r_all, r_one], have, stuck)
    a = sol.outcome("all")  # jn-cold is down: the whole group moves to qd-cold, which holds both files
    assert sorted(a.released) == [(1, "jn-cold"), (2, "jn-cold")]
    assert {e for _, e, _, _ in a.locks} == {"qd-cold"} and a.transfers == [] and a.state == "ok"
    o = sol.outcome("one")  # file 1's stuck lock on qd-cold: replica there now → ok; file 2 leaves yt-cold
    assert o.released == [(2, "yt-cold")]
    assert (1, "qd-cold", "ok", False) in o.locks and (2, "qd-cold", "ok", True) in o.locks
    # the endpoint answers again: the stuck lock gets a new transfer instead
    sol = repair(endpoints(), fs, [r_all], replicas([(1, "jn-cold")]), stuck)
    assert sol.outcome("all").transfers == [(2, "jn-cold")] and sol.outcome("all").released == []
    assert sol.outcome("all").state == "replicating"


def test_inputs_are_checked() -> None:
    fs = files(2)
    with pytest.raises(ValueError, match="file_ids: unknown id 9"):
        solve(endpoints(), fs, [rule("r", "*", np.array([9]), 1)])
    with pytest.raises(ValueError, match=r"replicas\.endpoint_ids: unknown id 'nowhere'"):
        solve(endpoints(), fs, [rule("r", "*", fs.ids, 1)], replicas([(1, "nowhere")]))
    with pytest.raises(ValueError, match="copies must be >= 1"):
        rule("r", "*", fs.ids, 0)
    with pytest.raises(ValueError, match="grouping"):
        rule("r", "*", fs.ids, 1, grouping="dataset")
    with pytest.raises(ValueError, match="one per endpoint"):
        solve(endpoints(), fs, [Rule("r", fs.ids, 1, np.ones(2, bool))])


@pytest.mark.parametrize("grouping", ["all", "none"])
def test_batched_and_sequential_paths_draw_the_same(grouping: str) -> None:
    # alone, the rule takes the batched path; sharing its files with a later rule forces the sequential one
    fs = files(30)
    alone = solve(endpoints(), fs, [rule("r", "*", fs.ids, 2, grouping=grouping, weight="w")], seed=7)
    later = rule("later", "lc-warm", fs.ids, 1)
    shared = solve(endpoints(), fs, [rule("r", "*", fs.ids, 2, grouping=grouping, weight="w"), later], seed=7)
    assert placement(alone, "r") == placement(shared, "r")
    assert sorted(alone.outcome("r").transfers) == sorted(shared.outcome("r").transfers)


def test_batched_and_sequential_paths_agree_on_random_scenarios() -> None:
    rng = np.random.default_rng(5)
    texts = [
        "*",
        "tier=cold",
        "circle=jiaodong",
        "*\\tier=hot",
        "security_level>=2",
        "city=jinan|city=yantai",
    ]
    for trial in range(25):
        fs = Files(np.arange(1, 41), rng.integers(1, 10, 40) * GB)
        room = {i: int(rng.integers(10, 150)) * GB for i in IDS}
        down = tuple(i for i in IDS if rng.random() < 0.15)
        held = replicas([(int(f), IDS[int(rng.integers(0, 6))]) for f in fs.ids if rng.random() < 0.5])
        quotas = {"t": Quota(total_bytes=int(rng.integers(50, 1000)) * GB, per_endpoint={"qd-cold": 40 * GB})}
        rules = []
        for k in range(4):
            ids = fs.ids[k * 10 : (k + 1) * 10]
            rules.append(
                rule(
                    f"r{k}",
                    texts[int(rng.integers(0, len(texts)))],
                    ids,
                    int(rng.integers(1, 4)),
                    grouping=["all", "none"][int(rng.integers(0, 2))],
                    weight="w" if rng.random() < 0.5 else None,
                    tenant="t",
                    allowed=rng.random(6) < 0.8 if rng.random() < 0.3 else None,
                )
            )
        batched = solve(endpoints(room, down), fs, rules, held, quotas=quotas, seed=trial)
        # a last rule sharing every file sends the four through the sequential path; it comes last, so it
        # cannot change what they get
        last = Rule("last", fs.ids, 1, np.ones(6, bool), "*", tenant="other")
        seq = solve(endpoints(room, down), fs, [*rules, last], held, quotas=quotas, seed=trial)
        for r in rules:
            a, b = batched.outcome(r.id), seq.outcome(r.id)
            assert sorted(a.locks) == sorted(b.locks), (trial, r)
            assert sorted(a.transfers) == sorted(b.transfers) and a.reason == b.reason and a.state == b.state
