"""PNG plots of a sweep (matplotlib Agg; imported only when a sweep writes its plots).

One figure per metric (``DIR/plots/<metric>.png``): one panel per network, one line per policy; the x axis is
the offered load when the grid has built workloads (else the cells' workload files), the line the mean over
seeds (and other axes: hours, tenants, cycle), the band the min–max across them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

#: metric key in a cell's summary → (English label, Chinese label, scale factor applied before plotting)
METRICS: dict[str, tuple[str, str, float]] = {
    "mean_jct_s": ("mean JCT (h)", "平均完成时间", 1 / 3600),
    "mean_wait_s": ("mean wait (min)", "平均等待", 1 / 60),
    "cost_cny": ("cost (CNY)", "费用", 1.0),
    "carbon_kg": ("carbon (kg CO2)", "碳排放", 1.0),
    "utilisation": ("utilisation", "利用率", 1.0),
}


def _x(cell: dict[str, Any]) -> float | str:
    return cell["load"] if cell["workload"] is None else Path(cell["workload"]).name


def plot_sweep(results: Sequence[dict[str, Any]], out_dir: Path) -> list[Path]:
    """Write the metric figures; returns the paths written (none for an empty sweep)."""
    if not results:
        return []
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from huanghe.sim.plots import _cjk_font

    cjk = _cjk_font()  # Chinese labels only where a font has the glyphs
    if cjk:
        plt.rcParams["font.family"] = [cjk, "DejaVu Sans"]

    def label(en: str, zh: str) -> str:
        return f"{en} {zh}" if cjk else en

    out_dir.mkdir(parents=True, exist_ok=True)
    networks = list(dict.fromkeys(r["cell"]["network"] for r in results))
    policies = list(dict.fromkeys(r["cell"]["policy"] for r in results))
    xs = list(dict.fromkeys(_x(r["cell"]) for r in results))
    numeric = all(isinstance(x, float | int) for x in xs)
    if numeric:
        xs = sorted(xs, key=float)
    # (metric, network, policy, x) -> values over the other axes
    vals: dict[tuple[str, str, str, float | str], list[float]] = defaultdict(list)
    for r in results:
        c = r["cell"]
        for metric, (_, _, scale) in METRICS.items():
            v = r["summary"].get(metric)
            if v is not None:
                vals[(metric, c["network"], c["policy"], _x(c))].append(float(v) * scale)
    written = []
    for metric, (en, zh, _) in METRICS.items():
        fig, axes = plt.subplots(1, len(networks), figsize=(5.5 * len(networks), 4), squeeze=False)
        for ax, net in zip(axes[0], networks, strict=True):
            for pol in policies:
                pts = [(x, vals[(metric, net, pol, x)]) for x in xs if vals.get((metric, net, pol, x))]
                if not pts:
                    continue
                pos = [float(x) if numeric else xs.index(x) for x, _ in pts]
                mean = [sum(v) / len(v) for _, v in pts]
                ax.plot(pos, mean, marker="o", label=pol)
                ax.fill_between(pos, [min(v) for _, v in pts], [max(v) for _, v in pts], alpha=0.15)
            ax.set_title(net)
            ax.set_xlabel(label("offered load", "负载率") if numeric else label("workload", "负载"))
            if not numeric:
                ax.set_xticks(range(len(xs)), [str(x) for x in xs], rotation=20, fontsize=7)
            ax.set_ylabel(label(en, zh))
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        fig.tight_layout()
        path = out_dir / f"{metric}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written
