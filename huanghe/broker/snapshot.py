"""The network as arrays: an immutable :class:`NetworkSnapshot` the placement engine decides on.

Indices: ``P`` pools (in ``Topology.pools()`` order), ``C`` centers (``Topology.centers`` order), ``Y`` cities,
``R`` regions, ``K`` job kinds (:data:`KINDS`, the order of :class:`~huanghe.domain.enums.JobKind`).

Resources are per pool: ``*_per_node`` is the shape of one node, ``*_free`` the free totals of the pool.
``nodes_free`` counts nodes a gang can use whole (no allocation on them). The free totals are aggregated over
the pool's nodes, so "fits now" for a job smaller than a node is optimistic about fragmentation; the simulator
packs nodes exactly and refreshes the snapshot through :meth:`NetworkSnapshot.with_free`.

What each pool's back-end can run travels with the snapshot as plain data: ``pool_backend`` (the back-end name
of each pool) and ``backend_missing`` (back-end name → capability name → the back-end's declared reason for
lacking it). The broker never imports a back-end: the live loop and the simulator's callers fill the map
from the back-end registry (``huanghe.backends.describe.missing_by_backend``); a back-end absent from the map
is assumed able to run everything (the broker cannot know better).

Every array is read-only. Updates (:meth:`with_allocation`, :meth:`with_release`, :meth:`with_free`,
:meth:`with_queue`, :meth:`with_health`, :meth:`with_pool_open`, :meth:`at`) return a new snapshot sharing the
unchanged arrays, so an update costs O(P) at most. ``pool_open`` (P,) is False for a pool its operator drained
(no new jobs; the ``unhealthy`` filter removes it, like a pool of an unhealthy center).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.carbon import DEFAULT_SHAPE, SIM_YEAR, CarbonSignal
from huanghe.catalog.geo import (
    DEFAULT_ROUTE_FACTOR,
    FIBER_MS_PER_KM,
    HOP_MS,
    bandwidth_matrix_gbps,
    distance_matrix_km,
    latency_matrix_ms,
)
from huanghe.catalog.shandong_grid import in_shandong
from huanghe.core.clock import Clock
from huanghe.domain.enums import DataClass, JobKind
from huanghe.domain.network import Topology

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
StrArray = npt.NDArray[np.str_]

#: Job kinds in the column order of ``speed`` (pools × kinds).
KINDS: tuple[JobKind, ...] = tuple(JobKind)
KIND_INDEX: dict[JobKind, int] = {k: i for i, k in enumerate(KINDS)}

#: Bit of each data class in ``data_class_mask`` (per center).
DATA_CLASS_BIT: dict[DataClass, int] = {DataClass.GENERAL: 1, DataClass.IMPORTANT: 2, DataClass.CORE: 4}

#: Router hops assumed between a user in a city and a center (access network), for user→center latency.
ACCESS_HOPS = 1


def _ro(a: Any, dtype: Any = None) -> Any:
    arr = np.array(a, dtype=dtype) if dtype is not None else np.array(a)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True, eq=False)
class NetworkSnapshot:
    """Capacity, prices, energy, health, queues and links of the network at time ``t_s``.

    Units are in the names: ``*_cny_per_node_hour``, ``power_kw_per_node``, ``latency_ms``, ``bandwidth_gbps``,
    ``backlog_s`` (estimated wait before a newly queued job could start in that pool, seconds).
    """

    t_s: float
    # ids
    pool_ids: tuple[str, ...]
    center_ids: tuple[str, ...]
    city_ids: tuple[str, ...]
    region_ids: tuple[str, ...]
    # index maps
    pool_center: IntArray  # (P,) center index of each pool
    center_city: IntArray  # (C,) city index of each center
    city_region: IntArray  # (Y,) region index of each city
    # pool shape and capacity
    nodes_total: IntArray  # (P,)
    cpus_per_node: FloatArray  # (P,)
    gpus_per_node: FloatArray  # (P,)
    mem_gb_per_node: FloatArray  # (P,)
    nodes_free: IntArray  # (P,) wholly free nodes
    cpus_free: FloatArray  # (P,) free cores, pool total
    gpus_free: FloatArray  # (P,) free GPUs, pool total
    mem_gb_free: FloatArray  # (P,) free memory, GB, pool total
    accelerator: StrArray  # (P,) lower-case model, '' for CPU-only
    accelerator_class: StrArray  # (P,) cpu / gpu / npu / dcu
    price_cny_per_node_hour: FloatArray  # (P,)
    speed: FloatArray  # (P, K) run-time speed vs the kind's reference device
    power_kw_per_node: FloatArray  # (P,) IT power at full load
    # queues
    queued_jobs: IntArray  # (P,)
    backlog_s: FloatArray  # (P,)
    # centers
    pue: FloatArray  # (C,)
    renewable_share: FloatArray  # (C,)
    grid_kg_per_kwh: FloatArray  # (C,) yearly grid emission factor
    healthy: BoolArray  # (C,)
    data_class_mask: IntArray  # (C,) OR of DATA_CLASS_BIT allowed there
    latency_ms: FloatArray  # (C, C) one-way
    bandwidth_gbps: FloatArray  # (C, C), inf on the diagonal
    city_latency_ms: FloatArray  # (Y, C) one-way, from a user in a city (its seat) to a center
    carbon: CarbonSignal
    # back-ends (see the module docstring); defaults: no back-end known, nothing known to be missing
    pool_backend: StrArray = field(default_factory=lambda: np.zeros(0, dtype=np.str_))  # (P,)
    backend_missing: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # (P,) the pool takes new jobs (False: drained by its operator); default: every pool open
    pool_open: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=np.bool_))

    def __post_init__(self) -> None:
        if len(self.pool_backend) != len(self.pool_ids):
            if len(self.pool_backend):
                raise ValueError("pool_backend does not match pool_ids")
            object.__setattr__(self, "pool_backend", np.full(len(self.pool_ids), "", dtype=np.str_))
        if len(self.pool_open) != len(self.pool_ids):
            if len(self.pool_open):
                raise ValueError("pool_open does not match pool_ids")
            object.__setattr__(self, "pool_open", np.ones(len(self.pool_ids), dtype=np.bool_))
        frozen = {str(b): MappingProxyType(dict(m)) for b, m in self.backend_missing.items()}
        object.__setattr__(self, "backend_missing", MappingProxyType(frozen))
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and value.flags.writeable:
                value = value.copy()
                value.setflags(write=False)
                object.__setattr__(self, f.name, value)
        p, c = len(self.pool_ids), len(self.center_ids)
        if self.pool_center.shape != (p,) or self.speed.shape != (p, len(KINDS)):
            raise ValueError("pool arrays do not match pool_ids")
        if self.latency_ms.shape != (c, c) or self.city_latency_ms.shape != (len(self.city_ids), c):
            raise ValueError("link arrays do not match center_ids / city_ids")
        if self.carbon.n_centers != c:
            raise ValueError("carbon signal does not match center_ids")

    # ------------------------------------------------------------------ building
    @classmethod
    def from_topology(
        cls,
        topology: Topology,
        clock: Clock,
        carbon: CarbonSignal | None = None,
        carbon_shape: str = DEFAULT_SHAPE,
        backend_missing: Mapping[str, Mapping[str, str]] | None = None,
        carbon_year: int = SIM_YEAR,
        carbon_origin_s: float = 0.0,
    ) -> NetworkSnapshot:
        """An idle network (everything free, empty queues, all centers healthy) at ``clock.now_s()``.

        ``backend_missing``: back-end name → capability → reason it is missing (see the module docstring).
        The carbon signal (unless given) is ``carbon_shape`` of ``carbon_year`` with hour 0 at
        ``carbon_origin_s`` (:mod:`huanghe.broker.carbon`); by default the Shandong grid model for every center
        inside the province."""
        pools = topology.pools()
        center_ids = tuple(c.id for c in topology.centers)
        c_index = {cid: i for i, cid in enumerate(center_ids)}
        city_ids = tuple(y.id for y in topology.cities)
        y_index = {yid: i for i, yid in enumerate(city_ids)}
        region_ids = tuple(r.id for r in topology.regions)
        r_index = {rid: i for i, rid in enumerate(region_ids)}

        nodes = np.array([p.nodes for _, p in pools], dtype=np.int64)
        cpn = np.array([p.cpus_per_node for _, p in pools], dtype=np.float64)
        gpn = np.array([p.gpus_per_node for _, p in pools], dtype=np.float64)
        mpn = np.array([p.mem_gb_per_node for _, p in pools], dtype=np.float64)
        speed = np.array([[float(p.speed.get(k, 1.0)) for k in KINDS] for _, p in pools], dtype=np.float64)
        speed = speed.reshape(len(pools), len(KINDS))

        lat_ids, lat = latency_matrix_ms(topology)
        bw_ids, bw = bandwidth_matrix_gbps(topology)
        if tuple(lat_ids) != center_ids or tuple(bw_ids) != center_ids:
            raise ValueError("geo matrices are not in topology center order")

        n_cities = len(topology.cities)
        km = distance_matrix_km(
            [y.lon for y in topology.cities] + [c.lon for c in topology.centers],
            [y.lat for y in topology.cities] + [c.lat for c in topology.centers],
        )[:n_cities, n_cities:]
        city_lat_ms = DEFAULT_ROUTE_FACTOR * km * FIBER_MS_PER_KM + ACCESS_HOPS * HOP_MS

        grid = np.array([c.energy.grid_emission_kg_per_kwh for c in topology.centers], dtype=np.float64)
        renew = np.array([c.energy.renewable_share for c in topology.centers], dtype=np.float64)
        if carbon is None:
            carbon = CarbonSignal.build(
                grid,
                renew,
                shape=carbon_shape,
                in_province=in_shandong([c.lon for c in topology.centers], [c.lat for c in topology.centers]),
                year=carbon_year,
                origin_s=carbon_origin_s,
            )

        return cls(
            t_s=float(clock.now_s()),
            pool_ids=tuple(p.id for _, p in pools),
            center_ids=center_ids,
            city_ids=city_ids,
            region_ids=region_ids,
            pool_center=np.array([c_index[c.id] for c, _ in pools], dtype=np.int64),
            center_city=np.array([y_index[c.city] for c in topology.centers], dtype=np.int64),
            city_region=np.array([r_index[y.region] for y in topology.cities], dtype=np.int64),
            nodes_total=nodes,
            cpus_per_node=cpn,
            gpus_per_node=gpn,
            mem_gb_per_node=mpn,
            nodes_free=nodes.copy(),
            cpus_free=nodes * cpn,
            gpus_free=nodes * gpn,
            mem_gb_free=nodes * mpn,
            accelerator=np.array([p.accelerator.strip().lower() for _, p in pools], dtype=np.str_),
            accelerator_class=np.array([p.accelerator_class for _, p in pools], dtype=np.str_),
            price_cny_per_node_hour=np.array([p.price_cny_per_hour for _, p in pools], dtype=np.float64),
            speed=speed,
            power_kw_per_node=np.array([p.power_kw_per_node for _, p in pools], dtype=np.float64),
            queued_jobs=np.zeros(len(pools), dtype=np.int64),
            backlog_s=np.zeros(len(pools), dtype=np.float64),
            pue=np.array([c.energy.pue for c in topology.centers], dtype=np.float64),
            renewable_share=renew,
            grid_kg_per_kwh=grid,
            healthy=np.ones(len(center_ids), dtype=np.bool_),
            data_class_mask=np.array(
                [sum(DATA_CLASS_BIT[d] for d in set(c.allowed_data_classes)) for c in topology.centers],
                dtype=np.int64,
            ),
            latency_ms=lat,
            bandwidth_gbps=bw,
            city_latency_ms=np.asarray(city_lat_ms, dtype=np.float64),
            carbon=carbon,
            pool_backend=np.array([p.backend for _, p in pools], dtype=np.str_),
            backend_missing=dict(backend_missing or {}),
        )

    # ------------------------------------------------------------------ sizes and lookups
    @property
    def n_pools(self) -> int:
        return len(self.pool_ids)

    @property
    def n_centers(self) -> int:
        return len(self.center_ids)

    @property
    def pool_region(self) -> IntArray:
        """(P,) region index of each pool."""
        out: IntArray = self.city_region[self.center_city[self.pool_center]]
        return out

    def backend_lacks(self, capabilities: Sequence[str]) -> BoolArray:
        """(P, N) whether each pool's back-end lacks each of ``capabilities`` (declared missing)."""
        out = np.zeros((self.n_pools, len(capabilities)), dtype=np.bool_)
        for name, missing in self.backend_missing.items():
            rows = self.pool_backend == name
            for n, cap in enumerate(capabilities):
                if cap in missing:
                    out[rows, n] = True
        return out

    def missing_reason(self, pool: int, capability: str) -> str | None:
        """The declared reason pool ``pool``'s back-end lacks ``capability``, None if it does not."""
        return self.backend_missing.get(str(self.pool_backend[pool]), {}).get(capability)

    def pool_index(self, pool_id: str) -> int:
        return self.pool_ids.index(pool_id)

    def center_index(self, center_id: str) -> int:
        return self.center_ids.index(center_id)

    def city_index(self, city_id: str) -> int:
        return self.city_ids.index(city_id)

    # ------------------------------------------------------------------ updates
    def at(self, t_s: float) -> NetworkSnapshot:
        """The same state at another time."""
        return dataclasses.replace(self, t_s=float(t_s))

    def with_free(
        self,
        nodes_free: npt.ArrayLike,
        cpus_free: npt.ArrayLike,
        gpus_free: npt.ArrayLike,
        mem_gb_free: npt.ArrayLike,
    ) -> NetworkSnapshot:
        """Replace the free resources of every pool (arrays of shape (P,))."""
        return dataclasses.replace(
            self,
            nodes_free=np.asarray(nodes_free, dtype=np.int64),
            cpus_free=np.asarray(cpus_free, dtype=np.float64),
            gpus_free=np.asarray(gpus_free, dtype=np.float64),
            mem_gb_free=np.asarray(mem_gb_free, dtype=np.float64),
        )

    def with_queue(self, queued_jobs: npt.ArrayLike, backlog_s: npt.ArrayLike) -> NetworkSnapshot:
        """Replace the queue state of every pool (arrays of shape (P,))."""
        return dataclasses.replace(
            self,
            queued_jobs=np.asarray(queued_jobs, dtype=np.int64),
            backlog_s=np.asarray(backlog_s, dtype=np.float64),
        )

    def with_health(self, healthy: npt.ArrayLike) -> NetworkSnapshot:
        """Replace the center health mask (shape (C,))."""
        return dataclasses.replace(self, healthy=np.asarray(healthy, dtype=np.bool_))

    def with_pool_open(self, pool_open: npt.ArrayLike) -> NetworkSnapshot:
        """Replace the mask of pools taking new jobs (shape (P,); False = drained)."""
        return dataclasses.replace(self, pool_open=np.asarray(pool_open, dtype=np.bool_))

    def with_allocation(
        self, pool: int, nodes: int, cpus: float, gpus: float, mem_gb: float, sign: int = 1
    ) -> NetworkSnapshot:
        """Take (``sign=1``) or give back (``sign=-1``) ``nodes`` × (cpus, gpus, mem_gb) per node in ``pool``.

        A gang (``nodes > 1``) or a job using a whole node takes whole nodes off ``nodes_free``; a job smaller
        than a node is assumed packed onto used nodes, and ``nodes_free`` is only clamped to what the free
        totals allow (``min_r floor(free_r / per_node_r)``). Raises ``ValueError`` if a total would go negative.
        """
        i = int(pool)
        n = int(nodes)
        cpus_free = self.cpus_free.copy()
        gpus_free = self.gpus_free.copy()
        mem_free = self.mem_gb_free.copy()
        nodes_free = self.nodes_free.copy()
        cpus_free[i] -= sign * n * cpus
        gpus_free[i] -= sign * n * gpus
        mem_free[i] -= sign * n * mem_gb
        eps = 1e-9
        if cpus_free[i] < -eps or gpus_free[i] < -eps or mem_free[i] < -eps:
            raise ValueError(f"allocation exceeds the free resources of pool {self.pool_ids[i]}")
        whole = n > 1 or _share(cpus, gpus, mem_gb, self, i) >= 1.0 - eps
        if sign > 0 and whole:
            nodes_free[i] -= n
        elif sign < 0 and whole:
            nodes_free[i] += n
        bound = self.nodes_total[i]
        for free, per in (
            (cpus_free, self.cpus_per_node),
            (gpus_free, self.gpus_per_node),
            (mem_free, self.mem_gb_per_node),
        ):
            if per[i] > 0:
                bound = min(bound, int(np.floor(free[i] / per[i] + eps)))
        nodes_free[i] = max(0, min(int(nodes_free[i]), int(bound)))
        return dataclasses.replace(
            self, cpus_free=cpus_free, gpus_free=gpus_free, mem_gb_free=mem_free, nodes_free=nodes_free
        )

    def with_release(self, pool: int, nodes: int, cpus: float, gpus: float, mem_gb: float) -> NetworkSnapshot:
        """Give back what :meth:`with_allocation` took."""
        return self.with_allocation(pool, nodes, cpus, gpus, mem_gb, sign=-1)


def _share(cpus: float, gpus: float, mem_gb: float, snap: NetworkSnapshot, i: int) -> float:
    """Share of one node of pool ``i`` used by (cpus, gpus, mem_gb): the largest of the three fractions."""
    parts = [0.0]
    if snap.cpus_per_node[i] > 0:
        parts.append(cpus / snap.cpus_per_node[i])
    if snap.gpus_per_node[i] > 0:
        parts.append(gpus / snap.gpus_per_node[i])
    if snap.mem_gb_per_node[i] > 0:
        parts.append(mem_gb / snap.mem_gb_per_node[i])
    return min(1.0, max(parts))
