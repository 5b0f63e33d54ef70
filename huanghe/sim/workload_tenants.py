"""Who submits a built workload's jobs and what each job needs besides resources (steps 3–5 of
:mod:`huanghe.sim.workload_builder`): tenants with sectors and home cities, the tenant of each job, where its
input data lives and of which class, an inference job's latency SLO and a batch job's deadline."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.batch import SLO_IN_CIRCLE_MS, SLO_IN_CITY_MS
from huanghe.broker.snapshot import DATA_CLASS_BIT, NetworkSnapshot
from huanghe.domain.enums import DataClass, JobKind
from huanghe.domain.network import Topology
from huanghe.sim.workload_streams import Templates

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

SECTORS = (
    "sme",
    "research",
    "manufacturing",
    "energy",
    "finance",
    "health",
    "government",
    "logistics",
    "education",
)
SECTOR_WEIGHTS = (0.30, 0.14, 0.16, 0.08, 0.08, 0.07, 0.06, 0.06, 0.05)
#: Sectors whose data is more often important or core.
SENSITIVE_SECTORS = frozenset({"finance", "health", "energy", "government"})
#: Probability of (general, important, core) data.
DATA_CLASS_P = {"sensitive": (0.75, 0.20, 0.05), "other": (0.93, 0.06, 0.01)}
#: Sector multipliers of tenant weights, per stream (1.0 where not listed).
STREAM_SECTOR_BIAS: dict[str, dict[str, float]] = {
    "philly": {"research": 3.0, "sme": 2.0, "education": 2.0},
    "openb": {"sme": 2.0, "finance": 2.0, "health": 2.0, "logistics": 2.0},
    "hpc2n": {"research": 4.0, "energy": 3.0, "manufacturing": 3.0, "education": 2.0},
    "sdsc": {"research": 4.0, "energy": 3.0, "manufacturing": 3.0, "education": 2.0},
    "cpu": {"sme": 2.0, "manufacturing": 2.0, "government": 2.0, "logistics": 2.0},
}
#: Lognormal input size per kind: (median GB, sigma); probability a job has no input data.
DATA_GB = {
    JobKind.GPU: (50.0, 1.5),
    JobKind.HPC: (20.0, 1.5),
    JobKind.CPU: (2.0, 1.5),
    JobKind.INFERENCE: (1.0, 1.0),
}
NO_DATA_P = 0.2
#: Share of inference jobs with the in-city SLO (the rest get the in-circle SLO).
IN_CITY_SLO_P = 0.35


@dataclass(frozen=True)
class Tenant:
    id: str
    name: str
    sector: str
    is_sme: bool
    home_city: str


def make_tenants(rng: np.random.Generator, topo: Topology, n: int) -> list[Tenant]:
    """Tenants with a sector (weighted) and a home city (weighted by the number of centers there)."""
    cities = [y.id for y in topo.cities]
    per_city = np.array([sum(1 for c in topo.centers if c.city == y) for y in cities], dtype=np.float64) + 0.5
    sectors = rng.choice(len(SECTORS), size=n, p=np.asarray(SECTOR_WEIGHTS) / sum(SECTOR_WEIGHTS))
    homes = rng.choice(len(cities), size=n, p=per_city / per_city.sum())
    out = []
    for i in range(n):
        sector = SECTORS[int(sectors[i])]
        out.append(
            Tenant(
                id=f"t{i + 1:03d}-{sector}",
                name=f"Tenant {i + 1} ({sector})",
                sector=sector,
                is_sme=sector == "sme" or bool(rng.random() < 0.5),
                home_city=cities[int(homes[i])],
            )
        )
    return out


def tenant_of(
    rng: np.random.Generator, tenants: Sequence[Tenant], stream: str, users: IntArray
) -> npt.NDArray[np.intp]:
    """Tenant index per job: one tenant per trace user (or per job without users), Zipf × sector bias."""
    zipf = 1.0 / np.arange(1, len(tenants) + 1) ** 0.8
    bias = np.array([STREAM_SECTOR_BIAS[stream].get(t.sector, 1.0) for t in tenants])
    p = zipf * bias / (zipf * bias).sum()
    if (users < 0).all():
        out: npt.NDArray[np.intp] = rng.choice(len(tenants), size=len(users), p=p)
        return out
    uniq, inverse = np.unique(users, return_inverse=True)
    per_user = rng.choice(len(tenants), size=len(uniq), p=p)
    mapped: npt.NDArray[np.intp] = per_user[inverse]
    return mapped


def data_centers(snap: NetworkSnapshot) -> dict[tuple[int, int], list[int]]:
    """Candidate data centers per (city index, data-class bit): same city, else same circle, else anywhere."""
    city_of = snap.center_city
    region_of = snap.city_region[city_of]
    out: dict[tuple[int, int], list[int]] = {}
    for y in range(len(snap.city_ids)):
        for bit in DATA_CLASS_BIT.values():
            ok = (snap.data_class_mask & bit) != 0
            for pick in (ok & (city_of == y), ok & (region_of == snap.city_region[y]), ok):
                if pick.any():
                    out[(y, bit)] = np.flatnonzero(pick).tolist()
                    break
            else:
                out[(y, bit)] = []
    return out


def job_rows(
    rng: np.random.Generator,
    stream: str,
    jobs: Templates,
    t: FloatArray,
    tenant_idx: npt.NDArray[np.intp],
    tenants: Sequence[Tenant],
    centers_for: dict[tuple[int, int], list[int]],
    city_idx: dict[str, int],
    snap: NetworkSnapshot,
    deadline_fraction: float,
) -> list[dict[str, Any]]:
    """One workload CSV row per job of a stream (steps 3–5): its tenant, input data (size, center, class),
    the latency SLO of an inference job and, for a ``deadline_fraction`` of the batch jobs, a deadline."""
    n = len(jobs)
    u_class, u_data, u_slo, u_dl = rng.random(n), rng.random(n), rng.random(n), rng.random(n)
    pick = rng.random(n)
    normal = rng.standard_normal(n)
    slack = rng.uniform(2 * 3600.0, 24 * 3600.0, size=n)
    classes = (DataClass.GENERAL, DataClass.IMPORTANT, DataClass.CORE)
    out = []
    for i in range(n):
        tenant = tenants[int(tenant_idx[i])]
        kind = jobs.kind[i]
        p = DATA_CLASS_P["sensitive" if tenant.sector in SENSITIVE_SECTORS else "other"]
        dclass = classes[0] if u_class[i] < p[0] else classes[1] if u_class[i] < p[0] + p[1] else classes[2]
        home = city_idx[tenant.home_city]
        median, sigma = DATA_GB[kind]
        data_gb = 0.0 if u_data[i] < NO_DATA_P else round(median * math.exp(sigma * normal[i]), 3)
        cands = centers_for[(home, DATA_CLASS_BIT[dclass])]
        if not cands:
            dclass, cands = DataClass.GENERAL, centers_for[(home, DATA_CLASS_BIT[DataClass.GENERAL])]
        data_center = snap.center_ids[cands[int(pick[i] * len(cands))]] if data_gb > 0 else ""
        inference = kind == JobKind.INFERENCE
        est = jobs.estimate_s[i]
        out.append(
            {
                "job_id": f"{stream}-{i:06d}",
                "submit_s": round(float(t[i]), 3),
                "duration_s": round(float(jobs.duration_s[i]), 3),
                "cpus": int(jobs.cpus[i]),
                "gpus": int(jobs.gpus[i]),
                "nodes": int(jobs.nodes[i]),
                "estimate_s": "" if math.isnan(est) else round(float(est), 3),
                "tenant": tenant.id,
                "mem_gb": round(float(jobs.mem_gb[i]), 3),
                "accelerator": jobs.accelerator[i],
                "data_gb": data_gb,
                "data_center": data_center,
                "data_class": str(dclass) if data_gb > 0 else str(DataClass.GENERAL),
                "user_city": tenant.home_city if inference else "",
                "latency_slo_ms": (SLO_IN_CITY_MS if u_slo[i] < IN_CITY_SLO_P else SLO_IN_CIRCLE_MS)
                if inference
                else "",
                "deadline_s": round(float(t[i] + jobs.duration_s[i] + slack[i]), 3)
                if not inference and u_dl[i] < deadline_fraction
                else "",
                "priority": 1 if inference else 0,
                "kind": str(kind),
            }
        )
    return out
