"""Simulated telemetry for a topology, so a fresh platform shows living data. Every sample is ``simulated``.

Deterministic: the samples of one instant depend only on the topology, the seed and the instant (a tick
replayed, or a history backfilled over the same times, gives the same values). Time is given, never read.

Models (all **assumptions**, for demonstration, not measurements):

* **Pool utilisation**: a per-pool base level in [0.30, 0.72] (from the seed and the pool id), a diurnal wave
  (±0.15, peak at 15:00 Beijing time), −0.08 at weekends and Gaussian noise (σ 0.03), clipped to [0, 1].
  When the platform runs jobs, ``busy_share`` (pool id → share of its nodes busy with them) is added on top
  of that local load (still clipped to 1).
* **IT power** of a pool: ``nodes × power_kw_per_node × (0.3 + 0.7 × utilisation)`` (30 % idle draw); a
  center's IT power is the sum over its pools (design IT kW × the same curve when it has no pool). A
  center's utilisation is the mean of its pools' weighted by full-load power.
* **PUE**: ``1 + (PUE_year − 1) × season × day + noise``: the cooling overhead is ×(1 ± 0.25) over the year
  (peak mid-July), ×(1 ± 0.08) over the day (peak 15:00 Beijing time), noise σ 0.005; at least 1.0. Its
  yearly mean is close to the center's reported PUE. Facility power = IT power × PUE.
* **Renewable share**: the center's share × (1 + 0.3 × daylight), daylight a half-sine 06:00–18:00, ≤ 1.
* **Water**: WUE (L/kWh) × IT energy since the previous sample (``step_s``), when the center reports WUE.
* **Storage used** per tier: the file's ``used_tb`` at ``origin_ms`` growing linearly by 10 % (hot),
  8 % (warm), 5 % (cold) of it per year, capped at the tier's capacity.
* **Link latency**: each link's latency (measured, else the distance model of ``huanghe.catalog.geo``) ×
  (1 + |noise|), noise σ 5 %, with a spike ×3 with probability 0.2 %.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from huanghe.catalog.geo import latency_matrix_ms
from huanghe.domain.network import Center, Topology
from huanghe.observatory.metric_catalog import METRICS, tier_key

#: 2026-01-01T00:00:00Z, where the storage figures of the topology file are taken to hold.
DEFAULT_ORIGIN_MS = 1_767_225_600_000
BEIJING_OFFSET_H = 8.0
MS_PER_HOUR = 3_600_000
IDLE_POWER_SHARE = 0.3
STORAGE_GROWTH_PER_YEAR = {"hot": 0.10, "warm": 0.08, "cold": 0.05}
SOURCE = "simulated"


@dataclass(frozen=True)
class GeneratedSample:
    """One simulated sample; ``value`` in the metric's unit (``unit``), ``time_ms`` since the epoch (UTC)."""

    center: str
    metric: str
    subject: str
    time_ms: int
    value: float
    unit: str
    source: str = SOURCE


def _stable_unit(seed: int, key: str) -> float:
    """A number in [0, 1) fixed by ``seed`` and ``key`` (independent of Python's hash randomisation)."""
    return (zlib.crc32(f"{seed}:{key}".encode()) & 0xFFFFFFFF) / 2**32


def _local_hour(time_ms: int) -> float:
    return ((time_ms / MS_PER_HOUR) + BEIJING_OFFSET_H) % 24.0


def _day_of_year(time_ms: int) -> int:
    return datetime.fromtimestamp(time_ms / 1000, tz=UTC).timetuple().tm_yday


def _weekend(time_ms: int) -> bool:
    return datetime.fromtimestamp(time_ms / 1000 + BEIJING_OFFSET_H * 3600, tz=UTC).weekday() >= 5


def diurnal(time_ms: int) -> float:
    """A wave in [−1, 1] over the day, peak at 15:00 Beijing time."""
    return math.cos(2 * math.pi * (_local_hour(time_ms) - 15.0) / 24.0)


def seasonal(time_ms: int) -> float:
    """A wave in [−1, 1] over the year, peak in mid-July (day 196)."""
    return math.cos(2 * math.pi * (_day_of_year(time_ms) - 196) / 365.0)


def daylight(time_ms: int) -> float:
    """0 at night, a half-sine between 06:00 and 18:00 Beijing time (1 at noon)."""
    h = _local_hour(time_ms)
    return math.sin(math.pi * (h - 6.0) / 12.0) if 6.0 <= h <= 18.0 else 0.0


def simulated_pue(yearly_pue: float, time_ms: int, noise: float = 0.0) -> float:
    """PUE at ``time_ms`` around ``yearly_pue`` (season and hour model above), never below 1."""
    overhead = (yearly_pue - 1.0) * (1.0 + 0.25 * seasonal(time_ms)) * (1.0 + 0.08 * diurnal(time_ms))
    return max(1.0, 1.0 + overhead + noise)


def storage_used_tb(
    used_tb: float, capacity_tb: float, temperature: str, time_ms: int, origin_ms: int
) -> float:
    """Used TB of a tier at ``time_ms``: linear growth from ``used_tb`` at ``origin_ms``, within [0, capacity]."""
    years = (time_ms - origin_ms) / (365.0 * 24 * MS_PER_HOUR)
    grown = used_tb * (1.0 + STORAGE_GROWTH_PER_YEAR.get(temperature, 0.08) * years)
    return min(capacity_tb, max(0.0, grown))


