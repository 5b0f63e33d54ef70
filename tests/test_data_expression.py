"""Endpoint-selection expressions of replication rules (Rucio's RSE-expression checklist, in our network's terms)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from pydantic import BaseModel, ValidationError, field_validator

from huanghe.core.errors import InvalidError
from huanghe.data.expression import (
    All,
    Compare,
    EndpointTable,
    Expression,
    ExpressionError,
    Name,
    SetOp,
    parse,
)

RECORDS: list[dict[str, object]] = [
    {"id": "jn-hot", "center": "jn1", "city": "jinan", "circle": "jinan", "tier": "hot", "security_level": 3},
    {
        "id": "jn-cold",
        "center": "jn1",
        "city": "jinan",
        "circle": "jinan",
        "tier": "cold",
        "security_level": 3,
    },
    {
        "id": "qd-hot",
        "center": "qd1",
        "city": "qingdao",
        "circle": "jiaodong",
        "tier": "hot",
        "security_level": 2,
    },
    {
        "id": "qd-cold",
        "center": "qd1",
        "city": "qingdao",
        "circle": "jiaodong",
        "tier": "cold",
        "security_level": 2,
    },
    {
        "id": "yt-cold",
        "center": "yt1",
        "city": "yantai",
        "circle": "jiaodong",
        "tier": "cold",
        "security_level": 1,
    },
    {"id": "lc-warm", "center": "lc1", "city": "liaocheng", "circle": "west", "tier": "warm", "rack": "r7"},
]
TABLE = EndpointTable.from_records(RECORDS)


def chosen(text: str, table: EndpointTable = TABLE) -> set[str]:
    return set(np.asarray(table.ids)[parse(text, table.custom_keys()).select(table)].tolist())


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("jn-hot|", 7, "incomplete"),  # Rucio test_unconnected_operator
        ("jn-hot)", 6, "without a matching '('"),  # Rucio test_wrong_parentheses
        ("(jn-hot|qd-hot", 14, "missing ')'"),
        ("city=jinan&&tier=cold", 11, "unexpected '&'"),
        ("city<3", 4, "needs a numeric attribute"),
        ("tier>=2", 4, "needs a numeric attribute"),
        ("security_level>high", 15, "not a number"),
        ("security_level=high", 15, "not a number"),
        ("colour=red", 0, "unknown attribute 'colour'"),
        ("tier=lukewarm", 5, "not hot|warm|cold"),
        ("city=", 5, "a value is expected"),
        ("city!jinan", 4, "'!' must be followed by '='"),
        ("jn-hot qd-hot", 7, "where | & \\ is expected"),
        ("", 0, "empty"),
        ("   ", 0, "empty"),
        ("|jn-hot", 0, "where a term is expected"),
        ("()", 1, "where a term is expected"),
        ("*(jn-hot)", 1, "unexpected '('"),
    ],
)
def test_syntax_errors_name_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(ExpressionError) as info:
        parse(text)
    err = info.value
    assert isinstance(err, ValueError)
    assert err.position == position, str(err)
    assert fragment in str(err)
    assert err.message_zh and err.message_zh in str(err)  # bilingual: Chinese first, then English
    assert err.field_error().path == "expression"


def test_error_becomes_a_422_on_the_field_expression() -> None:
    with pytest.raises(ExpressionError) as info:
        parse("city=jinan|")
    invalid = info.value.invalid()
    assert isinstance(invalid, InvalidError)  # the API maps InvalidError to 422
    assert invalid.errors[0].path == "expression"

    class Body(BaseModel):
        expression: str

        @field_validator("expression")
        @classmethod
        def _check(cls, v: str) -> str:
            parse(v)
            return v

    with pytest.raises(ValidationError) as verr:
        Body(expression="tier=lukewarm")
    assert verr.value.errors()[0]["loc"] == ("expression",)
    assert "hot|warm|cold" in str(verr.value)


def test_terms_names_star_and_attributes() -> None:
    assert chosen("*") == {r["id"] for r in RECORDS}  # Rucio test_all_rse
    assert chosen("jn-hot") == {"jn-hot"}  # a bare name is one endpoint id
    assert chosen("id=qd-cold") == {"qd-cold"}
    assert chosen("center=qd1") == {"qd-hot", "qd-cold"}
    assert chosen("circle=jinan&tier=cold") == {"jn-cold"}
    assert chosen("city=qingdao|city=yantai") == {"qd-hot", "qd-cold", "yt-cold"}
    assert chosen("*\\center=jn1") == {"qd-hot", "qd-cold", "yt-cold", "lc-warm"}
    assert chosen("tier!=cold") == {"jn-hot", "qd-hot", "lc-warm"}
    assert chosen("(city=jinan)") == {"jn-hot", "jn-cold"}  # Rucio test_parentheses
    assert chosen("(((((tier=hot)))))") == {"jn-hot", "qd-hot"}


def test_set_operators() -> None:
    assert chosen("tier=hot|tier=warm") == {"jn-hot", "qd-hot", "lc-warm"}  # union
    assert chosen("circle=jiaodong&tier=cold") == {"qd-cold", "yt-cold"}  # intersection
    assert chosen("circle=jiaodong\\yt-cold") == {"qd-hot", "qd-cold"}  # difference (Rucio complement)
    assert chosen("(*)&city=yantai") == {"yt-cold"}  # Rucio complicated_expression_3


def test_precedence_is_one_level_left_associative_like_rucio() -> None:
    # a|b&c is (a|b)&c, not a|(b&c)
    assert chosen("jn-hot|qd-hot&tier=hot") == chosen("(jn-hot|qd-hot)&tier=hot") == {"jn-hot", "qd-hot"}
    assert chosen("jn-cold|qd-hot&tier=hot") == {"qd-hot"}
    assert chosen("jn-cold|(qd-hot&tier=hot)") == {"jn-cold", "qd-hot"}
    # Rucio test_order_of_operations: a\b|c is (a\b)|c; a\(b|c) differs
    assert chosen("circle=jiaodong\\qd-cold|city=jinan") == {"qd-hot", "yt-cold", "jn-hot", "jn-cold"}
    assert chosen("circle=jiaodong\\(qd-cold|city=jinan)") == {"qd-hot", "yt-cold"}
    # Rucio complicated_expression_1 shape (A|B)\B|B&A: (((A|B)\B)|B)&A; "& binds tighter" would add jn-cold
    assert chosen("(tier=hot|city=jinan)\\city=jinan|city=jinan&tier=hot") == {"jn-hot", "qd-hot"}
    assert chosen("tier=hot\\city=jinan|city=jinan&tier=cold") == {"jn-cold"}
    tree = parse("a|b&c\\d")
    assert isinstance(tree, SetOp) and tree.op == "\\"
    assert isinstance(tree.left, SetOp) and tree.left.op == "&"


def test_numeric_comparisons() -> None:
    assert chosen("security_level>=3") == {"jn-hot", "jn-cold"}
    assert chosen("security_level>2") == {"jn-hot", "jn-cold"}
    assert chosen("security_level<2") == {"yt-cold"}
    assert chosen("security_level<=2") == {"qd-hot", "qd-cold", "yt-cold"}
    assert chosen("security_level=2") == {"qd-hot", "qd-cold"}
    assert chosen("security_level!=2") == {"jn-hot", "jn-cold", "yt-cold"}  # lc-warm has none: no match
    assert chosen("security_level>9") == set()  # an empty result is not an error
    free = EndpointTable(np.array(["a", "b"], dtype=object), {"free_bytes": np.array([5e12, 1e9])})
    assert chosen("free_bytes>=1e12", free) == {"a"}


def test_custom_keys_must_be_declared_and_missing_values_match_nothing() -> None:
    with pytest.raises(ExpressionError, match="unknown attribute 'rack'"):
        parse("rack=r7")
    assert chosen("rack=r7") == {"lc-warm"}  # the table declares it
    assert chosen("rack!=r7") == set()  # endpoints without the attribute never match
    levels = EndpointTable(
        np.array(["a", "b", "c"], dtype=object), {"floor": np.array(["3", "x", None], dtype=object)}
    )
    assert chosen("floor>=2", levels) == {"a"}  # values that are no numbers do not match


def test_names_lists_bare_endpoint_ids() -> None:
    assert parse("(jn-hot|qd-hot)\\tier=cold&*").names() == {"jn-hot", "qd-hot"}
    assert parse("no-such-endpoint").select(TABLE).sum() == 0  # the caller refuses it with names()


def test_whitespace_is_ignored_and_canonical_form_has_none() -> None:
    assert str(parse(" ( city = jinan | city=yantai ) & tier = cold ")) == "city=jinan|city=yantai&tier=cold"
    assert str(parse("a|(b|c)")) == "a|(b|c)"
    assert str(parse("(a|b)|c")) == "a|b|c"


def _random_expression(rng: random.Random, depth: int) -> Expression:
    if depth == 0 or rng.random() < 0.3:
        kind = rng.randrange(4)
        if kind == 0:
            return All()
        if kind == 1:
            return Name(rng.choice([str(r["id"]) for r in RECORDS]))
        if kind == 2:
            key, value = rng.choice(
                [("city", "jinan"), ("tier", "cold"), ("circle", "jiaodong"), ("rack", "r7")]
            )
            return Compare(key, rng.choice(["=", "!="]), value)
        n = rng.randrange(4)
        return Compare("security_level", rng.choice(["=", "!=", "<", "<=", ">", ">="]), str(n), float(n))
    return SetOp(rng.choice("|&\\"), _random_expression(rng, depth - 1), _random_expression(rng, depth - 1))


def test_canonical_form_round_trips() -> None:
    rng = random.Random(13)
    for _ in range(400):
        expr = _random_expression(rng, 4)
        text = str(expr)
        again = parse(text, {"rack"})
        assert again == expr, text
        assert str(again) == text
        assert np.array_equal(again.select(TABLE), expr.select(TABLE))


def test_too_long_or_too_deep_is_refused() -> None:
    with pytest.raises(ExpressionError, match="longer than 4000"):
        parse("a|" * 2001 + "a")
    with pytest.raises(ExpressionError, match="nested too deeply"):
        parse("(" * 150 + "a" + ")" * 150)
