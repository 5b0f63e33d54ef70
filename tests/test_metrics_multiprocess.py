"""/metrics with several worker processes (prometheus-client's multiprocess mode), on a real `huanghe up
--workers 2` and a real PostgreSQL: the request counts of both workers are summed whichever worker answers the
scrape, and a hostile client (10,000 distinct paths, every method token the HTTP parser lets through) grows
neither the workers' metric files nor the /metrics output. And in-process, where the ASGI server would pass any
method token (h11 does): the ``method`` label stays within the standard methods."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.mmap_dict import MmapedDict

from huanghe.api.instrumentation import METHODS, OTHER_METHOD
from tests import jobs_server as srv

ROUTE = "/api/v1/centers"
#: Method tokens uvicorn's parser (llhttp) accepts besides the standard ones: each reached the app, and each
#: was a new label value in every worker's file before the method label was bounded.
ODD_METHODS = ("PROPFIND", "PROPPATCH", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "SEARCH", "REPORT", "MERGE",
               "NOTIFY", "SUBSCRIBE", "UNSUBSCRIBE", "PURGE", "MKCALENDAR", "LINK", "UNLINK", "ACL", "BIND")  # fmt: skip
LABELS = re.compile(r'^huanghe_http_requests_total\{method="([^"]*)",route="([^"]*)",status="(\d+)"\} (\S+)$')


@pytest.fixture
def two_workers(tmp_path: Path, fresh_postgres_url: str) -> Iterator[tuple[srv.Server, Path]]:
    server = srv.start(tmp_path, fresh_postgres_url, workers=2)
    try:
        metrics_dir = tmp_path / "data" / "metrics" / str(server.proc.pid)
        assert metrics_dir.is_dir(), f"no multiprocess directory {metrics_dir}"
        yield server, metrics_dir
    finally:
        server.stop()


def _worker_counts(metrics_dir: Path, route: str) -> dict[str, float]:
    """Per worker file (``counter_<pid>.db``): its count of GET ``route`` answered 200."""
    out: dict[str, float] = {}
    for f in sorted(metrics_dir.glob("counter_*.db")):
        total = 0.0
        for key, value, _ts, _pos in MmapedDict.read_all_values_from_file(str(f)):
            _family, name, labels, _help = json.loads(key)
            wanted = {"method": "GET", "route": route, "status": "200"}
            if name == "huanghe_http_requests_total" and labels == wanted:
                total += value
        out[f.stem] = total
    return out


def _file_usage(metrics_dir: Path) -> tuple[dict[str, int], set[str]]:
    """The bytes of each metric file, and the keys (metric, sample, labels) of the HTTP metrics written in any
    of them: a worker's file may still gain a key another worker already had (connections land on either),
    never a new one (the telemetry loop's counters come and go with its ticks: left out)."""
    files = sorted(metrics_dir.glob("*.db"))
    keys = {
        key for f in files for key, *_ in MmapedDict.read_all_values_from_file(str(f))
        if key.startswith('["huanghe_http_')
    }  # fmt: skip
    return {f.name: f.stat().st_size for f in files}, keys


def _series(text: str) -> list[tuple[str, str, str, float]]:
    return [
        (m[1], m[2], m[3], float(m[4])) for line in text.splitlines() if (m := LABELS.match(line))
    ]  # fmt: skip


def test_two_workers_counts_are_summed_whichever_answers(two_workers: tuple[srv.Server, Path]) -> None:
    server, metrics_dir = two_workers
    sent = 0
    lock = threading.Lock()

    def burst() -> None:  # a new connection per request: the kernel hands them to either worker
        nonlocal sent
        for _ in range(20):
            r = httpx.get(server.url + ROUTE, timeout=20)
            assert r.status_code == 200, r.text
            with lock:
                sent += 1

    deadline = time.monotonic() + 60
    while True:
        threads = [threading.Thread(target=burst) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        per_worker = _worker_counts(metrics_dir, ROUTE)
        if len([c for c in per_worker.values() if c > 0]) >= 2:
            break
        assert time.monotonic() < deadline, f"one worker answered every request: {per_worker}"
    while sum(per_worker.values()) < sent:  # a count is written just after the response has gone out
        assert time.monotonic() < deadline + 10, (per_worker, sent)
        time.sleep(0.05)
        per_worker = _worker_counts(metrics_dir, ROUTE)
    assert sum(per_worker.values()) == sent, (per_worker, sent)
    for _ in range(8):  # each scrape on a new connection: both workers answer some of them
        totals = [v for method, route, status, v in _series(httpx.get(server.url + "/metrics", timeout=20).text)
                  if (method, route, status) == ("GET", ROUTE, "200")]  # fmt: skip
        assert totals == [float(sent)], (totals, sent, per_worker)


def _hostile(base: str, paths: list[str], methods: tuple[str, ...]) -> None:
    """Requests to every path of ``paths``, cycling through ``methods``, from 4 keep-alive clients."""

    def client(part: list[str], k: int) -> None:
        with httpx.Client(base_url=base, timeout=30) as c:
            for i, path in enumerate(part):
                r = c.request(methods[(i + k) % len(methods)], path)
                assert r.status_code < 500, (path, r.status_code, r.text[:300])

    threads = [threading.Thread(target=client, args=(paths[k::4], k)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_hostile_paths_and_methods_do_not_grow_metric_files(two_workers: tuple[srv.Server, Path]) -> None:
    server, metrics_dir = two_workers
    kinds = ("/nowhere/{i}", "/api/v1/centers/c-{i}", "/api/v1/no-such/{i}", "/static/x-{i}.js", "/docs/{i}")
    first = [k.format(i=f"a{i}") for i in range(200) for k in kinds]
    _hostile(server.url, first, ("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND"))
    httpx.get(server.url + "/metrics", timeout=30)  # counted once answered: the next scrape shows it
    time.sleep(0.5)
    series = _series(httpx.get(server.url + "/metrics", timeout=30).text)
    time.sleep(0.5)  # the scrape's own count is written just after its response
    usage = _file_usage(metrics_dir)
    second = [k.format(i=f"b{i}") for i in range(2000) for k in kinds]  # 10,000 paths never seen before
    _hostile(server.url, second, ODD_METHODS)
    time.sleep(0.5)
    sizes, keys = _file_usage(metrics_dir)  # before the next scrape, which may land on the other worker
    after = _series(httpx.get(server.url + "/metrics", timeout=30).text)
    assert set(sizes) == set(usage[0]) and sizes == usage[0], (usage[0], sizes)
    assert keys == usage[1], sorted(keys - usage[1])[:10]
    before_sets, after_sets = {s[:3] for s in series}, {s[:3] for s in after}
    assert after_sets == before_sets, sorted(after_sets - before_sets)
    assert {m for m, *_ in after} <= METHODS | {OTHER_METHOD}
    assert sum(v for m, *_, v in after if m == OTHER_METHOD) >= len(second)
    assert len(after) < 60, after  # a handful of routes × methods × statuses


def test_any_method_token_counts_as_other(api_client: TestClient) -> None:
    for i in range(300):
        assert api_client.request(f"X{i}", f"{ROUTE}/c{i}").status_code == 405
    assert api_client.request("propfind", ROUTE).status_code == 405  # lower case: a different token
    series = _series(api_client.get("/metrics").text)
    odd = {s for s in series if s[0] not in METHODS}
    assert odd == {(OTHER_METHOD, f"{ROUTE}/{{item_id}}", "405", 300.0), (OTHER_METHOD, ROUTE, "405", 1.0)}
