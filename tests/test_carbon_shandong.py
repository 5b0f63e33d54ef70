"""The Shandong grid's hourly carbon signal (issue 14, deliverable 2): the model against its published inputs,
its shape, and that it is the default for Shandong's centers in the simulator and in the live dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from huanghe.broker.carbon import CarbonSignal, beijing_year_origin
from huanghe.broker.snapshot import NetworkSnapshot
from huanghe.catalog.shandong_grid import (
    GRID_YEARS,
    HOURS,
    hourly_intensity,
    hourly_mix,
    in_shandong,
    shandong_shape,
    yearly_factor,
)
from huanghe.catalog.topology import load_topology
from huanghe.core.clock import FakeClock

HOUR_OF_DAY = np.arange(HOURS) % 24
DAY = np.arange(HOURS) // 24


def test_2023_reproduces_the_published_figures() -> None:
    mix = hourly_mix(2023)
    t = mix.totals_twh()
    assert t["generation"] == pytest.approx(115.0 / 0.226, rel=1e-6)
    # wind + PV 115 TWh = 22.6 % of generation (State Grid Shandong), less a little curtailment
    assert t["pv"] + t["wind"] + t["curtailed"] == pytest.approx(115.0, rel=1e-6)
    assert (t["pv"] + t["wind"]) / t["generation"] == pytest.approx(0.226, abs=0.005)
    assert t["curtailed"] / 115.0 < 0.02  # 2024 reported utilisation: wind 96.4 %, PV 98.5 %
    # the MEE North China factor is the generation-weighted mean (emissions / electricity)
    assert yearly_factor(2023) == pytest.approx(0.6361, rel=1e-9)
    # the implied thermal factor is a coal fleet's (a check on the mix, not an input)
    assert 0.8 < mix.ef_thermal_kg_per_kwh < 0.95


def test_hourly_shape_follows_sun_wind_and_season() -> None:
    ci = hourly_intensity(2023)
    assert ci.shape == (HOURS,) and np.isfinite(ci).all() and not ci.flags.writeable
    assert 0.15 < ci.min() < ci.max() < 0.9
    noon = ci[(HOUR_OF_DAY >= 11) & (HOUR_OF_DAY <= 13)].mean()
    night = ci[HOUR_OF_DAY <= 4].mean()
    assert noon < 0.75 * night  # solar: the midday dip
    summer_noon = ci[(HOUR_OF_DAY == 12) & (DAY >= 152) & (DAY < 244)].mean()
    winter_noon = ci[(HOUR_OF_DAY == 12) & ((DAY < 59) | (DAY >= 334))].mean()
    assert summer_noon < winter_noon
    # wind makes nights differ from one another (not a fixed daily curve)
    nights = ci[HOUR_OF_DAY == 2]
    assert nights.std() > 0.02
    # deterministic
    assert np.array_equal(hourly_mix.__wrapped__(2023).intensity_kg_per_kwh, ci)


def test_solar_growth_lowers_the_midday_intensity() -> None:
    noon = {y: hourly_intensity(y)[HOUR_OF_DAY == 12].mean() for y in GRID_YEARS}
    assert noon[2023] > noon[2024] > noon[2025]
    assert yearly_factor(2023) > yearly_factor(2024) > yearly_factor(2025)
    assert GRID_YEARS[2024].ef_kg_per_kwh is None  # not published: follows the mix
    assert hourly_mix(2030).year == 2025  # later years use the last modelled one


def test_shape_and_signal_for_shandong_centers() -> None:
    shape = shandong_shape(2023)
    gen = hourly_mix(2023).generation
    assert float((shape * gen).sum() / gen.sum()) == pytest.approx(1.0)
    sig = CarbonSignal.build([0.6361, 0.6361], [0.0, 0.5])
    assert sig.source.startswith("shandong:2023")
    assert np.allclose(sig.hourly_kg_per_kwh[0], hourly_intensity(2023))
    assert np.allclose(sig.hourly_kg_per_kwh[1], 0.5 * hourly_intensity(2023))  # renewable share counts zero


def test_centers_outside_shandong_keep_another_shape() -> None:
    inside = in_shandong([117.0, 120.33, 100.0], [36.65, 36.07, 30.0])
    assert inside.tolist() == [True, True, False]
    sig = CarbonSignal.build([0.6361, 0.6361], [0.0, 0.0], in_province=[True, False])
    assert "outside Shandong" in sig.source
    assert not np.allclose(sig.hourly_kg_per_kwh[1], hourly_intensity(2023))
    with pytest.raises(ValueError, match="in_province"):
        CarbonSignal.build([0.6], [0.0], in_province=[True, False])
    with pytest.raises(ValueError, match="unknown carbon shape"):
        CarbonSignal.build([0.6], [0.0], shape="borrowed")


def test_simulator_default_is_the_shandong_signal() -> None:
    topo = load_topology("shandong-mini")
    snap = NetworkSnapshot.from_topology(topo, FakeClock(0.0))
    assert snap.carbon.source.startswith("shandong:2023") and "outside" not in snap.carbon.source
    i = snap.center_ids.index("nsc-jinan")
    renew = topo.center("nsc-jinan").energy.renewable_share
    expected = 0.6361 * (1 - renew) * hourly_intensity(2023)[12] / yearly_factor(2023)
    assert snap.carbon.intensity_kg_per_kwh(i, 12 * 3600.0 + 5) == pytest.approx(expected)


def test_live_signal_is_on_the_beijing_calendar() -> None:
    noon_0601 = datetime(2025, 6, 1, 4, 0, tzinfo=UTC).timestamp()  # 12:00 Beijing time
    year, origin = beijing_year_origin(noon_0601)
    assert year == 2025 and origin == datetime(2024, 12, 31, 16, 0, tzinfo=UTC).timestamp()
    assert beijing_year_origin(datetime(2025, 12, 31, 16, 30, tzinfo=UTC).timestamp())[0] == 2026
    topo = load_topology("shandong-mini")
    snap = NetworkSnapshot.from_topology(topo, FakeClock(noon_0601), carbon_year=year, carbon_origin_s=origin)
    i = snap.center_ids.index("nsc-jinan")
    hour_of_year = (31 + 28 + 31 + 30 + 31) * 24 + 12
    renew = topo.center("nsc-jinan").energy.renewable_share
    expected = 0.6361 * (1 - renew) * shandong_shape(2025)[hour_of_year]
    assert snap.carbon.intensity_kg_per_kwh(i, noon_0601) == pytest.approx(expected)
    # an hour later is the next hour of the year, and the mean over the hour is that hour's value
    got = snap.carbon.mean_intensity_kg_per_kwh(i, noon_0601, noon_0601 + 3600.0)
    assert got == pytest.approx(expected)
