"""PNG plots of multi-center simulation results (matplotlib Agg; imported only when plots are asked for).

* ``placements_map.png``: centers at their lon/lat, one panel per policy, marker area ∝ jobs placed there;
* ``center_load.png``: busy share of each center's node units over time (one panel per policy, top centers);
* ``carbon_per_hour.png``: kg CO2 emitted per simulated hour, one line per policy.

Time axes stop when 99 % of the jobs of every run have ended (a few stragglers on slow pools would stretch them).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import numpy.typing as npt

from huanghe.domain.network import Topology
from huanghe.sim.network_sim import NetworkSimResult

FloatArray = npt.NDArray[np.float64]
HOUR_S = 3600.0
TOP_CENTERS = 8


def hourly_carbon_kg(r: NetworkSimResult) -> tuple[FloatArray, FloatArray]:
    """(hour starts in hours, kg CO2 per hour): each job's facility power × its center's hourly intensity,
    split exactly over the hours it ran."""
    ran = ~np.isnan(r.end_s) & (r.end_s > r.start_s)
    if not ran.any():
        return np.zeros(0), np.zeros(0)
    st, en = r.start_s[ran], r.end_s[ran]
    kw = r.energy_kwh[ran] / ((en - st) / HOUR_S)
    c = r.center[ran]
    h0 = int(np.floor(st.min() / HOUR_S))
    h1 = int(np.ceil(en.max() / HOUR_S))
    hours = np.arange(h0, h1, dtype=np.float64)
    out = np.zeros(len(hours))
    signal = r.snapshot.carbon
    for k, h in enumerate(hours):
        lo = np.maximum(st, h * HOUR_S)
        hi = np.minimum(en, (h + 1) * HOUR_S)
        on = hi > lo
        if on.any():
            inten = signal.intensity_kg_per_kwh(c[on], np.full(int(on.sum()), h * HOUR_S))
            out[k] = float((kw[on] * (hi[on] - lo[on]) / HOUR_S * inten).sum())
    return hours, out


def window_end_s(results: Mapping[str, NetworkSimResult], q: float = 99.0) -> float:
    """The time by which ``q`` % of the jobs of every run have ended (plots stop there, not at the last
    straggler on a slow pool)."""
    ends = [np.nanpercentile(r.end_s, q) for r in results.values() if (~np.isnan(r.end_s)).any()]
    return float(max(ends)) if ends else HOUR_S


def center_busy_share(
    r: NetworkSimResult, bins: int = 200, t_end_s: float | None = None
) -> tuple[FloatArray, FloatArray, list[int]]:
    """(bin centres s, busy share (centers × bins) up to ``t_end_s``, the center indices with most
    node-hours)."""
    snap = r.snapshot
    ran = ~np.isnan(r.end_s)
    st, en, u, c = r.start_s[ran], r.end_s[ran], r.units[ran], r.center[ran]
    if st.size == 0:
        return np.zeros(bins), np.zeros((0, bins)), []
    edges = np.linspace(float(st.min()), float(en.max()) if t_end_s is None else t_end_s, bins + 1)
    width = np.diff(edges)
    units_c = np.bincount(snap.pool_center, weights=snap.nodes_total, minlength=snap.n_centers)
    busy = np.zeros((snap.n_centers, bins))
    for b in range(bins):
        overlap = np.clip(np.minimum(en, edges[b + 1]) - np.maximum(st, edges[b]), 0.0, None)
        busy[:, b] = np.bincount(c, weights=u * overlap, minlength=snap.n_centers) / width[b]
    share = busy / np.maximum(units_c, 1.0)[:, None]
    node_h = np.bincount(c, weights=u * (en - st), minlength=snap.n_centers)
    top = [int(i) for i in np.argsort(-node_h)[:TOP_CENTERS] if node_h[i] > 0]
    return (edges[1:] + edges[:-1]) / 2, share, top


def plot_network_results(
    results: Mapping[str, NetworkSimResult], topology: Topology, out_dir: str | Path, title: str = ""
) -> list[Path]:
    """Write the three PNGs to ``out_dir``; returns their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    lon = np.array([c.lon for c in topology.centers])
    lat = np.array([c.lat for c in topology.centers])
    names = list(results)
    n = len(names)
    written: list[Path] = []
    t_end = window_end_s(results)

    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 4), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        r = results[name]
        counts = np.bincount(r.center[r.pool >= 0], minlength=len(lon)).astype(np.float64)
        size = 400 * counts / max(counts.max(), 1.0)
        ax.scatter(lon, lat, s=4, c="lightgrey")
        ax.scatter(lon, lat, s=size, alpha=0.55, c="tab:blue", edgecolors="k", linewidths=0.3)
        ax.set_title(f"{name} ({int(counts.sum())} jobs)")
        ax.set_xlabel("lon")
        ax.set_ylabel("lat")
    fig.suptitle(f"Placements per center {title}")
    fig.tight_layout()
    path = out / "placements_map.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)

    fig, axes = plt.subplots(n, 1, figsize=(9, 2.4 * n), squeeze=False, sharex=True)
    for ax, name in zip(axes[:, 0], names, strict=True):
        r = results[name]
        t, share, top = center_busy_share(r, t_end_s=t_end)
        for i in top:
            ax.plot(t / HOUR_S, share[i], lw=1, label=r.snapshot.center_ids[i])
        ax.set_ylabel("busy share")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=6, ncol=4, loc="upper right")
    axes[-1, 0].set_xlabel("simulated time (h)")
    fig.tight_layout()
    path = out / "center_load.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)

    fig, ax = plt.subplots(figsize=(9, 3.5))
    for name in names:
        h, kg = hourly_carbon_kg(results[name])
        ax.plot(h, kg, lw=1, label=f"{name} ({kg.sum():.0f} kg)")
    ax.set_xlim(0, t_end / HOUR_S)
    ax.set_xlabel("simulated hour (until 99 % of jobs ended)")
    ax.set_ylabel("kg CO2 per hour")
    ax.set_title(f"Carbon per hour {title}")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = out / "carbon_per_hour.png"
    fig.savefig(path, dpi=100)
    plt.close(fig)
    written.append(path)
    return written
