"""Domain errors of the services. Each carries path-named problems (:class:`FieldError`); the path is
relative to the input document (``region``, ``centers[3].pools[0].id``), '' when it is about the whole
request. The API maps them to HTTP: NotFound → 404, Conflict → 409, Invalid → 422."""

from __future__ import annotations

from collections.abc import Sequence

from huanghe.catalog.errors import FieldError


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


class ConflictError(ServiceError):
    """The change conflicts with stored data: duplicate id, or the object is still referenced."""


class InvalidError(ServiceError):
    """The input is well-formed but refers to things that do not exist, or breaks a rule."""


def invalid(path: str, message: str) -> InvalidError:
    return InvalidError([FieldError(path, message)])


def conflict(path: str, message: str) -> ConflictError:
    return ConflictError([FieldError(path, message)])
