"""An hourly carbon-intensity signal for the Shandong grid, built from its published generation mix.

Method (docs/carbon-shandong.md has the sources and the limits):

1. **Yearly inputs** (:data:`GRID_YEARS`): in-province generation, wind + solar generation, wind and PV
   capacity (State Grid Shandong, Shandong Energy Bureau), nuclear and hydro shares (NBS), and the yearly
   location-based emission factor (MEE, North China grid; Shandong's own factor is not published).
2. **Hourly shapes** for the 8,760 hours of the year, Beijing time: PV from the sun's elevation over the
   province (36.4° N, 118.5° E) times a daily clearness drawn from a seeded generator; wind from a spring-high
   season, an afternoon-high day and a two-day persistent random weather term; generation (= load) with a
   summer and winter peak and a day-time peak. Wind and PV are scaled to their yearly energy
   (capacity × assumed full-load hours, then to the reported wind + solar total where there is one).
3. **Dispatch**: nuclear and hydro run flat; thermal (coal-dominated) fills the rest but never falls below
   :data:`MUST_RUN_THERMAL` of the hour's generation (combined heat and power, grid security): wind and PV above
   that are curtailed.
4. **Intensity** of hour ``h`` = ``EF_thermal × thermal(h) / generation(h)`` kg CO2/kWh, where ``EF_thermal``
   is chosen so the generation-weighted yearly mean equals the yearly factor (emissions / electricity, as the
   MEE factor is defined). ``EF_thermal`` itself comes out near a coal plant's (~0.8–0.9 kg/kWh), a check.
   Years without a published factor (2024, 2025) keep the last ``EF_thermal``: their mean follows the mix.

Everything is deterministic per year. Units: GW, TWh, kg CO2 per kWh (= t/MWh), hours of the year.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

HOURS = 8760
FloatArray = npt.NDArray[np.float64]
#: Where the sun is taken from: a point near the province's centre (degrees).
LAT_DEG, LON_DEG = 36.4, 118.5
#: Share of each hour's generation that thermal plants keep running (**assumption**: CHP and grid security).
MUST_RUN_THERMAL = 0.25
#: Full-load hours used to split wind + solar energy between them (**assumption**, typical of Shandong).
WIND_FULL_LOAD_H, PV_FULL_LOAD_H = 2200.0, 1230.0
#: Bounding box of Shandong (degrees lon/lat): centers inside get this signal by default.
SHANDONG_BBOX = (114.8, 34.3, 122.8, 38.5)


@dataclass(frozen=True)
class GridYear:
    """Yearly inputs of the model. ``*_gw``: mean installed capacity over the year; ``*_twh``: energy;
    ``wind_solar_twh`` None where no figure was published (then capacity × full-load hours);
    ``ef_kg_per_kwh`` None where no factor was published (then the thermal fleet keeps the factor implied in
    the last published year and the yearly factor follows from the mix)."""

    year: int
    ef_kg_per_kwh: float | None
    generation_twh: float
    wind_solar_twh: float | None
    pv_gw: float
    wind_gw: float
    nuclear_share: float
    hydro_share: float
    basis: str


GRID_YEARS: dict[int, GridYear] = {
    2023: GridYear(
        2023, 0.6361, 115.0 / 0.226, 115.0, (42.7 + 56.377) / 2, (22.8 + 25.911) / 2, 0.031, 0.007,
        "EF: MEE North China grid 2023. Wind+PV 115 TWh = 22.6 % of generation, end-2023 PV 56.377 GW and wind "
        "25.911 GW, +16.821 GW in 2023 (State Grid Shandong, Xinhua 2024-01-04); end-2022 split of the 65.467 GW "
        "assumed 42.7 PV / 22.8 wind. Nuclear 3.1 %, hydro 0.7 % (NBS Jan-May 2023).",
    ),
    2024: GridYear(
        2024, None, 115.0 / 0.226 * 1.02, None, (56.377 + 73.5) / 2, (25.911 + 26.5) / 2, 0.031, 0.007,
        "EF: none published; the 2023 thermal factor applied to this mix. Wind+PV above 100 GW at end-2024 (State Grid Shandong, "
        "Xinhua 2025-01-09), split assumed 73.5 PV / 26.5 wind; generation assumed +2 %.",
    ),
    2025: GridYear(
        2025, None, 115.0 / 0.226 * 1.04, None, 85.14, 26.69, 0.031, 0.007,
        "EF: none published; the 2023 thermal factor applied to this mix. PV 85.14 GW, wind 26.69 GW in May 2025 (Shandong Energy Bureau briefing, "
        "2025-05-15) taken as the year's mean; generation assumed +4 % on 2023.",
    ),
}  # fmt: skip


def grid_year(year: int) -> GridYear:
    """The inputs of ``year``, clamped to the modelled years (2023–2025)."""
    return GRID_YEARS[min(max(year, min(GRID_YEARS)), max(GRID_YEARS))]


def _hours() -> tuple[FloatArray, FloatArray]:
    h = np.arange(HOURS, dtype=np.float64)
    return h // 24, h % 24  # day of year (0 = 1 January), hour of day (Beijing time)


def solar_shape(year: int) -> FloatArray:
    """PV output per GW installed, unscaled: clear-sky elevation × daily clearness (seeded by ``year``)."""
    day, hour = _hours()
    decl = math.radians(23.44) * np.sin(2 * np.pi * (284 + day + 1) / 365)
    solar_time = hour + 0.5 + (LON_DEG - 120.0) / 15.0
    ha = np.radians(15.0 * (solar_time - 12.0))
    lat = math.radians(LAT_DEG)
    cos_z = np.sin(lat) * np.sin(decl) + np.cos(lat) * np.cos(decl) * np.cos(ha)
    rng = np.random.default_rng(1000 + year)
    clearness = 0.2 + 0.8 * rng.beta(2.5, 1.4, size=365)
    monsoon = 1.0 - 0.15 * np.exp(-(((np.arange(365) - 205) / 25.0) ** 2))  # cloudier July-August
    out: FloatArray = np.maximum(cos_z, 0.0) * (clearness * monsoon)[day.astype(np.int64)]
    return out


def wind_shape(year: int) -> FloatArray:
    """Wind output per GW installed, unscaled: season × day × two-day persistent weather (seeded)."""
    day, hour = _hours()
    season = 1.0 + 0.3 * np.cos(2 * np.pi * (day - 95) / 365)  # windiest in early spring, calmest in summer
    diurnal = 1.0 + 0.12 * np.cos(2 * np.pi * (hour - 16) / 24)
    rng = np.random.default_rng(2000 + year)
    phi = math.exp(-1.0 / 48.0)
    noise = rng.normal(0.0, 0.7 * math.sqrt(1 - phi**2), size=HOURS)
    x = np.empty(HOURS)
    x[0] = 0.0
    for i in range(1, HOURS):
        x[i] = phi * x[i - 1] + noise[i]
    out: FloatArray = season * diurnal * np.exp(x - 0.245)
    return out


def load_shape() -> FloatArray:
    """Hourly generation relative to the yearly mean (mean 1): summer and winter peaks, day-time peak."""
    day, hour = _hours()
    season = 1.0 + 0.06 * np.cos(2 * np.pi * (day - 200) / 365) + 0.04 * np.cos(4 * np.pi * (day - 15) / 365)
    diurnal = 1.0 + 0.07 * np.cos(2 * np.pi * (hour - 11) / 24) + 0.04 * np.cos(4 * np.pi * (hour - 19) / 24)
    raw = season * diurnal
    out: FloatArray = raw / raw.mean()
    return out


@dataclass(frozen=True)
class HourlyMix:
    """The modelled hours of one year, GW (mean over the hour = GWh), and the resulting intensity."""

    year: int
    generation: FloatArray
    pv: FloatArray
    wind: FloatArray
    curtailed: FloatArray
    thermal: FloatArray
    clean_flat: float
    ef_thermal_kg_per_kwh: float
    intensity_kg_per_kwh: FloatArray

    def totals_twh(self) -> dict[str, float]:
        """Yearly energies, TWh (GWh / 1000), after curtailment."""
        return {
            "generation": float(self.generation.sum()) / 1000,
            "pv": float(self.pv.sum()) / 1000,
            "wind": float(self.wind.sum()) / 1000,
            "curtailed": float(self.curtailed.sum()) / 1000,
            "thermal": float(self.thermal.sum()) / 1000,
        }


@lru_cache(maxsize=8)
def hourly_mix(year: int) -> HourlyMix:
    """The model of ``year`` (clamped to 2023–2025); see the module doc."""
    g = grid_year(year)
    mean_gw = g.generation_twh * 1000 / HOURS
    gen = mean_gw * load_shape()
    pv_raw, wind_raw = solar_shape(g.year), wind_shape(g.year)
    pv_twh, wind_twh = g.pv_gw * PV_FULL_LOAD_H / 1000, g.wind_gw * WIND_FULL_LOAD_H / 1000
    if g.wind_solar_twh is not None:
        scale = g.wind_solar_twh / (pv_twh + wind_twh)
        pv_twh, wind_twh = pv_twh * scale, wind_twh * scale
    pv = pv_raw * pv_twh * 1000 / pv_raw.sum()
    wind = wind_raw * wind_twh * 1000 / wind_raw.sum()
    clean_flat = mean_gw * (g.nuclear_share + g.hydro_share)
    room = np.maximum(gen * (1 - MUST_RUN_THERMAL) - clean_flat, 0.0)  # what wind and PV may cover
    used = np.minimum(pv + wind, room)
    curtailed = pv + wind - used
    keep = np.divide(used, pv + wind, out=np.ones(HOURS), where=(pv + wind) > 0)
    thermal = gen - clean_flat - used
    if g.ef_kg_per_kwh is not None:
        ef_thermal = g.ef_kg_per_kwh * float(gen.sum()) / float(thermal.sum())
    else:  # the fleet's factor of the last year with a published factor
        ef_thermal = hourly_mix(
            max(y for y, gy in GRID_YEARS.items() if gy.ef_kg_per_kwh is not None)
        ).ef_thermal_kg_per_kwh
    intensity = ef_thermal * thermal / gen
    for arr in (gen, pv, wind, curtailed, thermal, intensity):
        arr.setflags(write=False)
    return HourlyMix(
        g.year, gen, pv * keep, wind * keep, curtailed, thermal, clean_flat, ef_thermal, intensity
    )


def hourly_intensity(year: int) -> FloatArray:
    """Hourly location-based intensity of the Shandong grid in ``year``, kg CO2/kWh (8,760 values)."""
    return hourly_mix(year).intensity_kg_per_kwh


def yearly_factor(year: int) -> float:
    """Generation-weighted mean intensity of ``year``, kg CO2/kWh: the published factor where there is one."""
    mix = hourly_mix(year)
    return float((mix.intensity_kg_per_kwh * mix.generation).sum() / mix.generation.sum())


def shandong_shape(year: int) -> FloatArray:
    """The hourly intensity divided by the year's factor (:func:`yearly_factor`): generation-weighted mean 1,
    a shape for :class:`huanghe.broker.carbon.CarbonSignal`."""
    out: FloatArray = hourly_intensity(year) / yearly_factor(year)
    return out


def in_shandong(lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Whether points (degrees) are inside Shandong's bounding box (:data:`SHANDONG_BBOX`)."""
    x, y = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
    w, s, e, n = SHANDONG_BBOX
    out: npt.NDArray[np.bool_] = (x >= w) & (x <= e) & (y >= s) & (y <= n)
    return out
