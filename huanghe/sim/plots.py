"""PNG plots of simulation results (matplotlib, Agg back-end; imported only when plots are asked for).

Three figures, one line per policy: queue length and utilisation (share of cores busy) over time, each
averaged over 200 equal time bins, and the distribution (CDF) of wait times.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from huanghe.sim.job_metrics import step_series
from huanghe.sim.simulation import SimResult

Series = Callable[[SimResult], tuple[np.ndarray, np.ndarray]]
BINS = 200
DAY_S = 86400.0


def _binned(times: np.ndarray, level: np.ndarray, t0: float, t1: float) -> tuple[np.ndarray, np.ndarray]:
    """Time-average of a step function over ``BINS`` equal bins of [t0, t1]: (bin centres, means)."""
    edges = np.linspace(t0, t1, BINS + 1)
    if len(times) == 0:
        return (edges[1:] + edges[:-1]) / 2, np.zeros(BINS)
    area_at_steps = np.concatenate([[0.0], np.cumsum(level[:-1] * np.diff(times))])
    idx = np.searchsorted(times, edges, side="right") - 1
    inside = idx >= 0
    k = np.clip(idx, 0, None)
    area = np.where(inside, area_at_steps[k] + level[k] * (edges - times[k]), 0.0)
    return (edges[1:] + edges[:-1]) / 2, np.diff(area) / np.diff(edges)


def _queue_length(r: SimResult) -> tuple[np.ndarray, np.ndarray]:
    ran = ~np.isnan(r.start_s)
    return step_series(r.workload.submit_s[ran], r.start_s[ran])


def _busy_share(r: SimResult) -> tuple[np.ndarray, np.ndarray]:
    ran = ~np.isnan(r.start_s)
    t, busy = step_series(r.start_s[ran], r.end_s[ran], r.workload.procs[ran])
    return t, busy / r.cores


def _cjk_font() -> str | None:
    """A font with Chinese glyphs, if one is installed (else labels are English only)."""
    from matplotlib import font_manager

    for f in font_manager.fontManager.ttflist:
        if "CJK" in f.name or f.name in ("WenQuanYi Zen Hei", "SimHei", "Source Han Sans SC"):
            return str(f.name)
    return None


def plot_results(results: Mapping[str, SimResult], out_dir: str | Path, title: str = "") -> list[Path]:
    """Write ``queue_length.png``, ``utilisation.png`` and ``wait_cdf.png`` to ``out_dir``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cjk = _cjk_font()
    if cjk:
        plt.rcParams["font.family"] = [cjk, "DejaVu Sans"]

    def label(en: str, zh: str) -> str:
        return f"{en} {zh}" if cjk else en

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = min(float(r.workload.submit_s.min()) for r in results.values())
    t1 = max(float(np.nanmax(r.end_s)) for r in results.values())
    written: list[Path] = []

    def over_time(series: Series, ylabel: str, what: str, filename: str) -> Path:
        fig, ax = plt.subplots(figsize=(10, 4))
        for name, r in results.items():
            x, y = _binned(*series(r), t0, t1)
            ax.plot((x - t0) / DAY_S, y, label=name, linewidth=0.8)
        ax.set_xlabel(label("time (days)", "时间(天)"))
        ax.set_ylabel(ylabel)
        ax.set_title(f"{what} {title}")
        ax.legend()
        fig.tight_layout()
        path = out / filename
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path

    written.append(
        over_time(
            _queue_length,
            label("waiting jobs", "排队作业数"),
            label("Queue length", "队列长度"),
            "queue_length.png",
        )
    )
    written.append(
        over_time(
            _busy_share,
            label("cores busy (share)", "核利用率"),
            label("Utilisation", "利用率"),
            "utilisation.png",
        )
    )

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, r in results.items():
        wait = np.sort(r.wait_s[~np.isnan(r.start_s)])
        cdf = np.arange(1, len(wait) + 1) / max(len(wait), 1)
        ax.plot(np.maximum(wait, 1.0), cdf, label=name, linewidth=1.0)
    ax.set_xscale("log")
    ax.set_xlabel(label("wait (s, log; < 1 s drawn at 1 s)", "等待时间"))
    ax.set_ylabel(label("share of jobs (CDF)", "作业占比"))
    ax.set_title(f"{label('Wait-time distribution', '等待时间分布')} {title}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    written.append(out / "wait_cdf.png")
    fig.savefig(written[-1], dpi=110)
    plt.close(fig)
    return written
