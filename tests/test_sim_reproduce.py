"""RLScheduler protocol: the sampled sequence starts and the published FCFS values."""

from __future__ import annotations

import pytest

from huanghe.sim.rlscheduler import (
    MECHANICS,
    PUBLISHED_BSLD,
    TRACES,
    legacy_gym_rng,
    load_trace,
    mean_bsld,
    policy_cells,
    sequence_starts,
)


def test_legacy_gym_rng_and_starts() -> None:
    # gym<0.22 seeding: RandomState seeded from sha512("1"); draws randint(1024, 8975) ten times
    assert sequence_starts() == [1981, 2756, 4299, 8850, 3316, 2714, 5228, 7762, 4022, 7085]
    a, b = legacy_gym_rng(5), legacy_gym_rng(5)
    assert a.randint(0, 10**9) == b.randint(0, 10**9)
    assert legacy_gym_rng(2).randint(0, 10**9) != legacy_gym_rng(1).randint(0, 10**9)


def test_policy_cells_cover_every_backfill() -> None:
    cells = policy_cells(["fcfs", "sjf"])
    assert [c[0] for c in cells] == [
        "fcfs", "fcfs-easy", "fcfs-conservative", "sjf", "sjf-easy", "sjf-conservative", "huanghe",
    ]  # fmt: skip


@pytest.mark.parametrize("key", ["lublin", "hpc2n"])
def test_fcfs_columns_match_the_published_values(key: str) -> None:
    if not TRACES[key].path.exists():
        pytest.skip("shared traces not available")
    spec, workload = load_trace(key)
    starts = sequence_starts()
    rules = MECHANICS["rlscheduler"]
    fcfs = mean_bsld(workload, spec.cores, "fcfs", starts, rules)
    easy = mean_bsld(workload, spec.cores, "fcfs-easy", starts, rules)
    assert fcfs == pytest.approx(PUBLISHED_BSLD[key][("fcfs", "none")], rel=1e-4)
    assert easy == pytest.approx(PUBLISHED_BSLD[key][("fcfs", "easy")], rel=0.10)
