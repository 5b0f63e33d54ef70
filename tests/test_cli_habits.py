"""`huanghe submit` and `huanghe jobs` fit a Slurm user's habits (issue #12, deliverable 7), against a real
`huanghe up` with authentication on (tokens made by `huanghe admin create-token` and the API):

* `submit` takes the tenant from the token; `--env`, `--time-limit`, `--script`, `--dataset`, `--data-class`;
* `--array 1-5:2` submits one batch, each task with HUANGHE_ARRAY_TASK_ID;
* `jobs wait ID...` exits 0 only if all SUCCEEDED, 1 otherwise or on time-out, 3 unreachable;
* short unique id prefixes everywhere (ambiguous → 1 with the candidates; none → 1; another tenant's jobs
  are not candidates);
* `jobs list` prints whole ids, even in a narrow terminal.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from huanghe.cli.main import app
from huanghe.jobs.submit_cli import parse_array, parse_env, parse_time_limit
from tests import jobs_server as srv
from tests.infra.ports import refused_url


@dataclass
class Env:
    server: srv.Server
    tmp: Path
    tokens: dict[str, str]

    def run(
        self, *args: str, who: str = "ta", timeout: float = 90, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        env = srv.env(self.tmp, HUANGHE_URL=self.server.url, HUANGHE_TOKEN=self.tokens[who], **extra)
        return subprocess.run(
            srv.cli(*args), env=env, capture_output=True, text=True, timeout=timeout, cwd=self.tmp
        )

    def job(self, job_id: str, who: str = "ta") -> dict[str, object]:
        r = httpx.get(f"{self.server.url}/api/v1/jobs/{job_id}", headers=self.h(who), timeout=30)
        assert r.status_code == 200, r.text
        data: dict[str, object] = r.json()
        return data

    def h(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("habits")
    db = f"sqlite:///{tmp / 'habits.db'}"
    r = CliRunner().invoke(app, ["admin", "create-token", "--role", "admin", "--db", db])
    assert r.exit_code == 0, r.output
    admin = r.stdout.strip().splitlines()[0]
    server = srv.start(
        tmp, db, network="shandong-mini", HUANGHE_DEV_MODE="0", HUANGHE_SESSION_SECRET="habits-" + "q" * 40
    )
    try:
        tokens = {"admin": admin}
        with httpx.Client(base_url=f"{server.url}/api/v1", headers={"Authorization": f"Bearer {admin}"}) as c:
            for t in ("ta", "tb"):
                assert c.post("/tenants", json={"id": t, "name": t.upper()}).status_code == 201
                made = c.post("/auth/tokens", json={"name": f"{t}-user", "role": "tenant_user", "tenant": t})
                assert made.status_code == 201, made.text
                tokens[t] = made.json()["token"]
        yield Env(server, tmp, tokens)
    finally:
        server.stop()


def test_parsers() -> None:
    assert parse_array("1-5") == [1, 2, 3, 4, 5]
    assert parse_array("1-10:3") == [1, 4, 7, 10]
    assert parse_array("1,3,5") == [1, 3, 5]
    assert parse_array("0-2,7,1") == [0, 1, 2, 7]
    for bad in ("", "3-1", "1-5:0", "a", "1-20000", "1-5%2"):
        with pytest.raises(ValueError):
            parse_array(bad)
    assert parse_time_limit("90") == 90 and parse_time_limit("30m") == 1800 and parse_time_limit("2h") == 7200
    assert parse_time_limit("1-00:00:00") == 86400 and parse_time_limit("2-12") == 2 * 86400 + 12 * 3600
    assert parse_time_limit("01:30:00") == 5400 and parse_time_limit("5:30") == 330
    for bad in ("0", "5x", "-1", "1:2:3:4", ""):
        with pytest.raises(ValueError):
            parse_time_limit(bad)
    assert parse_env(["A=1", "B=x=y", "C="]) == {"A": "1", "B": "x=y", "C": ""}
    for bad in ("NOEQ", "=1", "1A=2", "A-B=1"):
        with pytest.raises(ValueError):
            parse_env([bad])


def test_submit_takes_the_tenant_from_the_token(world: Env) -> None:
    r = world.run("submit", "--json", "--", "echo", "hi")
    assert r.returncode == 0, r.stderr
    assert world.job(json.loads(r.stdout)["id"])["tenant"] == "ta"
    # another tenant named explicitly: refused by the server, which names the field
    r = world.run("submit", "--tenant", "tb", "--", "echo", "hi")
    assert r.returncode == 1 and "tenant" in r.stderr, r.stderr
    # a platform admin has no tenant: the job has none (as in dev mode without a token)
    r = world.run("submit", "--json", "--", "echo", "hi", who="admin")
    assert r.returncode == 0, r.stderr
    assert world.job(json.loads(r.stdout)["id"], who="admin")["tenant"] is None


def test_env_time_limit_script_and_data_options(world: Env) -> None:
    script = world.tmp / "job.sh"
    script.write_text('echo "A=$A B=$B"\n')
    r = world.run(
        "submit", "--script", str(script), "--env", "A=1", "-e", "B=x=y", "--time-limit", "1-00:00:00",
        "--data-class", "important", "--wait", "--timeout-s", "60",
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "A=1 B=x=y" in r.stdout
    job_id = r.stderr.split("submitted (已提交) ")[1].split()[0]
    spec = world.job(job_id)["spec"]
    assert isinstance(spec, dict)
    assert spec["time_limit_s"] == 86400 and spec["data_class"] == "important"
    assert spec["script"].startswith("echo") and spec["env"] == {"A": "1", "B": "x=y"}
    # an unknown dataset is refused by the server, naming the field
    r = world.run("submit", "--dataset", "no-such-ds", "--", "true")
    assert r.returncode == 1 and "datasets" in r.stderr, r.stderr


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--env", "NOEQ", "--", "true"], "--env"),
        (["--time-limit", "5x", "--", "true"], "--time-limit"),
        (["--array", "3-1", "--", "true"], "--array"),
        (["--data-class", "secret", "--", "true"], "--data-class"),
        (["--script", "/nonexistent/job.sh"], "--script"),
        (["--script", "/etc/hostname", "--", "true"], "--script"),
    ],
)
def test_bad_options_exit_2_naming_the_option(world: Env, args: list[str], option: str) -> None:
    r = world.run("submit", *args)
    assert r.returncode == 2 and option in r.stderr, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr


def test_script_too_large_is_refused_by_the_server_with_the_field(world: Env) -> None:
    big = world.tmp / "big.sh"
    big.write_text("# " + "x" * (300 * 1024) + "\n")
    r = world.run("submit", "--script", str(big))
    assert r.returncode == 1 and "body.script" in r.stderr, r.stderr


def test_array_is_one_batch_with_task_ids_then_wait(world: Env) -> None:
    r = world.run("submit", "--array", "1-5:2", "--name", "sweep", "--idempotency-key", "arr-1", "--",
                  "echo task $HUANGHE_ARRAY_TASK_ID")  # fmt: skip
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert [t for _, t in rows] == ["1", "3", "5"]
    ids = [i for i, _ in rows]
    for job_id, task in rows:
        job = world.job(job_id)
        spec = job["spec"]
        assert isinstance(spec, dict) and spec["env"]["HUANGHE_ARRAY_TASK_ID"] == task
        assert job["name"] == f"sweep_{task}" and job["tenant"] == "ta"
    again = world.run("submit", "--array", "1-5:2", "--name", "sweep", "--idempotency-key", "arr-1", "--",
                      "echo task $HUANGHE_ARRAY_TASK_ID")  # fmt: skip
    assert again.returncode == 0 and again.stdout == r.stdout  # a retry makes no new jobs
    w = world.run("jobs", "wait", *ids, "--timeout-s", "60")
    assert w.returncode == 0, w.stdout + w.stderr
    assert all(f"{i}  SUCCEEDED" in w.stdout for i in ids)
    logs = world.run("jobs", "logs", ids[1])
    assert logs.stdout.strip() == "task 3"


def test_wait_exit_codes(world: Env) -> None:
    ok = json.loads(world.run("submit", "--json", "--", "true").stdout)["id"]
    bad = json.loads(world.run("submit", "--json", "--", "exit 3").stdout)["id"]
    slow = json.loads(world.run("submit", "--json", "--", "sleep 30").stdout)["id"]
    assert world.run("jobs", "wait", ok, "--timeout-s", "60").returncode == 0
    r = world.run("jobs", "wait", ok, bad, "--timeout-s", "60")
    assert r.returncode == 1 and f"{bad}  FAILED" in r.stdout, r.stdout + r.stderr
    r = world.run("jobs", "wait", slow, "--timeout-s", "1")
    assert r.returncode == 1 and "not ended" in r.stderr, r.stderr
    assert world.run("jobs", "cancel", slow).returncode == 0
    with refused_url() as gone:  # bound, not listening: refused, and no other process can take the port
        env = {**srv.env(world.tmp), "HUANGHE_URL": gone}
        r = subprocess.run(srv.cli("jobs", "wait", ok), env=env, capture_output=True, text=True, timeout=60)
        assert r.returncode == 3, r.stderr


def test_short_id_prefixes_everywhere(world: Env) -> None:
    other = json.loads(world.run("submit", "--json", "--", "true").stdout)["id"]
    job_id = json.loads(world.run("submit", "--json", "--", "echo", "prefix").stdout)["id"]
    assert world.run("jobs", "wait", job_id[:-2], "--timeout-s", "60").returncode == 0
    # the unique prefix: the shortest prefix no other job of ta shares
    ids = [
        j["id"]
        for j in httpx.get(f"{world.server.url}/api/v1/jobs?limit=1000", headers=world.h("ta")).json()[
            "items"
        ]
    ]
    n = next(n for n in range(1, 21) if [i for i in ids if i.startswith(job_id[:n])] == [job_id])
    short = job_id[:n]
    for cmd in (["show", "--json"], ["events", "--json"], ["logs"], ["cancel", "--json"], ["wait"]):
        r = world.run("jobs", *cmd, short)
        assert r.returncode == 0, (cmd, r.stderr)
        if "--json" in cmd and cmd[0] != "events":
            assert json.loads(r.stdout)["id"] == job_id
    assert world.run("jobs", "logs", short).stdout == "prefix\n"
    # ambiguous: the common start of two ids (both listed as candidates)
    common = job_id[: next(i for i, (a, b) in enumerate(zip(job_id, other, strict=True)) if a != b)]
    r = world.run("jobs", "show", common)
    assert r.returncode == 1 and "ambiguous" in r.stderr, r.stderr
    assert job_id in r.stderr and other in r.stderr
    # none
    r = world.run("jobs", "show", "jzzzz")
    assert r.returncode == 1 and "job 'jzzzz' not found" in r.stderr, r.stderr
    # another tenant's jobs are not candidates: tb sees no job at all
    r = world.run("jobs", "show", short, who="tb")
    assert r.returncode == 1 and f"job {short!r} not found" in r.stderr, r.stderr
    r = world.run("jobs", "cancel", job_id, who="tb")  # the full id: the server's 404
    assert r.returncode == 1 and "404" in r.stderr


def test_list_prints_whole_ids(world: Env) -> None:
    ids = [
        j["id"]
        for j in httpx.get(f"{world.server.url}/api/v1/jobs?limit=5", headers=world.h("ta")).json()["items"]
    ]
    assert ids
    for columns in ("40", "80"):
        r = world.run("jobs", "list", "--limit", "5", COLUMNS=columns)
        assert r.returncode == 0, r.stderr
        assert all(i in r.stdout for i in ids), r.stdout
    r = world.run("jobs", "list", "--limit", "5", "-q")
    assert r.stdout.split() == ids
