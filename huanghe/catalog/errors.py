"""Validation errors that name the path of the bad value, e.g. ``centers[3].pools[0].gpus_per_node``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem at one place of a document."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class TopologyError(ValueError):
    """A topology document is invalid; ``errors`` lists every problem found, each with its path."""

    def __init__(self, errors: Sequence[FieldError], source: str = "") -> None:
        self.errors = list(errors)
        self.source = source
        head = f"{source}: " if source else ""
        super().__init__(head + "; ".join(str(e) for e in self.errors))


def format_loc(loc: Sequence[str | int]) -> str:
    """``("centers", 3, "pools", 0, "nodes")`` → ``centers[3].pools[0].nodes``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


_REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^Input should be greater than or equal to (.+)$"), r"must be >= \1"),
    (re.compile(r"^Input should be greater than (.+)$"), r"must be > \1"),
    (re.compile(r"^Input should be less than or equal to (.+)$"), r"must be <= \1"),
    (re.compile(r"^Input should be less than (.+)$"), r"must be < \1"),
    (re.compile(r"^Field required$"), "is required"),
    (re.compile(r"^Extra inputs are not permitted$"), "unknown field"),
    (re.compile(r"^String should match pattern '(.+)'$"), r"must match \1"),
    (re.compile(r"^Input should be (.+)$"), r"must be \1"),
    (re.compile(r"^Value error, (.+)$"), r"\1"),
]


def humanize(message: str) -> str:
    for pattern, repl in _REWRITES:
        if pattern.match(message):
            return pattern.sub(repl, message)
    return message


def from_validation_error(exc: ValidationError, prefix: Sequence[str | int] = ()) -> list[FieldError]:
    """Turn a Pydantic error into path-named field errors (``loc`` entries of unions are dropped)."""
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = [p for p in (*prefix, *err["loc"]) if isinstance(p, int | str)]
        errors.append(FieldError(format_loc(loc), humanize(str(err["msg"]))))
    return errors
