"""Attacks on staging (issue #13, deliverable 7): declared outputs that try to leave the job's directory or to
write into another tenant's dataset, inputs of another tenant, and residency of important inputs in placement."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from huanghe.core.errors import InvalidError
from huanghe.data.models import DatasetRow, ProtectionEntryRow
from huanghe.jobs.placing import RESIDENCY_ERROR, residency
from huanghe.jobs.schemas import JobSubmit
from huanghe.jobs.staging_files import StagingError, open_output
from huanghe.jobs.submitting import _check_refs
from huanghe.tenancy import service as tenancy_svc
from huanghe.tenancy.schemas import TenantCreate
from tests import jobs_testnet as net


def test_outputs_must_be_plain_relative_names_and_come_with_a_dataset() -> None:
    ok = JobSubmit(command="true", outputs=["out.txt", "res/a.csv"], output_dataset="res1", tenant="ta")
    assert ok.outputs == ["out.txt", "res/a.csv"]
    for bad in (["../x"], ["/etc/passwd"], ["a/../../b"], ["x\ty"], [""]):
        with pytest.raises(ValidationError) as err:
            JobSubmit(command="true", outputs=bad, output_dataset="res1")
        assert "outputs" in str(err.value)
    with pytest.raises(ValidationError, match="output_dataset"):
        JobSubmit(command="true", outputs=["out.txt"])
    with pytest.raises(ValidationError, match="output_dataset"):
        JobSubmit(command="true", output_dataset="res1")


def test_open_output_follows_no_link_and_reads_only_plain_files(tmp_path: Path) -> None:
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    (work / "out.txt").write_text("result")
    fd = open_output(work, "out.txt")
    assert os.read(fd, 100) == b"result"
    os.close(fd)
    secret = tmp_path / "secret"
    secret.write_text("platform secret")
    (work / "link.txt").symlink_to(secret)
    (work / "dirlink").symlink_to(tmp_path)
    os.link(secret, work / "hard.txt")
    (work / "empty.txt").write_text("")
    for name in ("link.txt", "dirlink/secret", "hard.txt", "sub", "empty.txt", "missing.txt", "../secret"):
        with pytest.raises(StagingError):
            os.close(open_output(work, name))


@pytest.fixture
def sf(tmp_path: Path) -> sessionmaker[Session]:
    from huanghe.store.db import make_session_factory

    url = f"sqlite:///{tmp_path / 'st.db'}"
    net.prepare_db(url, net.topology(net.local(tmp_path / "jn"), net.local(tmp_path / "qd")))
    factory = make_session_factory(url)
    with factory() as s:
        for t in ("ta", "tb"):
            tenancy_svc.create_tenant(s, TenantCreate(id=t, name=t, sector="manufacturing"))
        for ds, tenant, cls, allowed in (("a-in", "ta", "general", []), ("b-in", "tb", "general", []),
                                         ("imp", "ta", "important", ["qd-ai"]), ("imp2", "ta", "important", [])):  # fmt: skip
            s.add(DatasetRow(id=ds, tenant_id=tenant, name=ds, center_id="jn-sc", size_gb=1.0, data_class=cls,
                             temperature="hot", replicas=[], allowed_centers=allowed))  # fmt: skip
        s.commit()
    return factory


def test_another_tenants_datasets_are_unknown_as_inputs_and_outputs(sf: sessionmaker[Session]) -> None:
    with sf() as s:
        _check_refs(s, [JobSubmit(command="true", tenant="ta", datasets=["a-in"], outputs=["o"],
                                  output_dataset="new-ds")], "")  # fmt: skip
        for job, field in (
            (JobSubmit(command="true", tenant="ta", datasets=["b-in"]), "datasets[0]"),
            (JobSubmit(command="true", tenant="ta", outputs=["o"], output_dataset="b-in"), "output_dataset"),
            (JobSubmit(command="true", outputs=["o"], output_dataset="new-ds"), "output_dataset"),
        ):
            with pytest.raises(InvalidError) as err:
                _check_refs(s, [job], "")
            assert [e.path for e in err.value.errors] == [field]
        with pytest.raises(InvalidError) as err:
            _check_refs(s, [JobSubmit(command="true", tenant="ta", outputs=["o"], output_dataset="b-in")], "")
        unknown = err.value.errors[0].message
        with pytest.raises(InvalidError) as err:
            _check_refs(s, [JobSubmit(command="true", tenant="ta", datasets=["zz"])], "")
        # another tenant's dataset is refused in the words of one that does not exist
        assert (unknown, err.value.errors[0].message) == ("unknown dataset 'b-in'", "unknown dataset 'zz'")


def test_important_inputs_restrict_placement_to_their_allowed_centers(sf: sessionmaker[Session]) -> None:
    with sf() as s:
        a, imp, imp2 = (s.get(DatasetRow, d) for d in ("a-in", "imp", "imp2"))
        assert a is not None and imp is not None and imp2 is not None
        assert residency(s, [a]) == {}
        assert residency(s, [a, imp]) == {"allowed_centers": ["jn-sc", "qd-ai"]}
        s.add(ProtectionEntryRow(dataset_id="imp", owner="o", location="jn-sc", allowed_centers=[], purpose="p",
                                 created_s=0.0))  # fmt: skip
        s.flush()
        assert residency(s, [imp]) == {"allowed_centers": ["jn-sc"]}  # the catalog entry wins
        imp2.center_id = "qd-ai"
        assert RESIDENCY_ERROR in residency(s, [imp, imp2])  # no center may hold both


def test_submit_cli_output_options_go_together() -> None:
    from typer.testing import CliRunner

    from huanghe.cli.main import app

    for args in (["--output", "o.txt"], ["--output-dataset", "res"]):
        r = CliRunner().invoke(app, ["submit", *args, "--", "true"])
        assert r.exit_code == 2, r.output
        assert "--output-dataset" in r.output


def test_jobs_show_names_the_data_term() -> None:
    from huanghe.jobs.cli import data_term_text

    assert data_term_text({"bytes": 1_000_000_000, "from": "qd-ai", "transfer_s": 0.84}) == (
        "1.000 GB from qd-ai in 0.8 s (需传输)"
    )
    assert data_term_text({"bytes": 0, "from": None, "transfer_s": 0.0}).startswith("a copy is there")
