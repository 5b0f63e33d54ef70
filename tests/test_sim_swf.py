"""SWF loader: parsing, gzip, counted drop rules, errors with line numbers, speed on HPC2N."""

from __future__ import annotations

import gzip
import time
from pathlib import Path

import pytest

from huanghe.paths import traces_dir
from huanghe.sim.traces.swf import RLSCHEDULER_RULES, SwfError, load_swf, parse_swf, to_workload

HEADER = "; Version: 2.2\n; MaxNodes: 64\n; MaxProcs: 128\n;\n"
#        id submit wait run alloc cpu mem req_p req_t req_m status user group exe queue part prec think
LINES = [
    "1   0   5  100  4 -1 -1  4  200 -1 1 3 7 -1 1 1 -1 -1",
    "2  10   0   -1  2 -1 -1  2  300 -1 5 3 7 -1 1 1 -1 -1",  # run unknown
    "3  20   0    0  2 -1 -1  2  300 -1 1 4 7 -1 1 1 -1 -1",  # run 0
    "4  30   0   50 -1 -1 -1 -1   -1 -1 1 4 7 -1 1 1 -1 -1",  # no processors
    "5  40   0   60  2 -1 -1  8   -1 -1 1 5 8 -1 1 1 -1 -1",  # no request: estimate = run; procs = max
]


def swf_text() -> str:
    return HEADER + "\n".join(LINES) + "\n"


def test_default_rules_count_every_drop(tmp_path: Path) -> None:
    path = tmp_path / "t.swf"
    path.write_text(swf_text())
    workload, report, trace = load_swf(path)
    assert trace.max_procs == 128 and trace.header["Version"] == "2.2"
    assert report.records == 5 and report.jobs == 2 and report.dropped_total == 3
    assert report.dropped["run time < 0 (unknown) 运行时间未知"] == 1
    assert report.dropped["run time = 0 运行时间为0"] == 1
    assert report.dropped["processors <= 0 处理器数<=0"] == 1
    assert workload.job_id.tolist() == [1, 5]
    assert workload.estimate_s.tolist() == [200.0, 60.0]
    assert workload.procs.tolist() == [4, 8]
    assert workload.user.tolist() == [3, 5] and workload.tenant.tolist() == [7, 8]
    assert any("dropped" in line for line in report.lines())


def test_rlscheduler_rules_keep_unknown_run_times_as_10_s() -> None:
    trace = parse_swf(swf_text())
    workload, report = to_workload(trace, RLSCHEDULER_RULES)
    assert workload.job_id.tolist() == [1, 2, 5]
    assert workload.run_s.tolist() == [100.0, 10.0, 60.0]
    assert report.changed["run time < 0 set to 10 s 运行时间<0改为10秒"] == 1
    assert report.dropped["processors <= 0 处理器数<=0"] == 1


def test_gzip_and_plain_give_the_same_jobs(tmp_path: Path) -> None:
    plain, gz = tmp_path / "a.swf", tmp_path / "a.swf.gz"
    plain.write_text(swf_text())
    gz.write_bytes(gzip.compress(swf_text().encode()))
    a, _, _ = load_swf(plain)
    b, _, _ = load_swf(gz)
    assert a.submit_s.tolist() == b.submit_s.tolist() and a.procs.tolist() == b.procs.tolist()


def test_malformed_line_names_its_line_number() -> None:
    bad = HEADER + LINES[0] + "\n" + LINES[1].replace(" 300 ", " x3 ") + "\n"
    with pytest.raises(SwfError, match=r":6: field 9 \(req_time_s\) is not a number: 'x3'"):
        parse_swf(bad, origin="t.swf")
    short = HEADER + LINES[0] + "\n1 2 3\n"
    with pytest.raises(SwfError, match=r"t.swf:6: expected 18 fields, found 3"):
        parse_swf(short, origin="t.swf")


def test_missing_file() -> None:
    with pytest.raises(SwfError, match="no such file"):
        load_swf("/nonexistent/x.swf")


def test_whole_hpc2n_loads_fast() -> None:
    path = traces_dir() / "pwa-swf" / "HPC2N-2002-2.2-cln.swf.gz"
    if not path.exists():
        pytest.skip("shared traces not available")
    t0 = time.process_time()  # CPU seconds: the bound holds whatever the machine's load
    _, report, trace = load_swf(path)
    cpu = time.process_time() - t0
    assert len(trace) == 202_871 and report.jobs == 202_871 and trace.max_procs == 240
    assert cpu < 2.0
