"""Standard Workload Format (SWF, Parallel Workloads Archive v2.2) loader, gzip or plain.

One SWF record is 18 whitespace-separated numbers; lines starting with ``;`` are header comments
(``; MaxProcs: 240``). Parsing is one numpy call (``np.loadtxt``'s C parser); only when it fails do
we scan line by line to name the first malformed line.

Turning records into jobs follows explicit, counted rules (:class:`SwfRules`): nothing is dropped
silently. By default:
  * processors = max(allocated, requested) (RLScheduler's choice: the job holds at least what it got);
  * the run-time estimate is the requested time, or the run time where the request is missing (-1);
  * records with run time < 0 (unknown), run time = 0, or no processor count are dropped, each counted.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from huanghe.sim.workload import Workload

SWF_FIELDS = (
    "job_id",
    "submit_s",
    "wait_s",
    "run_s",
    "alloc_procs",
    "avg_cpu_s",
    "used_mem_kb",
    "req_procs",
    "req_time_s",
    "req_mem_kb",
    "status",
    "user",
    "group",
    "executable",
    "queue",
    "partition",
    "preceding_job",
    "think_time_s",
)
"""The 18 SWF v2.2 columns, in file order (times in seconds, memory in KB per processor)."""

_COL = {name: i for i, name in enumerate(SWF_FIELDS)}


class SwfError(ValueError):
    """A malformed SWF file; the message names the file and the 1-based line number."""


@dataclass(frozen=True)
class SwfTrace:
    """Raw SWF records: ``records[i, _COL[name]]`` with columns :data:`SWF_FIELDS` (float64)."""

    path: str
    header: dict[str, str]
    records: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.records.shape[0])

    def column(self, name: str) -> npt.NDArray[np.float64]:
        """One column by its :data:`SWF_FIELDS` name."""
        return self.records[:, _COL[name]]

    def header_int(self, key: str) -> int | None:
        """An integer header value such as ``MaxProcs``, or None when absent or not a number."""
        value = self.header.get(key)
        try:
            return int(float(value)) if value is not None else None
        except ValueError:
            return None

    @property
    def max_procs(self) -> int | None:
        """Machine size from the header: ``MaxProcs``, else ``MaxNodes`` (as RLScheduler does)."""
        return self.header_int("MaxProcs") or self.header_int("MaxNodes")


@dataclass(frozen=True)
class SwfRules:
    """How records become jobs.

    ``negative_run_to_s``: None drops records whose run time is < 0 (unknown); a number keeps them with
    that run time (RLScheduler sets them to 10 s). Records with run time = 0 are always dropped (a job
    must run > 0 s). ``estimate_from_raw_run``: where the requested time is -1, RLScheduler copies the
    *raw* run time (possibly -1) before fixing negative run times; default uses the cleaned run time.
    """

    negative_run_to_s: float | None = None
    estimate_from_raw_run: bool = False


RLSCHEDULER_RULES = SwfRules(negative_run_to_s=10.0, estimate_from_raw_run=True)
"""The rules of RLScheduler's ``job.py`` (DIR-LAB/deep-batch-scheduler): run < 0 → 10 s, run = 0 dropped."""


@dataclass(frozen=True)
class LoadReport:
    """What the rules did: records read, jobs kept, and a count per rule (drops and changes)."""

    records: int
    jobs: int
    dropped: dict[str, int] = field(default_factory=dict)
    changed: dict[str, int] = field(default_factory=dict)

    @property
    def dropped_total(self) -> int:
        return sum(self.dropped.values())

    def lines(self) -> list[str]:
        """Human-readable lines: one per non-zero rule."""
        out = [f"records 记录: {self.records}, jobs kept 保留作业: {self.jobs}"]
        out += [f"dropped 丢弃 ({rule}): {n}" for rule, n in self.dropped.items() if n]
        out += [f"changed 修改 ({rule}): {n}" for rule, n in self.changed.items() if n]
        return out


def _read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except FileNotFoundError:
        raise SwfError(f"{path}: no such file") from None
    except (OSError, EOFError) as exc:
        raise SwfError(f"{path}: cannot read: {exc}") from None
    return raw.decode("latin-1")


def _parse_header(text: str) -> dict[str, str]:
    header: dict[str, str] = {}
    for line in text.splitlines():
        s = line.strip()
        if not s:
            continue
        if not s.startswith(";"):
            break
        key, sep, value = s[1:].partition(":")
        if sep and key.strip() and " " not in key.strip():
            header.setdefault(key.strip(), value.strip())
    return header


