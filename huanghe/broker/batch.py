"""A batch of jobs as arrays (J jobs), indexed against one :class:`NetworkSnapshot`.

Conventions (units in names): ``cpus`` / ``gpus`` / ``mem_gb`` are **per node**; ``nodes`` is the gang size;
``duration_s`` is the run time on the reference device of the job's kind; ``data_gb`` the input to read;
``latency_slo_ms`` one-way from the user's city (NaN = none); ``max_price_cny_per_hour`` the most the whole job
may cost per hour (inf = no cap); ``deadline_s`` seconds after submit (NaN = none).

Input data sources: ``data_center`` is the data's home center (residency of core data is decided by it);
``data_sources`` (J × S center indices, -1 = none, S ≥ 0) lists the centers holding a complete copy of the
job's input (the data services' replicas). A row with sources moves its data from the nearest of them
(:func:`huanghe.broker.estimates.transfer_s`); a row without any moves it from ``data_center``. Batches built
without sources have S = 0 and cost nothing more.

A job targeting an offering of the product catalog carries its pool in ``target_pool`` (pool index, -1 =
none); the ``offering`` filter (:func:`huanghe.broker.filters.offering_pool`) removes every other pool.

Data residency (Data Security Law classes), resolved here into ``allowed_centers`` (J × C):

* general data: every center;
* important data: centers whose ``allowed_data_classes`` include important, restricted to the job's explicit
  allowed set when one is given;
* core data: centers that allow core **and** are in the job's allowed set; without an explicit set the allowed
  set is the data's own center (core data never leaves home); with neither, any center allowing core.

Inference jobs with a user city and no SLO get :data:`DEFAULT_INFERENCE_SLO_MS` (the in-circle target).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from huanghe.broker.snapshot import DATA_CLASS_BIT, KIND_INDEX, NetworkSnapshot
from huanghe.catalog.geo import CITY_LATENCY_TARGET_MS, REGION_LATENCY_TARGET_MS
from huanghe.domain import usage
from huanghe.domain.enums import DataClass, JobKind
from huanghe.domain.jobs import JobSpec

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Latency SLO classes, one-way ms: a user in the same city, in the same economic circle.
SLO_IN_CITY_MS = CITY_LATENCY_TARGET_MS
SLO_IN_CIRCLE_MS = REGION_LATENCY_TARGET_MS
#: SLO given to an inference job that names a user city but no SLO.
DEFAULT_INFERENCE_SLO_MS = SLO_IN_CIRCLE_MS


class JobInputError(ValueError):
    """A job refers to something the snapshot does not know; the message names the job and field."""


@dataclass(frozen=True, eq=False)
class JobBatch:
    """J jobs as read-only arrays; see the module docstring for units and rules."""

    job_ids: tuple[str, ...]
    kind: IntArray  # (J,) index into snapshot.KINDS
    cpus: FloatArray
    gpus: FloatArray
    mem_gb: FloatArray
    nodes: IntArray
    accelerator: npt.NDArray[np.str_]  # lower-case model or class, '' for any
    duration_s: FloatArray
    submit_s: FloatArray
    data_gb: FloatArray
    data_center: IntArray  # -1 = no input data location
    data_class_bit: IntArray  # DATA_CLASS_BIT of the job's data
    allowed_centers: BoolArray  # (J, C)
    user_city: IntArray  # -1 = none
    latency_slo_ms: FloatArray  # NaN = none
    max_price_cny_per_hour: FloatArray  # inf = no cap
    deadline_s: FloatArray  # NaN = none
    spread_ok: BoolArray  # the gang may span pools of one center
    data_sources: IntArray = field(default_factory=lambda: _NO_SOURCES)  # (J, S) centers with a full copy
    #: (J,) the pool a job is pinned to (the offering it targets), -1 = none
    target_pool: IntArray = field(default_factory=lambda: _NO_TARGET)

    def __post_init__(self) -> None:
        if self.data_sources.ndim != 2 or self.data_sources.shape[0] != len(self.job_ids):
            if self.data_sources.size:
                raise ValueError("data_sources must be a (jobs, sources) matrix of center indices")
            object.__setattr__(self, "data_sources", np.full((len(self.job_ids), 0), -1, dtype=np.int64))
        if self.target_pool.shape != (len(self.job_ids),):
            if self.target_pool.size:
                raise ValueError("target_pool must hold one pool index (or -1) per job")
            object.__setattr__(self, "target_pool", np.full(len(self.job_ids), -1, dtype=np.int64))
        for name, value in vars(self).items():
            if isinstance(value, np.ndarray) and value.flags.writeable:
                value = value.copy()
                value.setflags(write=False)
                object.__setattr__(self, name, value)

    def __len__(self) -> int:
        return len(self.job_ids)

    @classmethod
    def from_specs(
        cls,
        snap: NetworkSnapshot,
        specs: Sequence[JobSpec],
        job_ids: Sequence[str] | None = None,
        submit_s: Sequence[float] | None = None,
        allowed_centers: Sequence[Sequence[str] | None] | None = None,
        spread_ok: Sequence[bool] | None = None,
    ) -> JobBatch:
        """Build from domain :class:`JobSpec` values (``allowed_centers``: explicit residency sets by id)."""
        records: list[dict[str, Any]] = []
        for j, s in enumerate(specs):
            rec: dict[str, Any] = s.model_dump()
            rec["job_id"] = job_ids[j] if job_ids is not None else str(j)
            rec["submit_s"] = submit_s[j] if submit_s is not None else snap.t_s
            rec["allowed_centers"] = allowed_centers[j] if allowed_centers is not None else None
            rec["spread_ok"] = spread_ok[j] if spread_ok is not None else False
            records.append(rec)
        return cls.from_records(snap, records)

    @classmethod
    def from_arrays(cls, snap: NetworkSnapshot, n: int, **columns: Any) -> JobBatch:
        """Fast path for many jobs: columns as arrays (field names of this class, indices already resolved:
        ``kind`` as indices into ``snapshot.KINDS``, ``data_center`` / ``user_city`` as indices or -1).
        Missing columns take their defaults (1 core, 1 node, no data, general data everywhere, no SLO, no
        cap, no deadline). No residency rules are applied: pass ``allowed_centers`` (J × C) when data is
        not general."""
        defaults: dict[str, Any] = {
            "kind": 0,
            "cpus": 1.0,
            "gpus": 0.0,
            "mem_gb": 0.0,
            "nodes": 1,
            "duration_s": 0.0,
            "submit_s": snap.t_s,
            "data_gb": 0.0,
            "data_center": -1,
            "data_class_bit": DATA_CLASS_BIT[DataClass.GENERAL],
            "user_city": -1,
            "latency_slo_ms": math.nan,
            "max_price_cny_per_hour": math.inf,
            "deadline_s": math.nan,
            "spread_ok": False,
        }
        unknown = (
            set(columns)
            - set(defaults)
            - {"job_ids", "accelerator", "allowed_centers", "data_sources", "target_pool"}
        )
        if unknown:
            raise TypeError(f"unknown JobBatch columns: {sorted(unknown)}")
        arrays: dict[str, Any] = {}
        for name, default in defaults.items():
            dtype = np.bool_ if name == "spread_ok" else np.int64 if name in _INT_COLUMNS else np.float64
            value = columns.get(name, default)
            arrays[name] = np.broadcast_to(np.asarray(value, dtype=dtype), (n,))
        acc = columns.get("accelerator", "")
        arrays["accelerator"] = np.broadcast_to(np.char.lower(np.asarray(acc, dtype=np.str_)), (n,))
        ids = columns.get("job_ids")
        arrays["job_ids"] = tuple(str(i) for i in ids) if ids is not None else tuple(str(i) for i in range(n))
        allowed = columns.get("allowed_centers")
        # no residency rules: one all-true row seen J times (a zero-stride view: no J x C bytes held)
        arrays["allowed_centers"] = (
            np.asarray(allowed, dtype=np.bool_)
            if allowed is not None
            else np.broadcast_to(np.ones(snap.n_centers, np.bool_), (n, snap.n_centers))
        )
        sources = columns.get("data_sources")
        if sources is not None:
            arrays["data_sources"] = np.asarray(sources, dtype=np.int64).reshape(n, -1)
        target = columns.get("target_pool")
        if target is not None:
            arrays["target_pool"] = np.broadcast_to(np.asarray(target, dtype=np.int64), (n,)).copy()
        return cls(**arrays)

    @classmethod
    def from_records(cls, snap: NetworkSnapshot, records: Sequence[Mapping[str, Any]]) -> JobBatch:
        """Build from plain mappings with the :class:`JobSpec` field names (plus ``job_id``, ``submit_s``,
        ``allowed_centers`` (a list of center ids), ``spread_ok``); missing fields take the JobSpec defaults,
        except ``kind``, which is ``gpu`` when the job asks for GPUs and ``cpu`` otherwise (docs/workload.md).
        ``data_sources``: ids of the centers holding a complete copy of the input (optional);
        ``target_pool``: the pool of the offering the job targets (optional, the ``offering`` filter).
        Raises :class:`JobInputError` for an unknown center, city or pool id."""
        n_c = snap.n_centers
        c_index = {cid: i for i, cid in enumerate(snap.center_ids)}
        y_index = {yid: i for i, yid in enumerate(snap.city_ids)}
        allowed = np.zeros((len(records), n_c), dtype=np.bool_)
        cols: dict[str, list[Any]] = {k: [] for k in _COLUMNS}
        sources: list[list[int]] = []
        # pool ids → index only when a record is pinned (the scheduler validates jobs one record at a time)
        pinned = any(r.get("target_pool") for r in records)
        p_index = {pid: i for i, pid in enumerate(snap.pool_ids)} if pinned else {}
        target = np.full(len(records), -1, dtype=np.int64)
        for j, r in enumerate(records):
            jid = str(r.get("job_id", j))
            kind = JobKind(r.get("kind") or (JobKind.GPU if _num(r.get("gpus"), 0.0) > 0 else JobKind.CPU))
            dcls = DataClass(r.get("data_class") or DataClass.GENERAL)
            dc = _lookup(c_index, r.get("data_center"), jid, "data_center")
            city = _lookup(y_index, r.get("user_city"), jid, "user_city")
            slo = _num(r.get("latency_slo_ms"), math.nan)
            if math.isnan(slo) and kind == JobKind.INFERENCE and city >= 0:
                slo = DEFAULT_INFERENCE_SLO_MS
            allowed[j] = _allowed_row(snap, dcls, dc, r.get("allowed_centers"), c_index, jid)
            sources.append([_lookup(c_index, c, jid, "data_sources") for c in r.get("data_sources") or ()])
            target[j] = _lookup(p_index, r.get("target_pool"), jid, "target_pool")
            values = {
                "job_ids": jid,
                "kind": KIND_INDEX[kind],
                "cpus": _num(r.get("cpus"), 1.0),
                "gpus": _num(r.get("gpus"), 0.0),
                "mem_gb": _num(r.get("mem_gb"), 0.0),
                "nodes": int(_num(r.get("nodes"), 1.0)),
                "accelerator": str(r.get("accelerator") or "").strip().lower(),
                "duration_s": _num(r.get("duration_s"), 0.0),
                "submit_s": _num(r.get("submit_s"), snap.t_s),
                "data_gb": _num(r.get("data_gb"), 0.0),
                "data_center": dc,
                "data_class_bit": DATA_CLASS_BIT[dcls],
                "user_city": city,
                "latency_slo_ms": slo,
                "max_price_cny_per_hour": _num(r.get("max_price_cny_per_hour"), math.inf),
                "deadline_s": _num(r.get("deadline_s"), math.nan),
                "spread_ok": bool(r.get("spread_ok", False)),
            }
            for k, v in values.items():
                cols[k].append(v)
        dtypes = {"job_ids": None, "accelerator": np.str_, "spread_ok": np.bool_}
        arrays: dict[str, Any] = {}
        for k, v in cols.items():
            if k == "job_ids":
                arrays[k] = tuple(v)
            else:
                arrays[k] = np.array(
                    v, dtype=dtypes.get(k) or (np.int64 if k in _INT_COLUMNS else np.float64)
                )
        width = max((len(x) for x in sources), default=0)
        src = np.full((len(records), width), -1, dtype=np.int64)
        for j, x in enumerate(sources):
            src[j, : len(x)] = x
        return cls(allowed_centers=allowed, data_sources=src, target_pool=target, **arrays)


#: No input sources (S = 0); replaced by a (J, 0) matrix in ``__post_init__``.
_NO_SOURCES: IntArray = np.zeros((0, 0), dtype=np.int64)
#: No pinned pool; replaced by a (J,) vector of -1 in ``__post_init__``.
_NO_TARGET: IntArray = np.zeros(0, dtype=np.int64)

_INT_COLUMNS = frozenset({"kind", "nodes", "data_center", "data_class_bit", "user_city"})
_COLUMNS = (
    "job_ids",
    "kind",
    "cpus",
    "gpus",
    "mem_gb",
    "nodes",
    "accelerator",
    "duration_s",
    "submit_s",
    "data_gb",
    "data_center",
    "data_class_bit",
    "user_city",
    "latency_slo_ms",
    "max_price_cny_per_hour",
    "deadline_s",
    "spread_ok",
)


def _allowed_row(
    snap: NetworkSnapshot,
    dcls: DataClass,
    data_center: int,
    explicit: Sequence[str] | None,
    c_index: Mapping[str, int],
    job_id: str,
) -> BoolArray:
    """Centers where a job's data of class ``dcls`` may be used (module docstring rules)."""
    if dcls == DataClass.GENERAL:
        return np.ones(snap.n_centers, dtype=np.bool_)
    row: BoolArray = (snap.data_class_mask & DATA_CLASS_BIT[dcls]) != 0
    keep_idx: list[int] | None = None
    if explicit:
        keep_idx = [_lookup(c_index, c, job_id, "allowed_centers") for c in explicit]
    elif dcls == DataClass.CORE and data_center >= 0:
        keep_idx = [data_center]
    if keep_idx is not None:
        keep = np.zeros(snap.n_centers, dtype=np.bool_)
        keep[keep_idx] = True
        row = row & keep
    return row


def _num(value: Any, default: float) -> float:
    if value is None or value == "":
        return default
    out = float(value)
    return default if math.isnan(out) else out


def _lookup(index: Mapping[str, int], key: Any, job_id: str, field: str) -> int:
    if key is None or key == "":
        return -1
    try:
        return index[str(key)]
    except KeyError:
        raise JobInputError(f"job {job_id}: {field}={key!r} is not in the network") from None


def node_share(jobs: JobBatch, snap: NetworkSnapshot) -> FloatArray:
    """(J, P) share of one node each job uses per node: the largest of its CPU, GPU and memory fractions,
    at most 1; ``inf`` where a per-node request exceeds the pool's node (it cannot fit)."""
    out: FloatArray = usage.node_share(  # the formula metering bills with (huanghe.domain.usage)
        jobs.cpus[:, None], jobs.gpus[:, None], jobs.mem_gb[:, None],
        snap.cpus_per_node[None, :], snap.gpus_per_node[None, :], snap.mem_gb_per_node[None, :],
    )  # fmt: skip
    return np.broadcast_to(out, (len(jobs), snap.n_pools)).astype(np.float64)
