"""A FAKE Kubernetes API server — for tests only, NOT Kubernetes.

It implements just the endpoints the kubernetes back-end uses, with the same JSON shapes, so the official
``kubernetes`` client can talk to it: ``GET /version``; create / read / merge-patch / delete a namespaced
``batch/v1`` Job; list pods of a namespace by label selector; read a pod's log; list nodes; list pods of all
namespaces; create and read a namespace; create a service account (a Job in a namespace that does not exist
is refused with 404, as Kubernetes does). There is no scheduler, no image, no container runtime and no authentication: each Job gets one
"pod" whose container command runs as a plain subprocess of this server on the host (the image is
ignored), ``activeDeadlineSeconds`` is enforced by a timer (:meth:`FakeApiServer.exceed_deadline`: pods
deleted, the Job Failed with reason DeadlineExceeded, as the real controller leaves it), and
``spec.suspend: true`` kills the pod, as the real Job controller does. One fake node advertises
``cpu``/``memory``/``nvidia.com/gpu`` from the constructor. Loopback only.

Run by hand: ``python -m tests.infra.fake_k8s_apiserver --port 18080``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _merge(dst: dict[str, Any], patch: dict[str, Any]) -> None:
    """RFC 7386 JSON merge patch, in place."""
    for k, v in patch.items():
        if v is None:
            dst.pop(k, None)
        elif isinstance(v, dict) and isinstance(dst.get(k), dict):
            _merge(dst[k], v)
        else:
            dst[k] = v


class _Pod:
    def __init__(self, job: dict[str, Any], log_dir: Path) -> None:
        meta = job["metadata"]
        self.namespace = meta["namespace"]
        self.name = f"{meta['name']}-{uuid.uuid4().hex[:5]}"
        tmpl = job["spec"]["template"]
        self.labels = {**tmpl.get("metadata", {}).get("labels", {}), "job-name": meta["name"]}
        self.spec = tmpl["spec"]
        self.log = log_dir / f"{self.name}.log"
        self.phase = "Pending"
        self.exit_code: int | None = None
        self.started: str | None = None
        self.finished: str | None = None
        self.reason = ""
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        c = self.spec["containers"][0]
        argv = [*c.get("command", []), *c.get("args", [])]
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env.update({e["name"]: e.get("value", "") for e in c.get("env", []) or []})
        cwd = c.get("workingDir")
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd if cwd and Path(cwd).is_dir() else None,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.phase, self.started = "Running", _now()

    def kill(self, reason: str) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.reason = reason
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def to_json(self) -> dict[str, Any]:
        c = self.spec["containers"][0]
        if self.phase == "Pending":
            state: dict[str, Any] = {"waiting": {"reason": "ContainerCreating"}}
        elif self.exit_code is None:
            state = {"running": {"startedAt": self.started}}
        else:
            state = {
                "terminated": {
                    "exitCode": self.exit_code,
                    "reason": self.reason or ("Completed" if self.exit_code == 0 else "Error"),
                    "startedAt": self.started,
                    "finishedAt": self.finished,
                }
            }
        return {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": self.labels,
                "creationTimestamp": self.started or _now(),
            },
            "spec": self.spec,
            "status": {
                "phase": self.phase,
                "startTime": self.started,
                "containerStatuses": [
                    {
                        "name": c["name"],
                        "image": c.get("image", ""),
                        "imageID": "",
                        "ready": self.phase == "Running",
                        "restartCount": 0,
                        "state": state,
                    }
                ],
            },
        }


class FakeApiServer:
    """The FAKE API server's state and HTTP front; ``start()`` serves on 127.0.0.1 in a thread."""

    def __init__(self, port: int = 0, cpus: int = 8, mem_gi: int = 32, gpus: int = 0) -> None:
        self.jobs: dict[tuple[str, str], dict[str, Any]] = {}
        self.pods: dict[tuple[str, str], _Pod] = {}
        self.namespaces: dict[str, dict[str, Any]] = {"default": {"metadata": {"name": "default"}}}
        self.service_accounts: dict[tuple[str, str], dict[str, Any]] = {}
        self.lock = threading.RLock()
        self.node = {"cpu": str(cpus), "memory": f"{mem_gi}Gi", "nvidia.com/gpu": str(gpus), "pods": "110"}
        self.log_dir = Path(tempfile.mkdtemp(prefix="hh-k8sfake-"))
        handler = type("Handler", (_Handler,), {"api": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._threads: list[threading.Thread] = []
        #: set: a Job creation is done (the Job exists) but not answered until ``answer_creates`` is set, as an
        #: API server that stops answering mid-request
        self.stall_job_creates = threading.Event()
        self.answer_creates = threading.Event()

    def start(self) -> FakeApiServer:
        t = threading.Thread(target=self.httpd.serve_forever, name="k8s-fake-apiserver", daemon=True)
        t.start()
        self._threads.append(t)
        return self

    def stop(self) -> None:
        self.answer_creates.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        with self.lock:
            for pod in self.pods.values():
                pod.kill("Shutdown")
                if pod.proc is not None:
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        pod.proc.wait(timeout=5)
        shutil.rmtree(self.log_dir, ignore_errors=True)

    # -- job controller (fake) ---------------------------------------------------------------------
    def create_job(self, ns: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        meta = body.setdefault("metadata", {})
        if not meta.get("name"):
            meta["name"] = meta.get("generateName", "job-") + uuid.uuid4().hex[:5]
        key = (ns, meta["name"])
        with self.lock:
            if ns not in self.namespaces:
                return 404, _status(404, "NotFound", f'namespaces "{ns}" not found')
            if key in self.jobs:
                return 409, _status(409, "AlreadyExists", f'jobs.batch "{meta["name"]}" already exists')
            meta.update(namespace=ns, uid=str(uuid.uuid4()), creationTimestamp=_now(), resourceVersion="1")
            body.setdefault("apiVersion", "batch/v1")
            body.setdefault("kind", "Job")
            body["status"] = {"startTime": _now(), "active": 1}
            self.jobs[key] = body
            pod = _Pod(body, self.log_dir)
            self.pods[(ns, pod.name)] = pod
            pod.start()
        t = threading.Thread(target=self._watch, args=(key, pod), daemon=True)
        t.start()
        return 201, body

    def _watch(self, key: tuple[str, str], pod: _Pod) -> None:
        assert pod.proc is not None
        deadline_s = self.jobs[key]["spec"].get("activeDeadlineSeconds")
        try:
            rc = pod.proc.wait(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.exceed_deadline(*key)
            rc = pod.proc.wait()
        with self.lock:
            pod.exit_code = rc if rc >= 0 else 128 - rc
            pod.finished = _now()
            pod.phase = "Succeeded" if rc == 0 else "Failed"
            job = self.jobs.get(key)
            if job is None or job["status"].get("conditions"):
                return  # gone, or the controller's verdict came first (deadline)
            status = job["status"]
            status.pop("active", None)
            if job["spec"].get("suspend"):
                cond = {"type": "Suspended", "status": "True", "reason": "JobSuspended"}
            elif rc == 0:
                cond = {"type": "Complete", "status": "True", "reason": "Completed"}
                status["succeeded"], status["completionTime"] = 1, _now()
            else:
                cond = {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded"}
                status["failed"] = 1
            cond["lastTransitionTime"] = _now()
            status["conditions"] = [cond]

    def exceed_deadline(self, ns: str, name: str) -> None:
        """What the Job controller does at ``activeDeadlineSeconds`` (called by the timer, or by a test to force
        it): the Job's pods are killed and deleted (no exit code left to read), the Job gets the condition Failed
        with reason DeadlineExceeded."""
        with self.lock:
            job = self.jobs.get((ns, name))
            if job is None or job["status"].get("conditions"):
                return
            for pod in self._pods_of(ns, name):
                pod.kill("DeadlineExceeded")
                self.pods.pop((ns, pod.name), None)
            status = job["status"]
            status.pop("active", None)
            status["failed"] = 1
            status["conditions"] = [
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "DeadlineExceeded",
                    "lastTransitionTime": _now(),
                }
            ]

    def patch_job(self, ns: str, name: str, patch: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            job = self.jobs.get((ns, name))
            if job is None:
                return 404, _status(404, "NotFound", f'jobs.batch "{name}" not found')
            _merge(job, patch)
            if job["spec"].get("suspend"):
                for pod in self._pods_of(ns, name):
                    pod.kill("Suspended")
            return 200, job

    def delete_job(self, ns: str, name: str) -> tuple[int, dict[str, Any]]:
        with self.lock:
            job = self.jobs.pop((ns, name), None)
            if job is None:
                return 404, _status(404, "NotFound", f'jobs.batch "{name}" not found')
            for pod in self._pods_of(ns, name):
                pod.kill("Deleted")
                self.pods.pop((ns, pod.name), None)
            return 200, _status(200, "", "deleted", status="Success")

    def _pods_of(self, ns: str, job: str) -> list[_Pod]:
        return [p for (pns, _), p in self.pods.items() if pns == ns and p.labels.get("job-name") == job]

    def list_pods(self, ns: str | None, selector: str, field_selector: str) -> dict[str, Any]:
        wanted = dict(part.split("=", 1) for part in selector.split(",") if "=" in part)
        phase = re.search(r"status\.phase=(\w+)", field_selector or "")
        with self.lock:
            items = [
                p.to_json()
                for (pns, _), p in self.pods.items()
                if (ns is None or pns == ns)
                and all(p.labels.get(k) == v for k, v in wanted.items())
                and (phase is None or p.phase == phase.group(1))
            ]
        return {"apiVersion": "v1", "kind": "PodList", "metadata": {"resourceVersion": "1"}, "items": items}

    def node_list(self) -> dict[str, Any]:
        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {"name": "fake-node-0", "labels": {"kubernetes.io/hostname": "fake-node-0"}},
            "status": {
                "capacity": self.node,
                "allocatable": self.node,
                "conditions": [{"type": "Ready", "status": "True"}],
            },
        }
        return {"apiVersion": "v1", "kind": "NodeList", "metadata": {}, "items": [node]}


def _create_named(
    store: dict[Any, dict[str, Any]], key: Any, kind: str, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """Create a namespace or service account ``body`` under ``key``: 201, or 409 when it exists."""
    if key in store:
        return 409, _status(409, "AlreadyExists", f'{kind} "{body["metadata"]["name"]}" already exists')
    body.setdefault("metadata", {}).update(uid=str(uuid.uuid4()), creationTimestamp=_now())
    store[key] = body
    return 201, body


def _status(code: int, reason: str, message: str, status: str = "Failure") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Status",
        "metadata": {},
        "status": status,
        "message": message,
        "reason": reason,
        "code": code,
    }


_VERSION = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.0-huanghe-FAKE",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-01-01T00:00:00Z",
    "goVersion": "none",
    "compiler": "none",
    "platform": "linux/amd64",
}

_JOB = re.compile(r"^/apis/batch/v1/namespaces/([^/]+)/jobs(?:/([^/]+))?(/status)?$")
_PODS = re.compile(r"^/api/v1/namespaces/([^/]+)/pods$")
_LOG = re.compile(r"^/api/v1/namespaces/([^/]+)/pods/([^/]+)/log$")
_NS = re.compile(r"^/api/v1/namespaces(?:/([^/]+))?$")
_SA = re.compile(r"^/api/v1/namespaces/([^/]+)/serviceaccounts$")


class _Handler(BaseHTTPRequestHandler):
    api: FakeApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _send(self, code: int, body: dict[str, Any] | str) -> None:
        raw = (body if isinstance(body, str) else json.dumps(body)).encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain" if isinstance(body, str) else "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _body(self) -> dict[str, Any]:
        n = int(self.headers.get("Content-Length") or 0)
        data: dict[str, Any] = json.loads(self.rfile.read(n) or b"{}")
        return data

    def do_GET(self) -> None:
        url = urlparse(self.path)
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        api = self.api
        if url.path.rstrip("/") == "/version":
            return self._send(200, _VERSION)
        if url.path == "/api/v1/nodes":
            return self._send(200, api.node_list())
        if url.path == "/api/v1/pods":
            return self._send(
                200, api.list_pods(None, q.get("labelSelector", ""), q.get("fieldSelector", ""))
            )
        if m := _JOB.match(url.path):
            ns, name, _ = m.groups()
            with api.lock:
                job = api.jobs.get((ns, name or ""))
                if job is None:
                    return self._send(404, _status(404, "NotFound", f'jobs.batch "{name}" not found'))
                return self._send(200, job)
        if (m := _NS.match(url.path)) and m.group(1):
            with api.lock:
                ns = api.namespaces.get(m.group(1))
            if ns is None:
                return self._send(404, _status(404, "NotFound", f'namespaces "{m.group(1)}" not found'))
            return self._send(200, ns)
        if m := _PODS.match(url.path):
            return self._send(
                200, api.list_pods(m.group(1), q.get("labelSelector", ""), q.get("fieldSelector", ""))
            )
        if m := _LOG.match(url.path):
            pod = api.pods.get((m.group(1), m.group(2)))
            if pod is None:
                return self._send(404, _status(404, "NotFound", f'pods "{m.group(2)}" not found'))
            if pod.phase == "Pending":
                msg = (
                    f'container "{pod.spec["containers"][0]["name"]}" is waiting to start: ContainerCreating'
                )
                return self._send(400, _status(400, "BadRequest", msg))
            return self._send(200, pod.log.read_bytes().decode(errors="replace"))
        return self._send(404, _status(404, "NotFound", f"the FAKE API server has no {url.path}"))

    def do_POST(self) -> None:
        path = urlparse(self.path).path
        m = _JOB.match(path)
        if m and not m.group(2):
            code, body = self.api.create_job(m.group(1), self._body())
            if self.api.stall_job_creates.is_set():
                self.api.answer_creates.wait(60)
            return self._send(code, body)
        api = self.api
        if (m := _NS.match(path)) and not m.group(1):
            body = {**self._body(), "apiVersion": "v1", "kind": "Namespace"}
            with api.lock:
                return self._send(
                    *_create_named(api.namespaces, body["metadata"]["name"], "namespaces", body)
                )
        if m := _SA.match(path):
            body = {**self._body(), "apiVersion": "v1", "kind": "ServiceAccount"}
            body["metadata"]["namespace"] = ns = m.group(1)
            with api.lock:
                if ns not in api.namespaces:
                    return self._send(404, _status(404, "NotFound", f'namespaces "{ns}" not found'))
                key = (ns, body["metadata"]["name"])
                return self._send(*_create_named(api.service_accounts, key, "serviceaccounts", body))
        return self._send(404, _status(404, "NotFound", "not implemented by the FAKE API server"))

    def do_PATCH(self) -> None:
        m = _JOB.match(urlparse(self.path).path)
        if m and m.group(2):
            code, body = self.api.patch_job(m.group(1), m.group(2), self._body())
            return self._send(code, body)
        return self._send(404, _status(404, "NotFound", "not implemented by the FAKE API server"))

    def do_DELETE(self) -> None:
        m = _JOB.match(urlparse(self.path).path)
        if m and m.group(2):
            self._body()
            code, body = self.api.delete_job(m.group(1), m.group(2))
            return self._send(code, body)
        return self._send(404, _status(404, "NotFound", "not implemented by the FAKE API server"))


def main() -> None:
    parser = argparse.ArgumentParser(description="FAKE Kubernetes API server (tests only, not Kubernetes)")
    parser.add_argument("--port", type=int, default=18080)
    args = parser.parse_args()
    server = FakeApiServer(args.port).start()
    print(f"FAKE Kubernetes API server on {server.url} (Ctrl-C stops)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
