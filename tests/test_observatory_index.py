"""The comprehensive compute index: normalisation, weights, scores, ranks, sensitivity (hand-worked)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from huanghe.observatory import index as ix
from tests.observatory_testnet import small_network

N = len(ix.INDICATORS)


def _table(rows: list[list[float]], years: list[int] | None = None) -> ix.IndicatorTable:
    ents = [ix.Entity(f"e{k}", "city", f"实体{k}", f"E{k}") for k in range(len(rows))]
    return ix.IndicatorTable(ents, years or [2024] * len(rows), np.array(rows, dtype=float))


def test_minmax_inverts_lower_is_better_and_neutralises() -> None:
    x = np.array([[1.0, 10.0, 5.0, math.nan], [3.0, 20.0, 5.0, 1.0], [2.0, 30.0, 5.0, 3.0]])
    out = ix.normalise(x, [True, False, True, True], "minmax")
    np.testing.assert_allclose(out[:, 0], [0.0, 1.0, 0.5])
    np.testing.assert_allclose(out[:, 1], [1.0, 0.5, 0.0])  # lower is better
    np.testing.assert_allclose(out[:, 2], [0.5, 0.5, 0.5])  # constant → neutral
    np.testing.assert_allclose(out[:, 3], [0.5, 0.0, 1.0])  # NaN → neutral


def test_zscore() -> None:
    out = ix.normalise(np.array([[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]), [True, False], "zscore")
    z = 1 / math.sqrt(2 / 3)
    np.testing.assert_allclose(out[:, 0], [-z, 0.0, z])
    np.testing.assert_allclose(out[:, 1], [z, 0.0, -z])
    with pytest.raises(ix.IndexInputError, match="norm"):
        ix.normalise(out, [True, True], "rank")


def test_entropy_weights_follow_dispersion() -> None:
    rows = [[0.0] * N for _ in range(3)]
    eflops, storage = ix.INDICATOR_KEYS.index("total_eflops"), ix.INDICATOR_KEYS.index("storage_eb")
    for k, v in enumerate([0.0, 1.0, 2.0]):
        rows[k][eflops] = v  # total_eflops varies, all else constant
    w = ix.entropy_weights(np.array(rows))
    assert w.dimensions["compute"] == pytest.approx(1.0, abs=1e-6)
    assert w.indicators["total_eflops"] == pytest.approx(1.0)
    for k, v in enumerate([0.0, 1.0, 2.0]):
        rows[k][storage] = v  # storage_eb varies the same way
    w2 = ix.entropy_weights(np.array(rows))
    assert w2.dimensions["compute"] == pytest.approx(0.5)
    assert w2.dimensions["storage"] == pytest.approx(0.5)
    assert ix.entropy_weights(np.array([rows[0]])).source == "equal fallback"  # one row


def test_ahp() -> None:
    w, cr = ix.ahp_weights(np.array([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]]))
    np.testing.assert_allclose(w, [4 / 7, 2 / 7, 1 / 7])
    assert cr == pytest.approx(0.0, abs=1e-9)
    _, cr_bad = ix.ahp_weights(np.array([[1, 9, 1 / 9], [1 / 9, 1, 9], [9, 1 / 9, 1]]))
    assert cr_bad > 0.1


def test_expert_file(tmp_path: Path) -> None:
    w = ix.expert_weights()
    assert sum(w.dimensions.values()) == pytest.approx(1.0)
    # method 2.0: five dimensions (the application dimension is new), compute twice each other → 1/3
    # (was 0.4 with four dimensions)
    assert w.dimensions["compute"] == pytest.approx(1 / 3)
    assert w.dimensions["application"] == pytest.approx(1 / 6)
    assert w.consistency_ratio is not None and w.consistency_ratio < 0.1
    assert w.indicators["utilisation"] > 0 and w.indicators["offsite_backup_share"] > 0
    dims = "dimensions: [compute, storage, network, environment, application]\n"
    bad = tmp_path / "w.yaml"
    bad.write_text(
        dims + "pairwise: [[1, 9, 1/9, 1, 1], [1/9, 1, 9, 1, 1], [9, 1/9, 1, 1, 1], [1, 1, 1, 1, 1],"
        " [1, 1, 1, 1, 1]]\n"
    )
    with pytest.raises(ix.IndexInputError, match="consistency ratio"):
        ix.expert_weights(bad)
    bad.write_text("dimensions: [compute, storage, network, environment]\npairwise: [[1]]\n")
    with pytest.raises(ix.IndexInputError, match="dimensions"):  # a four-dimension (method 1.0) file
        ix.expert_weights(bad)
    bad.write_text(dims + "pairwise: [[1, 2], [1/2, 1]]\n")
    with pytest.raises(ix.IndexInputError, match="pairwise"):
        ix.expert_weights(bad)


def test_scores_minmax_and_zscore() -> None:
    hi_better = [1.0 if i.higher_is_better else 0.0 for i in ix.INDICATORS]
    lo_worse = [0.0 if i.higher_is_better else 1.0 for i in ix.INDICATORS]
    res = ix.score_table(_table([hi_better, lo_worse]), ix.equal_weights(), "minmax")
    assert [r.score for r in res.rows] == pytest.approx([100.0, 0.0])
    assert [r.rank for r in res.rows] == [1, 2]
    assert res.rows[0].dimensions == pytest.approx(dict.fromkeys(ix.DIMENSIONS, 100.0))
    resz = ix.score_table(_table([hi_better, lo_worse]), ix.equal_weights(), "zscore")
    assert [r.score for r in resz.rows] == pytest.approx([60.0, 40.0])


def test_ranks_ties_and_years() -> None:
    np.testing.assert_array_equal(ix.ranks_of(np.array([5.0, 7.0, 5.0, 1.0])), [2, 1, 2, 4])
    rows = [[float(k)] * N for k in (1, 2, 3, 4)]
    res = ix.score_table(_table(rows, [2023, 2023, 2024, 2024]), ix.equal_weights(), "minmax")
    assert [r.entity for r in res.year(2024)] == ["e3", "e2"]  # ranked within the year
    assert [r.rank for r in res.year(2023)] == [1, 2]


def test_index_on_small_network() -> None:
    topo = small_network()
    inputs = ix.yearly_inputs(topo, [2011, 2016, 2024])
    cities = ix.compute_index(inputs, ix.entities_of(topo, "city"))
    top = cities.year(2024)
    assert {r.entity for r in top[:2]} == {"jinan", "qingdao"}
    assert top[-1].entity == "linyi"
    in_2011 = {r.entity: r for r in cities.year(2011)}
    assert in_2011["jinan"].rank == 1 and in_2011["qingdao"].indicators["total_eflops"] == 0.0
    prov = ix.compute_index(inputs, ix.entities_of(topo, "province"), "entropy", "minmax")
    series = [prov.year(y)[0] for y in (2011, 2016, 2024)]
    compute = [r.dimensions["compute"] for r in series]
    assert compute[0] < compute[1] < compute[2]  # the network grows
    assert series[2].score == max(r.score for r in series) and series[2].rank == 1
    public = top[0].public()
    assert set(public) >= {"entity", "level", "score", "rank", "dimensions"}
    dimensions = public["dimensions"]
    assert isinstance(dimensions, dict) and set(dimensions) == set(ix.DIMENSIONS)
    with pytest.raises(ix.IndexInputError, match="level"):
        ix.entities_of(topo, "county")
    with pytest.raises(ix.IndexInputError, match="weights"):
        ix.compute_index(inputs, ix.entities_of(topo, "city"), "magic")


def test_sensitivity() -> None:
    topo = small_network()
    res = ix.compute_index(ix.yearly_inputs(topo, [2024]), ix.entities_of(topo, "city"), "expert")
    still = ix.one_at_a_time(res, 2024, delta=0.0)
    assert still.tau_min == pytest.approx(1.0)
    assert all(r.min_rank == r.max_rank == r.base_rank for r in still.ranges)
    oat = ix.one_at_a_time(res, 2024, delta=0.2)
    assert oat.samples == 10  # 5 dimensions × (+δ, −δ) (8 with the four dimensions of method 1.0)
    mc = ix.monte_carlo(res, 2024, samples=300, concentration=5.0, seed=7)
    assert mc == ix.monte_carlo(res, 2024, samples=300, concentration=5.0, seed=7)  # seeded
    assert all(r.min_rank <= r.base_rank <= r.max_rank for r in mc.ranges)
    assert mc.tau_min < 1.0  # loose weights move the close pair jinan/qingdao
    assert -1.0 <= mc.tau_min <= mc.tau_mean <= 1.0
    with pytest.raises(ix.IndexInputError, match="year"):
        ix.monte_carlo(res, 1999)
