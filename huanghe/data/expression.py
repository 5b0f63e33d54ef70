"""Endpoint-selection expressions of replication rules (after Rucio's RSE expressions), pure and vectorised.

Grammar (whitespace between tokens is ignored; the canonical form has none)::

    expression := term (op term)*            op := "|" (union) | "&" (intersection) | "\\" (difference)
    term       := "(" expression ")" | "*" | key cmp value | name
    cmp        := "=" | "!=" | "<" | "<=" | ">" | ">="

``*`` selects every endpoint, a bare ``name`` the endpoint with that id, ``key=value`` the endpoints whose
attribute equals ``value``. Precedence, as in Rucio: the three set operators have ONE precedence and associate
to the left, so ``a|b&c`` means ``(a|b)&c`` and ``a\\b|c`` means ``(a\\b)|c``; use parentheses for anything
else. ``str(expr)`` prints the canonical form, parenthesising only a right operand that is itself a set
operation, so ``parse(str(e)) == e``.

Attributes (:data:`ATTRIBUTES`): ``id``, ``center``, ``city``, ``circle`` (economic circle), ``tier``
(hot|warm|cold), ``medium``, ``operator`` (network operator), ``security_level`` (int), ``free_bytes``
(bytes), plus the custom keys the caller names. Numeric comparisons need a numeric attribute (a custom
key compares its values that parse as numbers; the others do not match). An empty selection is not an
error here: the rule solver reports it as "0 endpoints match".
"""

from __future__ import annotations

import contextlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from huanghe.core.errors import FieldError, InvalidError

#: Built-in attribute keys of an endpoint.
ATTRIBUTES: frozenset[str] = frozenset(
    {"id", "center", "city", "circle", "tier", "medium", "operator", "security_level", "free_bytes"}
)
#: Built-in attributes holding numbers (``security_level`` an int, ``free_bytes`` in bytes).
NUMERIC_ATTRIBUTES: frozenset[str] = frozenset({"security_level", "free_bytes"})
#: Storage tiers, the only values of ``tier``.
TIERS: tuple[str, ...] = ("hot", "warm", "cold")
#: Comparison operators; the numeric ones need a numeric attribute.
COMPARISONS: tuple[str, ...] = ("=", "!=", "<", "<=", ">", ">=")
SET_OPERATORS: dict[str, str] = {"|": "union", "&": "intersection", "\\": "difference"}

_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPECIAL = frozenset("()|&\\=!<>*")


class ExpressionError(ValueError):
    """An expression that cannot be parsed. ``position``: 0-based offset of the problem in ``expression``;
    ``str()`` is the bilingual message (Chinese; English). Use :meth:`field_error` / :meth:`invalid` for
    a 422 on the field ``expression``."""

    field = "expression"

    def __init__(self, expression: str, position: int, zh: str, en: str) -> None:
        self.expression = expression
        self.position = position
        self.message_zh = zh
        self.message_en = en
        super().__init__(
            f"{zh}（表达式 {expression!r} 偏移 {position}）; {en} (offset {position} of {expression!r})"
        )

    def field_error(self, path: str = "expression") -> FieldError:
        """The error at ``path`` (``expression`` by default) for the API's error body."""
        return FieldError(path, str(self))

    def invalid(self, path: str = "expression") -> InvalidError:
        """The same as an :class:`~huanghe.core.errors.InvalidError` (the API answers 422)."""
        return InvalidError([self.field_error(path)])


