"""docs/topology.md: its example network is valid, and its documented error messages are the real ones."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from huanghe.catalog.topology import dump_topology, dump_topology_json, loads_topology, parse_topology
from huanghe.cli.main import app
from huanghe.core.errors import TopologyError

DOC = Path(__file__).resolve().parent.parent / "docs" / "topology.md"


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


@pytest.fixture()
def example() -> dict[str, Any]:
    data = yaml.safe_load(_blocks("yaml")[0])
    assert isinstance(data, dict)
    return data


def _problems(doc: dict[str, Any]) -> list[str]:
    with pytest.raises(TopologyError) as info:
        parse_topology(doc)
    return [str(e) for e in info.value.errors]


def test_example_is_valid(example: dict[str, Any]) -> None:
    topo = loads_topology(_blocks("yaml")[0])
    assert topo.name == "example"
    assert len(topo.centers) == 3 and len(topo.pools()) == 3 and len(topo.links) == 2
    assert loads_topology(dump_topology(topo)) == topo
    assert parse_topology(example) == topo


def test_negative_gpus(example: dict[str, Any]) -> None:
    example["centers"][0]["pools"][0]["gpus_per_node"] = -1
    assert _problems(example) == ["centers[0].pools[0].gpus_per_node: must be >= 0"]


def test_unknown_city_and_duplicate_ids(example: dict[str, Any]) -> None:
    doc = copy.deepcopy(example)
    doc["centers"][1]["city"] = "atlantis"
    doc["centers"][2]["id"] = "jn-ai"
    problems = _problems(doc)
    assert "centers[1].city: unknown city 'atlantis'" in problems
    assert "centers[0].id: duplicate id 'jn-ai'" in problems
    assert "centers[2].id: duplicate id 'jn-ai'" in problems
    assert "links[1].b: unknown center 'zb-edge'" in problems


def test_enum_required_unknown_field(example: dict[str, Any]) -> None:
    example["centers"][0]["tier"] = "x"
    del example["centers"][0]["operator"]
    example["centers"][0]["foo"] = 1
    assert _problems(example) == [
        "centers[0].tier: must be 'national', 'provincial', 'industry' or 'edge'",
        "centers[0].operator: is required",
        "centers[0].foo: unknown field",
    ]


def test_bad_yaml() -> None:
    with pytest.raises(TopologyError) as info:
        loads_topology("name: x\ncities: [a, b\n")
    (problem,) = info.value.errors
    assert problem.path == "" and "invalid YAML" in problem.message and problem.message.startswith("line ")


def test_documented_cli_error_sample(
    example: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The `text` block of the doc is exactly what `topology validate` prints for the described change."""
    example["centers"][1]["city"] = "atlantis"
    example["centers"][1]["pools"][0]["id"] = "jn-ai-910b"
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(example, allow_unicode=True), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["topology", "validate", "bad.yaml"])
    assert result.exit_code == 1
    assert result.output.strip() == _blocks("text")[0].strip()


def test_json_is_accepted_and_yaml_flow_still_works(example: dict[str, Any]) -> None:
    topo = parse_topology(example)
    assert loads_topology(dump_topology_json(topo)) == topo
    flow = yaml.safe_dump(example, default_flow_style=True, allow_unicode=True)
    assert flow.lstrip().startswith("{")
    assert loads_topology(flow) == topo
    with pytest.raises(TopologyError) as info:
        loads_topology('{"name": "x", "regions": [], "cities": []}')
    assert any(e.path == "regions" for e in info.value.errors)
