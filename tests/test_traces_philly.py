"""Philly (Pollux artifact) loader: real files and bad rows."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from huanghe.sim.traces.philly import load_philly, load_pollux_workload
from huanghe.sim.traces.report import TraceRowError


def test_real_philly_trace() -> None:
    jobs, report = load_philly()
    assert len(jobs) == 82247 and report.dropped == 0
    assert jobs.submit_s.min() == 0.0
    assert 100 < jobs.submit_s.max() / 86400 < 120  # Sept–Dec 2017
    assert jobs.num_gpus.max() == 128
    # gpu_time is duration × GPUs
    assert abs(float((jobs.duration_s * jobs.num_gpus).sum()) - float(jobs.gpu_time_s.sum())) < 1e-6 * float(
        jobs.gpu_time_s.sum()
    )
    order = jobs.order_by_submit()
    assert (jobs.submit_s[order][1:] >= jobs.submit_s[order][:-1]).all()


def test_real_pollux_windows() -> None:
    for n in range(1, 9):
        wl, report = load_pollux_workload(n)
        assert len(wl) == 160 and report.dropped == 0
        assert wl.time_s.max() <= 8 * 3600
    with pytest.raises(ValueError, match=r"1\.\.8"):
        load_pollux_workload(9)


def test_bad_philly_rows(tmp_path: Path) -> None:
    p = tmp_path / "philly.csv.gz"
    body = (
        "timestamp,duration,num_gpus,gpu_time,cluster\n"
        "2017-10-09 07:01:55,66.0,1,66.0,a\n"
        "2017-10-09 07:02:55,66.0,-1,66.0,a\n"
        "yesterday,66.0,1,66.0,a\n"
    )
    with gzip.open(p, "wt") as fh:
        fh.write(body)
    with pytest.raises(TraceRowError) as exc:
        load_philly(p)
    assert (exc.value.line, exc.value.column) == (3, "num_gpus")
    jobs, report = load_philly(p, skip_bad=True)
    assert len(jobs) == 1 and report.dropped == 2
    assert report.dropped_by_reason["num_gpus: must be >= 0"] == 1
