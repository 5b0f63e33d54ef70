"""The in-repo FAKE Kubernetes API server (tests.infra.fake_k8s_apiserver) as a session fixture.

It is not Kubernetes: it serves the endpoints the kubernetes back-end uses and runs each Job's command as a
host subprocess. A real cluster is opt-in: ``HUANGHE_K8S_REAL=1`` and ``KUBECONFIG`` (see
tests/test_backend_kubernetes.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.infra.fake_k8s_apiserver import FakeApiServer


@pytest.fixture(scope="session")
def k8s_fake_api() -> Iterator[FakeApiServer]:
    """A FAKE API server on a free loopback port for the session (a thread of the test process)."""
    pytest.importorskip("kubernetes", reason="pip install 'huanghe[k8s]'")
    server = FakeApiServer(port=0, cpus=8, mem_gi=32, gpus=2).start()
    try:
        yield server
    finally:
        server.stop()
