"""PNG figures of the report (matplotlib's non-interactive Agg backend, written atomically).

Each function takes plain numbers, draws one figure, saves it to ``path`` and returns the path.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from gan_simulator.io import atomic_path  # noqa: E402

REAL, SYNTHETIC, BGNBD = "#1f77b4", "#d62728", "#2ca02c"


def _save(fig: Figure, path: str | Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def bars(
    path: str | Path,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
) -> Path:
    """Grouped bar chart, one group per label, one bar per series."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    width = 0.8 / max(len(series), 1)
    x = np.arange(len(labels))
    colours = [REAL, SYNTHETIC, BGNBD, "#9467bd"]
    for i, (name, values) in enumerate(series.items()):
        ax.bar(
            x + (i - (len(series) - 1) / 2) * width, values, width, label=name, color=colours[i % 4]
        )
    ax.set_xticks(x, labels)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    return _save(fig, path)


def histograms(
    path: str | Path,
    samples: dict[str, np.ndarray],
    *,
    title: str,
    xlabel: str,
    bins: np.ndarray | int = 40,
    log_x: bool = False,
) -> Path:
    """Overlaid density histograms of several samples (optionally on a log x axis)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    data = {k: np.asarray(v, float) for k, v in samples.items()}
    if log_x:
        data = {k: v[v > 0] for k, v in data.items()}
        pooled = np.concatenate([v for v in data.values()] + [np.ones(1)])
        bins = np.geomspace(
            pooled.min(), pooled.max() * 1.0001, bins if isinstance(bins, int) else 40
        )
        ax.set_xscale("log")
    for (name, values), colour in zip(data.items(), [REAL, SYNTHETIC, BGNBD], strict=False):
        if values.size:
            ax.hist(
                values,
                bins=bins,
                density=True,
                histtype="step",
                linewidth=1.6,
                label=name,
                color=colour,
            )
    ax.set(title=title, xlabel=xlabel, ylabel="density")
    ax.legend()
    return _save(fig, path)


def lines(
    path: str | Path,
    x: Sequence[float] | np.ndarray,
    series: dict[str, Sequence[float]],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    vline: float | None = None,
) -> Path:
    """Line chart of several series over a common x (an optional dashed vertical marker)."""
    fig, ax = plt.subplots(figsize=(8, 3.6))
    for (name, values), colour in zip(
        series.items(), [REAL, SYNTHETIC, BGNBD, "#9467bd"], strict=False
    ):
        ax.plot(
            x,
            np.asarray(values, float),
            label=name,
            color=colour,
            linewidth=1.5,
            marker="." if len(x) < 20 else None,
        )
    if vline is not None:
        ax.axvline(vline, color="grey", linestyle="--", linewidth=1)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    return _save(fig, path)


def ecdfs(path: str | Path, samples: dict[str, np.ndarray], *, title: str, xlabel: str) -> Path:
    """Empirical CDFs of several samples (good for distributions with many exact ties at 0)."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for (name, values), colour in zip(samples.items(), [REAL, SYNTHETIC, BGNBD], strict=False):
        v = np.sort(np.asarray(values, float))
        if v.size:
            ax.step(v, np.arange(1, v.size + 1) / v.size, where="post", label=name, color=colour)
    ax.set(title=title, xlabel=xlabel, ylabel="share of records <= x")
    ax.legend()
    return _save(fig, path)
