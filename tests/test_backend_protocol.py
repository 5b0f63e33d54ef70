"""Protocol, registry, settings, capabilities and the fake back-end (pure, no daemons)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from huanghe.backends import registry
from huanghe.backends.fake import FakeBackend, interpret
from huanghe.backends.protocol import (
    Backend,
    BackendConfigError,
    BackendJobSpec,
    Capabilities,
    Capability,
    CapabilityMissingError,
    exit_code_from_wait_status,
    require,
    wait_terminal,
)
from huanghe.backends.slurm import SlurmBackend, map_state
from huanghe.core.clock import FakeClock
from huanghe.domain.enums import JobKind, JobState
from huanghe.domain.jobs import JobSpec


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def now_s(self) -> float:
        return self.t


def test_registry_lists_every_backend_once_and_rejects_duplicates() -> None:
    assert registry.backend_names() == ["local", "fake", "simulated", "slurm", "ray", "kubernetes"]
    with pytest.raises(registry.DuplicateBackendError, match="fake"):
        registry.build_registry([("fake", "a:b"), ("fake", "c:d")])


def test_unknown_backend_and_unknown_setting_name_the_problem() -> None:
    with pytest.raises(BackendConfigError, match="nomad"):
        registry.create_backend("nomad", {})
    with pytest.raises(BackendConfigError, match="durration_s"):
        registry.create_backend("fake", {"durration_s": "1"})
    with pytest.raises(BackendConfigError, match="duration_s"):
        registry.create_backend("fake", {"duration_s": "soon"})
    with pytest.raises(BackendConfigError, match="cli"):
        registry.create_backend("slurm", {"cli": "sometimes"})
    with pytest.raises(BackendConfigError, match="token"):
        registry.create_backend("slurm", {"rest_url": "http://127.0.0.1:1", "user": "u"})


def test_every_backend_class_satisfies_the_protocol() -> None:
    fake = registry.create_backend("fake", {})
    assert isinstance(fake, Backend)
    assert isinstance(SlurmBackend({"cli": "only"}), Backend)


def test_import_huanghe_does_not_import_optional_sdks() -> None:
    code = (
        "import sys, huanghe, huanghe.backends.registry, huanghe.backends.protocol;"
        "from huanghe.backends.registry import create_backend; create_backend('fake', {});"
        "bad = [m for m in ('ray', 'kubernetes') if m in sys.modules]; print(bad); assert not bad"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr


def test_missing_kubernetes_sdk_gives_install_hint() -> None:
    code = (
        "import sys; sys.modules['kubernetes'] = None\n"
        "from huanghe.backends.registry import create_backend\n"
        "from huanghe.backends.protocol import BackendUnavailableError\n"
        "try:\n    create_backend('kubernetes', {'host': 'http://127.0.0.1:1'})\n"
        "except BackendUnavailableError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "pip install 'huanghe[k8s]'" in out.stdout, out.stderr


def test_capabilities_must_account_for_everything_with_reasons() -> None:
    with pytest.raises(ValueError, match="neither supported nor missing"):
        Capabilities(supported=frozenset({Capability.GPUS}))
    with pytest.raises(ValueError, match="without a reason"):
        Capabilities(supported=frozenset(set(Capability) - {Capability.GPUS}), missing={Capability.GPUS: " "})
    local = registry.create_backend("local", {"root": "/tmp/unused-hh"})
    with pytest.raises(CapabilityMissingError, match="GPU"):
        require(local, "gpus")
    require(local, Capability.CANCEL_RUNNING)  # supported: no error
    with pytest.raises(CapabilityMissingError, match="gpus"):
        local.submit(BackendJobSpec(command="true", gpus=1))


def test_spec_validation_and_conversion() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        BackendJobSpec(command="a", script="b")
    with pytest.raises(ValueError, match="exactly one"):
        BackendJobSpec()
    with pytest.raises(ValueError, match="time_limit_s"):
        BackendJobSpec(command="a", time_limit_s=0)
    spec = BackendJobSpec.from_job_spec(
        JobSpec(kind=JobKind.CPU, command="echo x", cpus=2.5, mem_gb=3), "j1", time_limit_s=60.0
    )
    assert (spec.cpus, spec.whole_cpus, spec.mem_gb, spec.time_limit_s) == (2.5, 3, 3, 60.0)
    assert spec.shell_script == "#!/bin/sh\necho x\n"
    assert BackendJobSpec(script="echo y").shell_script.startswith("#!/bin/sh\n")


def test_exit_codes_and_slurm_state_mapping() -> None:
    assert exit_code_from_wait_status(768) == 3
    assert exit_code_from_wait_status(15) == 143
    assert exit_code_from_wait_status(0) == 0
    assert map_state("PENDING") is JobState.DISPATCHED
    assert map_state(["COMPLETED"]) is JobState.SUCCEEDED
    assert map_state("CANCELLED by 0") is JobState.CANCELLED
    assert map_state("TIMEOUT") is JobState.FAILED
    assert map_state("PREEMPTED") is JobState.PREEMPTED


def test_slurm_payload_is_version_aware() -> None:
    spec = BackendJobSpec(name="p", command="true", env={"A": "1"}, mem_gb=2, time_limit_s=90)
    common = {"rest_url": "http://127.0.0.1:1", "user": "u", "token": "t", "workdir": "/tmp"}
    old = SlurmBackend({**common, "api_version": "v0.0.38"})._rest_payload(spec)["job"]
    new = SlurmBackend({**common, "api_version": "v0.0.40"})._rest_payload(spec)["job"]
    assert old["environment"]["A"] == "1" and old["time_limit"] == 2 and old["memory_per_node"] == 2048
    assert "A=1" in new["environment"]
    assert new["time_limit"] == {"set": True, "infinite": False, "number": 2}


def test_fake_is_deterministic_on_an_injected_clock() -> None:
    clock = Clock()
    b = FakeBackend({"queue_s": "5", "fail_every": "3"}, clock=clock)
    ids = [b.submit(BackendJobSpec(command="sleep 10; echo done")) for _ in range(3)]
    assert b.status(ids[0]).state is JobState.DISPATCHED
    clock.t += 6
    assert b.status(ids[0]).state is JobState.RUNNING
    assert b.capacity().cpus_free == b.capacity().cpus_total - 3
    b.cancel(ids[1])
    clock.t += 10
    assert b.status(ids[0]) == b.status(ids[0])
    st0, st1, st2 = (b.status(i) for i in ids)
    assert (st0.state, st0.exit_code, st0.started_at, st0.ended_at) == (JobState.SUCCEEDED, 0, 1005.0, 1015.0)
    assert st1.state is JobState.CANCELLED
    assert st2.state is JobState.FAILED and st2.exit_code == 1  # every 3rd job fails
    assert b.logs(ids[0]) == "done\n"
    assert b.logs(ids[0], offset=2) == "ne\n"
    b.healthy = False
    assert not b.health().ok


def test_fake_interpreter_and_time_limit() -> None:
    assert interpret("echo a && echo 'b c'; exit 4; echo never", 1.0) == (1.0, 4, "a\nb c\n")
    assert interpret("sleep 2; sleep 0.5", 1.0)[0] == 2.5
    clock = Clock()
    b = FakeBackend({}, clock=clock)
    job = b.submit(BackendJobSpec(command="sleep 100", time_limit_s=10))
    clock.t += 11
    st = b.status(job)
    assert st.state is JobState.FAILED and st.exit_code == 124


def test_wait_terminal_times_out_on_a_fake_clock() -> None:
    clock = Clock()
    b = FakeBackend({}, clock=clock)
    job = b.submit(BackendJobSpec(command="sleep 1000"))
    waited = FakeClock()
    with pytest.raises(TimeoutError, match="RUNNING"):
        wait_terminal(b, job, 5, sleep=waited.advance, clock=waited)


def test_docs_list_every_settings_key_and_capability() -> None:
    import importlib

    from huanghe.paths import PROJECT_ROOT

    doc = (PROJECT_ROOT / "docs" / "backends.md").read_text()
    for name, target in registry.BACKENDS:
        module = importlib.import_module(target.split(":")[0])
        section = doc.split(f"### `{name}`", 1)[1].split("\n### ", 1)[0]
        for key in module.SETTINGS:
            assert f"`{key}`" in section, f"docs/backends.md: {name} setting {key} undocumented"
    for cap in Capability:
        assert f"| `{cap.value}` |" in doc
