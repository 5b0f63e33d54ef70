"""Small CSV helpers shared by the CSV trace loaders: open plain or gzip text, check the header,
and parse typed cells with errors that name the line and the column."""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TextIO, TypeVar

from huanghe.sim.traces.report import LoadReport, TraceFileError, TraceRowError

T = TypeVar("T")


def open_text(path: str | Path) -> TextIO:
    """Open ``path`` for reading text; ``*.gz`` is decompressed. Missing file → :class:`TraceFileError`."""
    p = Path(path)
    if not p.is_file():
        raise TraceFileError(f"{p}: no such file")
    if p.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(p, "rb"), encoding="utf-8", newline="")
    return p.open("r", encoding="utf-8", newline="")


def read_rows(
    path: str | Path, required: Sequence[str], known: Sequence[str] | None = None
) -> tuple[list[str], Iterator[tuple[int, dict[str, str] | TraceRowError]]]:
    """Read a CSV with a header. Returns the header and an iterator of ``(line_number, row)``; a row
    with the wrong number of fields comes as a :class:`TraceRowError` instead of a dict.

    Blank lines are skipped (they are not rows). A missing required column, or (when ``known`` is
    given) an unknown column, raises :class:`TraceFileError`.
    """
    fh = open_text(path)
    reader = csv.reader(fh)
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        fh.close()
        raise TraceFileError(f"{path}: empty file, expected a header line") from None
    problems: list[str] = []
    missing = [c for c in required if c not in header]
    if missing:
        problems.append(f"missing column(s) {', '.join(missing)}")
    if known is not None:
        unknown = [c for c in header if c not in known]
        if unknown:
            problems.append(f"unknown column(s) {', '.join(unknown)}")
    dupes = sorted({c for c in header if header.count(c) > 1})
    if dupes:
        problems.append(f"duplicate column(s) {', '.join(dupes)}")
    if problems:
        fh.close()
        raise TraceFileError(f"{path}: line 1: {'; '.join(problems)}")

    def rows() -> Iterator[tuple[int, dict[str, str] | TraceRowError]]:
        with fh:
            for fields in reader:
                line = reader.line_num
                if not fields or all(not f.strip() for f in fields):
                    continue
                if len(fields) != len(header):
                    yield (
                        line,
                        TraceRowError(line, "*", f"expected {len(header)} fields, found {len(fields)}"),
                    )
                    continue
                yield line, {h: f.strip() for h, f in zip(header, fields, strict=True)}

    return header, rows()


def load_rows(
    path: str | Path,
    required: Sequence[str],
    parse: Callable[[int, dict[str, str]], T],
    *,
    skip_bad: bool = False,
    known: Sequence[str] | None = None,
) -> tuple[list[T], LoadReport, list[str]]:
    """Parse every row of a CSV with ``parse(line, row)``.

    A :class:`TraceRowError` from a row is raised (with the file name) unless ``skip_bad``, in which
    case the row is counted in the report under its reason. Returns the parsed rows, the report and
    the header.
    """
    header, rows = read_rows(path, required, known)
    report = LoadReport(source=str(path))
    out: list[T] = []
    for line, row in rows:
        report.rows += 1
        try:
            if isinstance(row, TraceRowError):
                raise row
            out.append(parse(line, row))
        except TraceRowError as exc:
            if not skip_bad:
                exc.source = str(path)
                raise TraceRowError(exc.line, exc.column, exc.problem, str(path)) from None
            report.drop(exc.reason)
    report.loaded = len(out)
    return out, report, header


def parse_float(
    text: str, line: int, column: str, *, minimum: float | None = None, strict_min: bool = False
) -> float:
    """A finite float; ``minimum`` bounds it (``> minimum`` when ``strict_min``)."""
    try:
        value = float(text)
    except ValueError:
        raise TraceRowError(line, column, f"not a number: {text!r}") from None
    if not math.isfinite(value):
        raise TraceRowError(line, column, f"not a finite number: {text!r}")
    if minimum is not None:
        if strict_min and value <= minimum:
            raise TraceRowError(line, column, f"must be > {minimum:g}")
        if not strict_min and value < minimum:
            raise TraceRowError(line, column, f"must be >= {minimum:g}")
    return value


def parse_int(text: str, line: int, column: str, *, minimum: int | None = None) -> int:
    """An integer (``"3"`` or ``"3.0"``); ``minimum`` bounds it from below."""
    try:
        value = int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            raise TraceRowError(line, column, f"not an integer: {text!r}") from None
        if not math.isfinite(f) or f != int(f):
            raise TraceRowError(line, column, f"not an integer: {text!r}") from None
        value = int(f)
    if minimum is not None and value < minimum:
        raise TraceRowError(line, column, f"must be >= {minimum}")
    return value
