"""The one registry type: an explicit, ordered table of name → entry (a factory, a class, an object).

Back-ends, placement policies, queue policies, packing policies and CLI modules are each listed in ONE
explicit list in their own module and turned into a :class:`Registry`:

* a duplicate name is an error (:class:`DuplicateNameError`, raised while the list is read);
* an unknown name raises :class:`UnknownNameError`, whose message names the kind and every known name
  (``unknown queue policy 'x'; known: fcfs, sjf, …``).

A registry names its own error classes so that a caller may catch the error of its domain: e.g. the packing
registry raises ``UnknownPackingPolicyError(UnknownNameError, PackingError)``. The error families therefore
share one base (``except UnknownNameError`` or ``except LookupError`` catches every unknown name).

Pure and light (standard library only): the CLI entry point imports it on every start.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")


class DuplicateNameError(ValueError):
    """Two entries of one registry share a name."""


class UnknownNameError(LookupError):
    """A name that is not in a registry; ``kind``, ``name`` and ``known`` say which, where and what exists.

    ``str(error)`` is the message itself (also when a subclass derives from :class:`KeyError`, whose own
    ``str`` would quote it).
    """

    def __init__(self, message: str, *, kind: str = "", name: str = "", known: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.kind = kind
        self.name = name
        self.known = tuple(known)

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown name"


class Registry(Generic[T]):
    """An ordered name → entry table of one ``kind`` (e.g. ``"packing policy"``).

    Reads like a read-only mapping (``reg[name]``, ``name in reg``, iteration over the names in list order,
    ``len``, ``keys``/``values``/``items``) except that :meth:`get` and ``reg[name]`` raise ``unknown_error``
    for a name not registered instead of returning a default. ``kind_zh`` (optional) adds the Chinese name of
    the kind to the unknown-name message.
    """

    def __init__(
        self,
        kind: str,
        entries: Iterable[tuple[str, T]] = (),
        *,
        unknown_error: type[UnknownNameError] = UnknownNameError,
        duplicate_error: type[Exception] = DuplicateNameError,
        kind_zh: str = "",
    ) -> None:
        self.kind = kind
        self.kind_zh = kind_zh
        self.unknown_error = unknown_error
        self.duplicate_error = duplicate_error
        self._entries: dict[str, T] = {}
        for name, entry in entries:
            self.register(name, entry)

    def register(self, name: str, entry: T) -> T:
        """Add ``entry`` under ``name`` (at the end of the order); a name already taken raises
        ``duplicate_error``. Returns ``entry`` (usable as a decorator's body)."""
        if name in self._entries:
            raise self.duplicate_error(f"duplicate {self.kind} name {name!r}: registered twice")
        self._entries[name] = entry
        return entry

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._entries)

    def get(self, name: str) -> T:
        """The entry of ``name``; ``unknown_error`` (an :class:`UnknownNameError`) naming the known ones."""
        try:
            return self._entries[name]
        except KeyError:
            raise self.unknown(name) from None

    def unknown(self, name: str) -> UnknownNameError:
        """The error for an unknown ``name`` (for callers that check names before looking them up)."""
        zh = f" (未知{self.kind_zh})" if self.kind_zh else ""
        known = self.names()
        message = f"unknown {self.kind} {name!r}{zh}; known: {', '.join(known)}"
        return self.unknown_error(message, kind=self.kind, name=name, known=known)

    def __getitem__(self, name: str) -> T:
        return self.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def keys(self) -> list[str]:
        return self.names()

    def values(self) -> list[T]:
        return list(self._entries.values())

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {self.names()!r})"
