"""A network as it stood in a year: the dated history of a topology (``load_topology("shandong@2024")``).

A center belongs to year ``Y`` when its ``opened_year`` is ``<= Y`` or unknown; a link when both its ends do.
The bundled ``shandong`` is built so that every city hub, region hub and national center opened before 2023,
so the backbone of any year 2023–2025 is the full backbone restricted to the open centers (no center is cut
off). Figures of a center do not change over the years: growth is new centers and new phases (二期, 三期),
each its own center with its own ``opened_year`` (docs/shandong-calibration.md).
"""

from __future__ import annotations

from huanghe.core.errors import FieldError, TopologyError
from huanghe.domain.network import Topology

#: Separator of a year selection in a network name: ``shandong@2024``.
YEAR_SEPARATOR = "@"


def split_year(name: str) -> tuple[str, int | None]:
    """``"shandong@2024"`` → ``("shandong", 2024)``; a name without ``@`` → ``(name, None)``.

    Raises :class:`TopologyError` naming the year when it is not a whole number in 1950–2100."""
    base, sep, tail = name.rpartition(YEAR_SEPARATOR)
    if not sep:
        return name, None
    try:
        year = int(tail)
    except ValueError:
        year = -1
    if not 1950 <= year <= 2100:
        raise TopologyError(
            [FieldError("year", f"{tail!r} is not a year (1950-2100), e.g. shandong@2024")], name
        )
    return base, year


def topology_as_of(topology: Topology, year: int) -> Topology:
    """The centers open in ``year`` and the links between them; the description says the year.

    Raises :class:`TopologyError` (field ``year``) when no center is open then."""
    centers = [c for c in topology.centers if c.opened_year is None or c.opened_year <= year]
    if not centers:
        first = min((c.opened_year for c in topology.centers if c.opened_year is not None), default=year)
        raise TopologyError(
            [FieldError("year", f"no center of {topology.name} is open in {year} (first opening: {first})")],
            topology.name,
        )
    ids = {c.id for c in centers}
    links = [link for link in topology.links if link.a in ids and link.b in ids]
    description = f"{topology.description} — as of {year} (截至 {year} 年)".strip(" —")
    return topology.model_copy(update={"centers": centers, "links": links, "description": description})
