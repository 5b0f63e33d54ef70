"""One Registry type for back-ends, placement policies, queue policies, packing policies and CLI modules; one
UnknownNameError family; one Clock; one fair-share implementation."""

from __future__ import annotations

import pytest

from huanghe.backends import registry as backend_registry
from huanghe.backends.protocol import BackendConfigError
from huanghe.broker import engine, packing, queue
from huanghe.broker.fairshare import DominantShares
from huanghe.cli import registry as cli_registry
from huanghe.core.clock import Clock, FakeClock, WallClock
from huanghe.core.registry import DuplicateNameError, Registry, UnknownNameError


def test_registry_keeps_order_and_rejects_duplicates() -> None:
    reg: Registry[int] = Registry("thing", [("b", 2), ("a", 1)])
    assert reg.names() == ["b", "a"] == list(reg) == reg.keys()
    assert reg.register("c", 3) == 3
    assert reg.items() == [("b", 2), ("a", 1), ("c", 3)]
    assert reg.values() == [2, 1, 3]
    assert reg.get("a") == reg["a"] == 1
    assert "c" in reg and "z" not in reg and len(reg) == 3
    with pytest.raises(DuplicateNameError, match="duplicate thing name 'a'"):
        reg.register("a", 9)
    assert reg.get("a") == 1


def test_unknown_name_names_the_kind_and_the_known_ones() -> None:
    reg: Registry[int] = Registry("thing", [("b", 2), ("a", 1)], kind_zh="东西")
    with pytest.raises(UnknownNameError) as info:
        reg.get("x")
    err = info.value
    assert str(err) == "unknown thing 'x' (未知东西); known: b, a"
    assert (err.kind, err.name, err.known) == ("thing", "x", ("b", "a"))
    assert isinstance(err, LookupError)


def test_every_registry_is_one_type_with_one_error_family() -> None:
    cases: list[tuple[Registry[object], type[Exception]]] = [
        (backend_registry.REGISTRY, BackendConfigError),  # type: ignore[list-item]
        (engine.POLICY_REGISTRY, KeyError),  # type: ignore[list-item]
        (queue.POLICIES, KeyError),  # type: ignore[list-item]
        (packing.POLICIES, packing.PackingError),  # type: ignore[list-item]
        (cli_registry.MODULES, LookupError),  # type: ignore[list-item]
    ]
    kinds = set()
    for reg, domain_error in cases:
        assert isinstance(reg, Registry)
        kinds.add(reg.kind)
        with pytest.raises(UnknownNameError) as info:
            reg.get("no-such-name")
        assert isinstance(info.value, domain_error)
        assert f"unknown {reg.kind} 'no-such-name'" in str(info.value)  # str() is the message, not a repr
        assert reg.names()[0] in str(info.value)
    assert len(kinds) == len(cases)


def test_domain_specific_errors_keep_their_old_bases() -> None:
    with pytest.raises(BackendConfigError, match="nomad"):
        backend_registry.create_backend("nomad")
    with pytest.raises(KeyError):
        engine.make_policy("nope")
    with pytest.raises(KeyError):
        queue.get_policy("nope")
    with pytest.raises(packing.UnknownPackingPolicyError):
        packing.make_policy("nope", packing.PolicyContext(packing.Cluster.from_lists([1], [1], [0], [""])))
    with pytest.raises(packing.PackingError, match="duplicate"):
        packing.build_registry([("a", packing.POLICIES["random"])] * 2)
    with pytest.raises(DuplicateNameError):
        queue.build_registry([*queue.POLICY_LIST, queue.POLICY_LIST[0]])


def test_run_cycle_rejects_a_name_with_the_same_error() -> None:
    from huanghe.broker.cycle import run_cycle
    from huanghe.broker.decision import UnknownPlacementPolicyError

    with pytest.raises(UnknownPlacementPolicyError, match="known: huanghe"):
        run_cycle("earliest-start", None, None)  # type: ignore[arg-type]


def test_clocks() -> None:
    fake = FakeClock(10.0)
    fake.advance(5)
    assert fake.now_s() == 15.0
    fake.set(1.5)
    assert fake.now_s() == 1.5
    assert isinstance(fake, Clock) and isinstance(WallClock(), Clock)
    assert WallClock().now_s() > 1.6e9


def test_dominant_shares_as_a_vector_and_fractional_remainders() -> None:
    d = DominantShares([10.0, 4.0])
    d.add(0, (5.0, 1.0))
    d.add(2, (1.0, 3.0))
    assert d.vector(3).tolist() == [0.5, 0.0, 0.75]
    assert d.vector(1).tolist() == [0.5]
    d.remove(2, (1.0, 3.0))
    assert d.vector(3).tolist() == [0.5, 0.0, 0.0] and 2 not in d.shares
    # a remainder of fractional amounts is kept as summed (the simulator's shares are bit-identical)
    d.add(1, (0.1, 0.0))
    d.add(1, (0.2, 0.0))
    d.remove(1, (0.1, 0.0))
    d.remove(1, (0.2, 0.0))
    assert d.share(1) == ((0.1 + 0.2) - 0.1 - 0.2) / 10.0