class TelemetryGenerator:
    """Simulated samples for ``topology``; see the module docstring for the models."""

    def __init__(self, topology: Topology, seed: int = 0, origin_ms: int = DEFAULT_ORIGIN_MS) -> None:
        self.topology = topology
        self.seed = seed
        self.origin_ms = origin_ms
        ids, matrix = latency_matrix_ms(topology)
        index = {cid: i for i, cid in enumerate(ids)}
        self._link_base_ms = [
            (link.a, link.b, float(matrix[index[link.a], index[link.b]])) for link in topology.links
        ]
        self._pool_base = {
            p.id: 0.30 + 0.42 * _stable_unit(seed, p.id) for c in topology.centers for p in c.pools
        }

    def _rng(self, time_ms: int) -> np.random.Generator:
        return np.random.default_rng([self.seed & 0xFFFFFFFF, (time_ms // 1000) & 0xFFFFFFFFFFFF])

    def _pool_utilisation(self, pool_id: str, time_ms: int, noise: float) -> float:
        weekend = -0.08 if _weekend(time_ms) else 0.0
        u = self._pool_base[pool_id] + 0.15 * diurnal(time_ms) + weekend + noise
        return min(1.0, max(0.0, u))

    def _center(
        self,
        center: Center,
        time_ms: int,
        step_s: float,
        rng: np.random.Generator,
        busy_share: Mapping[str, float],
    ) -> Iterator[GeneratedSample]:
        def sample(metric: str, value: float, subject: str = "") -> GeneratedSample:
            return GeneratedSample(center.id, metric, subject, time_ms, float(value), METRICS[metric].unit)

        noises = rng.normal(0.0, 0.03, size=max(1, len(center.pools)))
        it_kw = full_kw = weighted_u = 0.0
        for pool, noise in zip(center.pools, noises, strict=False):
            u = self._pool_utilisation(pool.id, time_ms, float(noise))
            if pool.id in busy_share:
                u = min(1.0, u + max(0.0, float(busy_share[pool.id])))
            full = pool.nodes * pool.power_kw_per_node
            power = full * (IDLE_POWER_SHARE + (1 - IDLE_POWER_SHARE) * u)
            it_kw += power
            full_kw += full
            weighted_u += full * u
            yield sample("utilisation", u, pool.id)
            yield sample("it_power_kw", power, pool.id)
        if full_kw > 0:
            center_u = weighted_u / full_kw
        else:
            base = 0.30 + 0.42 * _stable_unit(self.seed, center.id)
            center_u = min(1.0, max(0.0, base + 0.15 * diurnal(time_ms) + float(noises[0])))
            it_kw = center.it_design_kw * (IDLE_POWER_SHARE + (1 - IDLE_POWER_SHARE) * center_u)
        pue = simulated_pue(center.energy.pue, time_ms, float(rng.normal(0.0, 0.005)))
        yield sample("utilisation", center_u)
        yield sample("it_power_kw", it_kw)
        yield sample("pue", pue)
        yield sample("facility_power_kw", it_kw * pue)
        renewable = min(1.0, center.energy.renewable_share * (1.0 + 0.3 * daylight(time_ms)))
        yield sample("renewable_share", renewable)
        if center.energy.wue_l_per_kwh is not None:
            yield sample("water_l", center.energy.wue_l_per_kwh * it_kw * step_s / 3600.0)
        for tier in center.storage:
            used = storage_used_tb(
                tier.used_tb, tier.capacity_tb, tier.temperature.value, time_ms, self.origin_ms
            )
            yield sample("storage_used_tb", used, tier_key(tier.medium.value, tier.temperature.value))

    def tick(
        self, time_ms: int, step_s: float = 60.0, busy_share: Mapping[str, float] | None = None
    ) -> list[GeneratedSample]:
        """Every sample of the network at ``time_ms``; ``step_s`` is the time since the previous tick (for
        ``water_l``); ``busy_share`` adds load to the pools it names (share of nodes, [0, 1])."""
        rng = self._rng(time_ms)
        busy = busy_share or {}
        out: list[GeneratedSample] = []
        for center in self.topology.centers:
            out.extend(self._center(center, time_ms, step_s, rng, busy))
        jitter = np.abs(rng.normal(0.0, 0.05, size=len(self._link_base_ms)))
        spikes = rng.random(len(self._link_base_ms)) < 0.002
        unit = METRICS["link_latency_ms"].unit
        for (a, b, base), j, spike in zip(self._link_base_ms, jitter, spikes, strict=True):
            value = base * (1.0 + float(j)) * (3.0 if spike else 1.0)
            out.append(GeneratedSample(a, "link_latency_ms", b, time_ms, value, unit))
        return out

    def history(self, start_ms: int, end_ms: int, step_s: float) -> Iterator[list[GeneratedSample]]:
        """Ticks at ``start_ms, start_ms + step, ...`` before ``end_ms`` (one list of samples per tick)."""
        if step_s <= 0:
            raise ValueError("step_s: must be > 0")
        step_ms = int(step_s * 1000)
        for t in range(start_ms, end_ms, step_ms):
            yield self.tick(t, step_s)