@dataclass(frozen=True)
class EndpointTable:
    """Endpoints as columns: ``ids`` (E strings) and one array of E values per attribute key.

    ``columns`` holds the built-in attributes (``security_level``, ``free_bytes`` numeric) and any custom
    ones; a missing value is ``None`` in an object column or NaN in a numeric one and matches nothing.
    ``id`` is always answered from ``ids``."""

    ids: np.ndarray
    columns: Mapping[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = len(self.ids)
        for key, col in self.columns.items():
            if len(col) != n:
                raise ValueError(f"column {key!r} has {len(col)} values for {n} endpoints")

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_records(cls, records: Sequence[Mapping[str, object]]) -> EndpointTable:
        """Build from one mapping per endpoint (``id`` required; other keys become columns)."""
        ids = np.array([str(r["id"]) for r in records], dtype=object)
        keys = sorted({k for r in records for k in r if k != "id"})
        cols: dict[str, np.ndarray] = {}
        for key in keys:
            values = [r.get(key) for r in records]
            if key in NUMERIC_ATTRIBUTES:
                cols[key] = np.array([np.nan if v is None else float(v) for v in values])  # type: ignore[arg-type]
            else:
                cols[key] = np.array(values, dtype=object)
        return cls(ids=ids, columns=cols)

    def column(self, key: str) -> np.ndarray | None:
        """The values of ``key`` (``ids`` for ``id``), None when no endpoint has it."""
        return self.ids if key == "id" else self.columns.get(key)

    def custom_keys(self) -> frozenset[str]:
        """The attribute keys of this table that are not built in."""
        return frozenset(self.columns) - ATTRIBUTES


def _numeric(col: np.ndarray) -> np.ndarray:
    """Float values of a column; values that are no numbers become NaN (they never match)."""
    if col.dtype.kind in "iuf":
        return col.astype(float)
    out = np.full(len(col), np.nan)
    for i, v in enumerate(col):
        with contextlib.suppress(TypeError, ValueError):
            out[i] = float(v)
    return out


class Expression(ABC):
    """A parsed expression; :meth:`select` evaluates it on a table."""

    @abstractmethod
    def select(self, table: EndpointTable) -> np.ndarray:
        """A bool array of ``len(table)``: which endpoints the expression selects."""

    @abstractmethod
    def names(self) -> frozenset[str]:
        """The endpoint ids named bare (the caller may refuse the ones that do not exist)."""


@dataclass(frozen=True)
class All(Expression):
    """``*``: every endpoint."""

    def select(self, table: EndpointTable) -> np.ndarray:
        return np.ones(len(table), dtype=bool)

    def names(self) -> frozenset[str]:
        return frozenset()

    def __str__(self) -> str:
        return "*"


@dataclass(frozen=True)
class Name(Expression):
    """A bare endpoint id."""

    name: str

    def select(self, table: EndpointTable) -> np.ndarray:
        return np.asarray(table.ids == self.name, dtype=bool)

    def names(self) -> frozenset[str]:
        return frozenset({self.name})

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class Compare(Expression):
    """``key op value``; ``number`` is the value as a float for the numeric operators and attributes."""

    key: str
    op: str
    value: str
    number: float | None = None

    def select(self, table: EndpointTable) -> np.ndarray:
        col = table.column(self.key)
        if col is None:
            return np.zeros(len(table), dtype=bool)
        if self.number is not None and (self.op not in ("=", "!=") or col.dtype.kind in "iuf"):
            x = _numeric(col)
            with np.errstate(invalid="ignore"):
                hit = {
                    "=": x == self.number,
                    "!=": x != self.number,
                    "<": x < self.number,
                    "<=": x <= self.number,
                    ">": x > self.number,
                    ">=": x >= self.number,
                }[self.op]
            return np.asarray(hit & ~np.isnan(x), dtype=bool)
        text = np.array([None if v is None else str(v) for v in col], dtype=object)
        present = np.array([v is not None for v in text], dtype=bool)
        eq = np.asarray(text == self.value, dtype=bool)
        return eq if self.op == "=" else present & ~eq

    def names(self) -> frozenset[str]:
        return frozenset()

    def __str__(self) -> str:
        return f"{self.key}{self.op}{self.value}"


@dataclass(frozen=True)
class SetOp(Expression):
    """``left op right`` with ``op`` one of ``|``, ``&``, ``\\``."""

    op: str
    left: Expression
    right: Expression

    def select(self, table: EndpointTable) -> np.ndarray:
        a, b = self.left.select(table), self.right.select(table)
        if self.op == "|":
            return a | b
        if self.op == "&":
            return a & b
        return a & ~b

    def names(self) -> frozenset[str]:
        return self.left.names() | self.right.names()

    def __str__(self) -> str:
        right = f"({self.right})" if isinstance(self.right, SetOp) else str(self.right)
        return f"{self.left}{self.op}{right}"


class _Parser:
    """Recursive descent over the text (one precedence level, left associative)."""

    def __init__(self, text: str, keys: frozenset[str]) -> None:
        self.text = text
        self.keys = keys
        self.pos = 0

    def fail(self, pos: int, zh: str, en: str) -> ExpressionError:
        return ExpressionError(self.text, pos, zh, en)

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def word(self) -> tuple[int, str]:
        """The next run of non-special, non-space characters (may be empty) and where it starts."""
        self.skip()
        start = self.pos
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c.isspace() or c in _SPECIAL:
                break
            self.pos += 1
        return start, self.text[start : self.pos]

    def expression(self, depth: int) -> Expression:
        if depth > 100:
            raise self.fail(self.pos, "括号嵌套过深", "parentheses nested too deeply")
        left = self.term(depth)
        while (c := self.peek()) in SET_OPERATORS:
            self.pos += 1
            left = SetOp(c, left, self.term(depth))
        return left

    def term(self, depth: int) -> Expression:
        c = self.peek()
        at = self.pos
        if c == "(":
            self.pos += 1
            inner = self.expression(depth + 1)
            if self.peek() != ")":
                where = "结尾" if self.pos >= len(self.text) else f"'{self.text[self.pos]}'"
                raise self.fail(self.pos, f"缺少右括号（{where}）", f"missing ')' for '(' at offset {at}")
            self.pos += 1
            return inner
        if c == "*":
            self.pos += 1
            return All()
        if c == "":
            raise self.fail(at, "表达式不完整，缺少一个条件", "incomplete: a term is expected at the end")
        if c in _SPECIAL:
            raise self.fail(
                at, f"意外的 '{c}'，此处应为一个条件", f"unexpected '{c}' where a term is expected"
            )
        start, word = self.word()
        c = self.peek()
        if c in ("=", "!", "<", ">"):
            return self.comparison(start, word)
        return Name(word)

    def comparison(self, start: int, key: str) -> Compare:
        if not _KEY.fullmatch(key):
            raise self.fail(start, f"属性名 '{key}' 无效", f"invalid attribute name {key!r}")
        if key not in self.keys:
            known = ", ".join(sorted(self.keys))
            raise self.fail(start, f"未知属性 '{key}'", f"unknown attribute {key!r} (known: {known})")
        op_at = self.pos
        two = self.text[self.pos : self.pos + 2]
        op = two if two in ("!=", "<=", ">=") else self.text[self.pos]
        if op == "!":
            raise self.fail(op_at, "'!' 后应为 '='", "'!' must be followed by '='")
        self.pos += len(op)
        v_at, value = self.word()
        if not value:
            raise self.fail(v_at, f"'{key}{op}' 后缺少值", f"a value is expected after '{key}{op}'")
        number: float | None = None
        try:
            number = float(value)
            if not np.isfinite(number):
                number = None
        except ValueError:
            number = None
        numeric_op = op not in ("=", "!=")
        if key in ATTRIBUTES and key not in NUMERIC_ATTRIBUTES and numeric_op:
            raise self.fail(
                op_at,
                f"属性 '{key}' 不是数值，不能用 '{op}' 比较",
                f"'{op}' needs a numeric attribute; {key!r} is not",
            )
        if (numeric_op or key in NUMERIC_ATTRIBUTES) and number is None:
            raise self.fail(v_at, f"'{value}' 不是数字", f"{value!r} is not a number (after '{key}{op}')")
        if key == "tier" and value not in TIERS:
            raise self.fail(
                v_at, f"存储层 '{value}' 无效（hot|warm|cold）", f"tier {value!r} is not hot|warm|cold"
            )
        return Compare(key, op, value, number)


def parse(text: str, custom_keys: Iterable[str] = ()) -> Expression:
    """Parse ``text``; ``custom_keys`` are the attribute keys allowed besides :data:`ATTRIBUTES`.

    Raises :class:`ExpressionError` (a ``ValueError``) with the offset of the first problem."""
    if len(text) > 4000:
        raise ExpressionError(
            text[:40] + "…", 4000, "表达式过长（最多 4000 个字符）", "longer than 4000 characters"
        )
    parser = _Parser(text, ATTRIBUTES | frozenset(custom_keys))
    if not text.strip():
        raise parser.fail(0, "表达式为空", "the expression is empty")
    expr = parser.expression(0)
    c = parser.peek()
    if c == ")":
        raise parser.fail(parser.pos, "多余的右括号 ')'", "')' without a matching '('")
    if c:
        raise parser.fail(
            parser.pos, f"意外的 '{c}'，此处应为运算符 | & \\", f"unexpected '{c}' where | & \\ is expected"
        )
    return expr


__all__ = [
    "ATTRIBUTES",
    "COMPARISONS",
    "NUMERIC_ATTRIBUTES",
    "TIERS",
    "All",
    "Compare",
    "EndpointTable",
    "Expression",
    "ExpressionError",
    "Name",
    "SetOp",
    "parse",
]
