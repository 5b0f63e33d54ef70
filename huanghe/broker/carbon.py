"""Hourly carbon-intensity signal per center, kg CO2 per kWh of facility energy.

No public hourly series exists for mainland China (FACTS.md §3), so the signal is built from two parts:

* the **yearly grid factor** of each center (``EnergyProfile.grid_emission_kg_per_kwh``; North China grid,
  0.6361 kg/kWh in 2023 by default), and
* an **hourly shape** with mean 1 over the year (8,760 hours), which is an **assumption**. Three shapes exist:

  - ``shandong`` (the default for centers inside Shandong): the Shandong grid modelled hour by hour from its
    published generation mix (:mod:`huanghe.catalog.shandong_grid`, docs/carbon-shandong.md), divided by its
    yearly factor (generation-weighted mean 1). Centers outside the province get the ``proxy`` shape.

  - ``proxy``: an East-Asian Electricity Maps 2023 hourly series (default zone ``KR``, South Korea, the
    nearest zone at the same latitude across the Yellow Sea; ``JP-TK`` also works), divided by its yearly mean.
    The source rows are UTC; they are re-indexed to the zone's local clock (KR/JP: UTC+9) and that local
    clock is used as Beijing time (UTC+8), so the local daily pattern (solar noon, evening peak) lines up.
  - ``synthetic``: a solar shape: ``1 - depth × solar(h) / mean(solar)`` scaled to mean 1, where
    ``solar(h) = max(0, sin(π (hour_of_day - 6) / 12)) × (1 + 0.3 sin(2π (day - 80) / 365))``.
    Used when the proxy file is absent (:attr:`CarbonSignal.source` says so).

Per-center **effective** intensity = grid factor × shape(hour) × (1 − renewable share): the renewable part of a
center's energy (REF, ISO/IEC 30134-3) is counted at zero emissions.

Time: seconds ``t_s``; ``t_s = origin_s`` is 1 January 00:00 Beijing time of the signal's year and the year
repeats (hour index ``floor((t_s - origin_s) / 3600) mod 8760``). The simulator uses ``origin_s = 0`` (its
``t = 0`` is 2023-01-01); the live dispatcher uses epoch seconds and the start of the current Beijing year
(:func:`beijing_year_origin`). Everything is vectorised over center indices and times (numpy broadcasting).
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

from huanghe.catalog.shandong_grid import shandong_shape
from huanghe.paths import traces_dir

HOURS_PER_YEAR = 8760
SECONDS_PER_HOUR = 3600.0
#: North China grid emission factor 2023, kg CO2 / kWh (= t / MWh), MEE (FACTS.md §3).
NORTH_CHINA_2023_KG_PER_KWH = 0.6361
#: Relative path of the proxy series under ``huanghe.paths.traces_dir()``.
PROXY_FILE = Path("carbon-electricitymaps-2023") / "ci_2023_hourly_direct.csv.gz"
#: Hours the proxy zones' local clock is ahead of UTC.
ZONE_UTC_OFFSET_H = {"KR": 9, "JP-TK": 9}
DEFAULT_ZONE = "KR"
#: Default carbon shape: the Shandong grid model (docs/carbon-shandong.md).
DEFAULT_SHAPE = "shandong"
#: The simulator's year (its t = 0 is 2023-01-01 00:00 Beijing time).
SIM_YEAR = 2023
BEIJING_UTC_OFFSET_S = 8 * 3600
#: Depth of the synthetic solar dip (fraction of the mean at the sunniest hour), an assumption.
SYNTHETIC_SOLAR_DEPTH = 0.25

FloatArray = npt.NDArray[np.float64]


def synthetic_shape(depth: float = SYNTHETIC_SOLAR_DEPTH) -> FloatArray:
    """Synthetic hourly shape for one year (8,760 values, mean exactly 1): lower at sunny midday hours."""
    h = np.arange(HOURS_PER_YEAR, dtype=np.float64)
    hour_of_day = h % 24
    day = h // 24
    solar = np.maximum(0.0, np.sin(np.pi * (hour_of_day - 6.0) / 12.0))
    solar *= 1.0 + 0.3 * np.sin(2 * np.pi * (day - 80.0) / 365.0)
    raw = 1.0 - depth * solar / solar.mean()
    out: FloatArray = raw / raw.mean()
    return out


def load_proxy_shape(zone: str = DEFAULT_ZONE, path: Path | None = None) -> FloatArray:
    """Hourly shape (mean 1) of an Electricity Maps 2023 zone, on the zone's local clock.

    Raises ``FileNotFoundError`` when the file is missing and ``KeyError`` for an unknown zone.
    Missing values are filled with the zone's mean.
    """
    file = path if path is not None else traces_dir() / PROXY_FILE
    with gzip.open(file, "rt", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if zone not in header:
            raise KeyError(f"zone {zone!r} not in {file.name} (zones: {', '.join(header[1:])})")
        col = header.index(zone)
        values = [float(row[col]) if row[col] else np.nan for row in reader]
    series = np.asarray(values[:HOURS_PER_YEAR], dtype=np.float64)
    if series.size < HOURS_PER_YEAR:
        raise ValueError(f"{file.name}: {series.size} hours, expected {HOURS_PER_YEAR}")
    mean = float(np.nanmean(series))
    series = np.where(np.isnan(series), mean, series)
    # local hour k corresponds to UTC hour k - offset
    local = np.roll(series, ZONE_UTC_OFFSET_H.get(zone, 0))
    out: FloatArray = local / local.mean()
    return out


def beijing_year_origin(epoch_s: float) -> tuple[int, float]:
    """``(year, epoch seconds of 1 January 00:00 Beijing time of that year)`` for an epoch instant."""
    year = datetime.fromtimestamp(epoch_s + BEIJING_UTC_OFFSET_S, tz=UTC).year
    return year, datetime(year, 1, 1, tzinfo=UTC).timestamp() - BEIJING_UTC_OFFSET_S


def _other_shape(shape: str, zone: str, proxy_path: Path | None) -> tuple[FloatArray, str]:
    if shape in ("proxy", "shandong"):
        try:
            return load_proxy_shape(
                zone, proxy_path
            ), f"proxy:{zone} (Electricity Maps 2023, rescaled to each center's yearly factor)"
        except FileNotFoundError:
            return synthetic_shape(), f"synthetic solar shape (proxy file {PROXY_FILE} not found)"
    if shape == "synthetic":
        return synthetic_shape(), "synthetic solar shape"
    raise ValueError(f"unknown carbon shape {shape!r} (shandong, proxy, synthetic)")


@dataclass(frozen=True, eq=False)
class CarbonSignal:
    """Effective hourly carbon intensity of each center, kg CO2 per kWh of facility energy.

    ``hourly_kg_per_kwh`` has shape (centers, 8760); ``source`` names the shape used (for reports);
    ``origin_s`` is the instant of hour 0 (module doc).
    """

    hourly_kg_per_kwh: FloatArray
    source: str
    origin_s: float = 0.0
    _cum: FloatArray = field(init=False, repr=False)  # (centers, 8761) running sum over hours

    def __post_init__(self) -> None:
        h = np.array(self.hourly_kg_per_kwh, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] != HOURS_PER_YEAR:
            raise ValueError(f"hourly_kg_per_kwh must have shape (centers, {HOURS_PER_YEAR})")
        h.setflags(write=False)
        cum = np.zeros((h.shape[0], HOURS_PER_YEAR + 1), dtype=np.float64)
        np.cumsum(h, axis=1, out=cum[:, 1:])
        cum.setflags(write=False)
        object.__setattr__(self, "hourly_kg_per_kwh", h)
        object.__setattr__(self, "_cum", cum)

    @classmethod
    def build(
        cls,
        grid_kg_per_kwh: Sequence[float] | FloatArray,
        renewable_share: Sequence[float] | FloatArray,
        shape: str = DEFAULT_SHAPE,
        zone: str = DEFAULT_ZONE,
        proxy_path: Path | None = None,
        in_province: Sequence[bool] | npt.NDArray[np.bool_] | None = None,
        year: int = SIM_YEAR,
        origin_s: float = 0.0,
    ) -> CarbonSignal:
        """Signal for centers with the given yearly grid factors and renewable shares.

        ``shape="shandong"`` (default) gives the centers inside Shandong (``in_province``, default all) the
        Shandong grid model of ``year`` and the others the ``proxy`` shape; ``shape="proxy"`` uses the
        Electricity Maps zone and falls back to the synthetic shape (saying so in ``source``) when the file is
        absent; ``shape="synthetic"`` always uses the synthetic one.
        """
        grid = np.asarray(grid_kg_per_kwh, dtype=np.float64)
        renew = np.asarray(renewable_share, dtype=np.float64)
        base = grid * (1.0 - renew)
        if shape == "shandong":
            mask = (
                np.ones(grid.shape, dtype=np.bool_) if in_province is None else np.asarray(in_province, bool)
            )
            if mask.shape != grid.shape:
                raise ValueError("in_province must have one value per center")
            source = f"shandong:{year} (Shandong grid model from the generation mix, docs/carbon-shandong.md)"
            curve = np.broadcast_to(shandong_shape(year), (grid.size, HOURS_PER_YEAR))
            if not mask.all():
                other, other_source = _other_shape(shape, zone, proxy_path)
                curve = np.where(mask[:, None], curve, other[None, :])
                source += f"; centers outside Shandong: {other_source}"
            return cls(base[:, None] * curve, source, origin_s)
        curve_1d, source = _other_shape(shape, zone, proxy_path)
        return cls(base[:, None] * curve_1d[None, :], source, origin_s)

    @property
    def n_centers(self) -> int:
        return int(self.hourly_kg_per_kwh.shape[0])

    def intensity_kg_per_kwh(self, center_idx: npt.ArrayLike, t_s: npt.ArrayLike) -> FloatArray:
        """Effective intensity of ``center_idx`` during the hour containing ``t_s`` (broadcast together)."""
        c = np.asarray(center_idx, dtype=np.intp)
        since = np.asarray(t_s, dtype=np.float64) - self.origin_s
        hour = np.floor(since / SECONDS_PER_HOUR).astype(np.int64) % HOURS_PER_YEAR
        out: FloatArray = self.hourly_kg_per_kwh[c, hour]
        return out

    def integral_kg_h_per_kwh(self, center_idx: npt.ArrayLike, t_s: npt.ArrayLike) -> FloatArray:
        """∫₀^t intensity dt in (kg/kWh)·hours, exact for the piecewise-constant hourly signal.

        ``years × cum[c, 8760] + cum[c, h] + frac × hourly[c, h]``; the three lookups are ``take`` on the
        flattened tables (the same values as ``table[c, h]``, without two-dimensional fancy indexing)."""
        c = np.asarray(center_idx, dtype=np.intp)
        if c.ndim == 2 and c.shape[0] > 1 and c.strides[0] == 0:
            c = c[:1]  # one row seen many times (the pools' centers): its terms once, broadcast like it
        hours = (np.asarray(t_s, dtype=np.float64) - self.origin_s) / SECONDS_PER_HOUR
        whole = np.floor(hours)
        frac = hours - whole
        years, h = np.divmod(whole.astype(np.int64), HOURS_PER_YEAR)
        cum = self._cum
        width = HOURS_PER_YEAR + 1
        out: FloatArray = (
            years * cum[:, HOURS_PER_YEAR].take(c)
            + cum.ravel().take(c * width + h)
            + frac * self.hourly_kg_per_kwh.ravel().take(c * HOURS_PER_YEAR + h)
        )
        return out

    def mean_intensity_kg_per_kwh(
        self, center_idx: npt.ArrayLike, start_s: npt.ArrayLike, end_s: npt.ArrayLike
    ) -> FloatArray:
        """Time-average intensity over ``[start_s, end_s)``; the hour's value where the interval is empty (that
        value is looked up only for those elements)."""
        start = np.asarray(start_s, dtype=np.float64)
        end = np.asarray(end_s, dtype=np.float64)
        span_h = (end - start) / SECONDS_PER_HOUR
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = (
                self.integral_kg_h_per_kwh(center_idx, end) - self.integral_kg_h_per_kwh(center_idx, start)
            ) / span_h
        empty = ~(span_h > 0)
        if not empty.any():
            return np.asarray(mean, dtype=np.float64)
        shape = np.broadcast(mean, empty).shape
        out: FloatArray = (
            mean  # a fresh array of the full shape: filled in place
            if isinstance(mean, np.ndarray) and mean.shape == shape and mean.flags.writeable
            else np.array(np.broadcast_to(mean, shape), dtype=np.float64)
        )
        at = np.broadcast_to(empty, shape)
        out[at] = self.intensity_kg_per_kwh(
            np.broadcast_to(np.asarray(center_idx, dtype=np.intp), shape)[at],
            np.broadcast_to(start, shape)[at],
        )
        return out
