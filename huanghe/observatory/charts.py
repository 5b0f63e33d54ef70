"""Report charts: matplotlib (Agg backend) figures rendered to PNG bytes, with a CJK font when installed.

Every function takes plain data and returns PNG bytes, so charts can be tested and embedded anywhere.
The CJK font comes from the Debian package ``fonts-noto-cjk`` (``make install`` installs it); without it
the labels still render, with missing-glyph boxes for Chinese characters.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure

CJK_FONT_FILES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJKsc-Regular.otf",
)
PALETTE = ("#1f5f8b", "#e07b39", "#3a9b6b", "#b5403b", "#7a5aa6", "#8c8c8c")
DPI = 110


@lru_cache(maxsize=1)
def cjk_font_name() -> str | None:
    """Register the first CJK font found and return its family name (None when none is installed)."""
    for path in CJK_FONT_FILES:
        try:
            font_manager.fontManager.addfont(path)
        except (OSError, RuntimeError):
            continue
        return str(font_manager.FontProperties(fname=path).get_name())
    for path in font_manager.findSystemFonts():
        if "CJK" in path:
            font_manager.fontManager.addfont(path)
            return str(font_manager.FontProperties(fname=path).get_name())
    return None


def _figure(width: float = 7.0, height: float = 3.6) -> tuple[Figure, plt.Axes]:
    name = cjk_font_name()
    if name:
        plt.rcParams["font.family"] = [name, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False
    fig = Figure(figsize=(width, height), dpi=DPI)
    ax = fig.add_subplot(1, 1, 1)
    return fig, ax


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def stacked_bars(
    labels: Sequence[str], series: Mapping[str, Sequence[float]], title: str, ylabel: str
) -> bytes:
    """Vertical bars stacked by series (e.g. storage PB by medium per city)."""
    fig, ax = _figure()
    bottom = np.zeros(len(labels))
    for k, (name, values) in enumerate(series.items()):
        v = np.asarray(values, dtype=float)
        ax.bar(labels, v, bottom=bottom, label=name, color=PALETTE[k % len(PALETTE)])
        bottom += v
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=45)
    if len(series) > 1:
        ax.legend(fontsize=8)
    return _png(fig)


def grouped_bars(
    labels: Sequence[str], series: Mapping[str, Sequence[float]], title: str, ylabel: str
) -> bytes:
    """Bars side by side, one per series in each group (e.g. vouchers granted and redeemed per industry)."""
    fig, ax = _figure()
    x = np.arange(len(labels))
    width = 0.8 / max(len(series), 1)
    for k, (name, values) in enumerate(series.items()):
        ax.bar(x + (k - (len(series) - 1) / 2) * width, np.asarray(values, dtype=float), width, label=name,
               color=PALETTE[k % len(PALETTE)])  # fmt: skip
    ax.set_xticks(x, labels)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=45)
    ax.legend(fontsize=8)
    return _png(fig)


def bars(
    labels: Sequence[str], values: Sequence[float], title: str, ylabel: str, line: float | None = None
) -> bytes:
    """Simple bars with an optional horizontal reference line (e.g. a target)."""
    fig, ax = _figure()
    ax.bar(labels, values, color=PALETTE[0])
    if line is not None:
        ax.axhline(line, color=PALETTE[3], linestyle="--", linewidth=1.2)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", rotation=45)
    return _png(fig)


def lines(
    years: Sequence[int], series: Mapping[str, Sequence[float | None]], title: str, ylabel: str
) -> bytes:
    """One line per series over the years (None values are skipped)."""
    fig, ax = _figure()
    for k, (name, values) in enumerate(series.items()):
        pts = [(y, v) for y, v in zip(years, values, strict=True) if v is not None]
        ax.plot(
            [p[0] for p in pts], [p[1] for p in pts], marker="o", label=name, color=PALETTE[k % len(PALETTE)]
        )
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def rank_ranges(
    entities: Sequence[str], base: Sequence[int], lo: Sequence[int], hi: Sequence[int], title: str
) -> bytes:
    """Rank of each entity with its min–max range under weight perturbations (1 = best, at the top)."""
    fig, ax = _figure(height=0.28 * len(entities) + 1.2)
    y = np.arange(len(entities))
    ax.hlines(y, lo, hi, color=PALETTE[0], linewidth=3, alpha=0.5)
    ax.plot(base, y, "o", color=PALETTE[3])
    ax.set_yticks(y, entities)
    ax.invert_yaxis()
    ax.set_xlabel("rank / 排名")
    ax.set_title(title)
    return _png(fig)


def province_map(
    cities: Sequence[tuple[str, float, float, str]],
    centers: Sequence[tuple[float, float, float, str]],
    regions: Mapping[str, str],
    title: str,
    size_label: str,
) -> bytes:
    """A schematic map: city seats (name, lon, lat, region) as labelled points, circles as shaded hulls of
    their cities, centers (lon, lat, size, region) as bubbles. No administrative boundaries."""
    from scipy.spatial import ConvexHull, QhullError

    fig, ax = _figure(7.0, 5.0)
    colour = {r: PALETTE[k % len(PALETTE)] for k, r in enumerate(regions)}
    for region, name in regions.items():
        pts = np.array([(lo, la) for _, lo, la, r in cities if r == region])
        if len(pts) >= 3:
            try:
                hull = ConvexHull(pts)
                poly = pts[hull.vertices]
                centre = poly.mean(axis=0)
                poly = centre + (poly - centre) * 1.15
                ax.fill(poly[:, 0], poly[:, 1], color=colour[region], alpha=0.12, label=name)
            except QhullError:
                pass
    sizes = np.array([s for _, _, s, _ in centers], dtype=float)
    scale = 600.0 / sizes.max() if len(sizes) and sizes.max() > 0 else 1.0
    ax.scatter(
        [c[0] for c in centers],
        [c[1] for c in centers],
        s=np.maximum(sizes * scale, 8.0),
        c=[colour.get(c[3], PALETTE[-1]) for c in centers],
        alpha=0.55,
        edgecolors="white",
        linewidths=0.5,
    )
    for name, lon, lat, _ in cities:
        ax.plot(lon, lat, "k^", markersize=4)
        ax.annotate(name, (lon, lat), xytext=(3, 3), textcoords="offset points", fontsize=8)
    ax.set_xlabel("lon / 经度")
    ax.set_ylabel("lat / 纬度")
    ax.set_aspect(1.0 / np.cos(np.radians(36.5)))
    ax.set_title(f"{title}\n({size_label})", fontsize=10)
    if ax.get_legend_handles_labels()[1]:
        ax.legend(fontsize=8, loc="lower right")
    return _png(fig)
