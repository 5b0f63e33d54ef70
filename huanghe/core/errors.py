"""The one error hierarchy of Huanghe.

* :class:`FieldError`: one problem at one path of an input document (``centers[3].pools[0].gpus_per_node``).
* :class:`TopologyError`: a topology document is invalid (every problem with its path).
* :class:`ServiceError` and its subclasses, raised by the domain services; the path is relative to the
  input document, '' when it is about the whole request. The API maps them to HTTP in one place
  (:mod:`huanghe.api.errors`): NotFound → 404, Forbidden → 403, Conflict → 409, Invalid → 422.
"""

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


class ServiceError(Exception):
    """Base class; ``errors`` lists the problems, each with its path."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class NotFoundError(ServiceError):
    """The addressed object does not exist."""

    def __init__(self, kind: str, ident: str | int, message: str | None = None) -> None:
        super().__init__([FieldError("", message or f"{kind} {ident!r} not found")])
        self.kind = kind
        self.ident = ident


class ForbiddenError(ServiceError):
    """The caller may not do this: its role may not take the step, or a limit (quota) refuses it."""


class ConflictError(ServiceError):
    """The change conflicts with stored data: duplicate id, or the object is still referenced."""


class InvalidError(ServiceError):
    """The input is well-formed but refers to things that do not exist, or breaks a rule."""


def invalid(path: str, message: str) -> InvalidError:
    return InvalidError([FieldError(path, message)])


def conflict(path: str, message: str) -> ConflictError:
    return ConflictError([FieldError(path, message)])