def _find_bad_line(text: str, origin: str) -> SwfError:
    """Slow path after a parse failure: the first line that is not 18 numbers."""
    for lineno, line in enumerate(text.splitlines(), start=1):
        body = line.split(";", 1)[0].strip()
        if not body:
            continue
        tokens = body.split()
        if len(tokens) != len(SWF_FIELDS):
            return SwfError(
                f"{origin}:{lineno}: expected {len(SWF_FIELDS)} fields, found {len(tokens)}: {line.strip()[:80]!r}"
            )
        for col, tok in enumerate(tokens):
            try:
                float(tok)
            except ValueError:
                return SwfError(
                    f"{origin}:{lineno}: field {col + 1} ({SWF_FIELDS[col]}) is not a number: {tok!r}"
                )
    return SwfError(f"{origin}: cannot parse as SWF")


def parse_swf(text: str, origin: str = "<text>") -> SwfTrace:
    """Parse SWF text. Raises :class:`SwfError` naming the first malformed line."""
    try:
        records = np.loadtxt(io.StringIO(text), comments=";", dtype=np.float64, ndmin=2)
    except ValueError:
        raise _find_bad_line(text, origin) from None
    if records.size == 0:
        records = np.zeros((0, len(SWF_FIELDS)))
    elif records.shape[1] != len(SWF_FIELDS):
        raise _find_bad_line(text, origin)
    return SwfTrace(path=origin, header=_parse_header(text), records=records)


def read_swf(path: str | Path) -> SwfTrace:
    """Read an SWF file (gzip detected by its magic bytes)."""
    p = Path(path)
    return parse_swf(_read_text(p), origin=str(p))


def to_workload(
    trace: SwfTrace, rules: SwfRules | None = None, name: str | None = None
) -> tuple[Workload, LoadReport]:
    """Apply ``rules`` and return the jobs plus the report of every drop and change."""
    rules = rules or SwfRules()
    raw_run = trace.column("run_s")
    run = raw_run.copy()
    req_time = trace.column("req_time_s")
    alloc = trace.column("alloc_procs")
    req_procs = trace.column("req_procs")
    procs = np.maximum(alloc, req_procs)
    submit = trace.column("submit_s")

    changed: dict[str, int] = {}
    dropped: dict[str, int] = {}
    negative = raw_run < 0
    keep = np.ones(len(trace), dtype=bool)
    if rules.negative_run_to_s is None:
        dropped["run time < 0 (unknown) 运行时间未知"] = int(negative.sum())
        keep &= ~negative
    else:
        changed[
            f"run time < 0 set to {rules.negative_run_to_s:g} s 运行时间<0改为{rules.negative_run_to_s:g}秒"
        ] = int(negative.sum())
        run[negative] = rules.negative_run_to_s
    zero = keep & (run == 0)
    dropped["run time = 0 运行时间为0"] = int(zero.sum())
    keep &= ~zero
    no_procs = keep & (procs <= 0)
    dropped["processors <= 0 处理器数<=0"] = int(no_procs.sum())
    keep &= ~no_procs
    bad_submit = keep & (submit < 0)
    dropped["submit time < 0 提交时间<0"] = int(bad_submit.sum())
    keep &= ~bad_submit

    missing_req = req_time <= 0 if not rules.estimate_from_raw_run else req_time == -1
    fallback = raw_run if rules.estimate_from_raw_run else run
    estimate = np.where(missing_req, fallback, req_time)
    changed["estimate = run time (no requested time) 无申请时长,用运行时间"] = int((missing_req & keep).sum())

    idx = np.flatnonzero(keep)
    wl = Workload.from_columns(
        job_id=trace.column("job_id")[idx],
        submit_s=submit[idx],
        run_s=run[idx],
        estimate_s=estimate[idx],
        procs=procs[idx],
        user=trace.column("user")[idx],
        tenant=trace.column("group")[idx],
        name=name or Path(trace.path).name,
    )
    report = LoadReport(records=len(trace), jobs=len(wl), dropped=dropped, changed=changed)
    return wl, report


def load_swf(
    path: str | Path, rules: SwfRules | None = None, name: str | None = None
) -> tuple[Workload, LoadReport, SwfTrace]:
    """Read an SWF file and turn it into a workload: ``(workload, report, raw trace)``."""
    trace = read_swf(path)
    wl, report = to_workload(trace, rules, name=name)
    return wl, report, trace
