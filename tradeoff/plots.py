"""The report's figures: the trade-off plane per probe (small multiples) and every metric against the learning
rate on one figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on the machines this runs on
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from tradeoff.layout import BASE  # noqa: E402
from tradeoff.probes import Probe  # noqa: E402


def pareto_front(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Points not beaten on both axes (higher is better on both), sorted by x."""
    front = [p for p in points if not any(q[0] >= p[0] and q[1] >= p[1] and q[:2] != p[:2] for q in points)]
    return sorted(front)


SEED_MARKERS = "osD^vP"


def model_styles(rows: list[dict]) -> dict[str, tuple]:
    """(color, marker) per model: the color encodes the learning rate (dark to light as it rises), the marker the
    seed, so that a grid of rates times seeds stays readable where a cycle of ten colors would repeat."""
    tuned = [r for r in rows if r["model"] != BASE]
    rates = sorted({r["learning_rate"] for r in tuned})
    seeds = sorted({r["seed"] for r in tuned if r["seed"] is not None})
    colormap = matplotlib.colormaps["viridis"]
    styles = {BASE: ("black", "*")}
    for row in tuned:
        color = colormap(0.9 * rates.index(row["learning_rate"]) / max(1, len(rates) - 1))
        marker = SEED_MARKERS[seeds.index(row["seed"]) % len(SEED_MARKERS)] if row["seed"] in seeds else "o"
        styles[row["model"]] = (color, marker)
    return styles


def _tradeoff_panel(ax, rows: list[dict], probe: Probe, styles: dict[str, tuple]) -> None:
    points = []
    for row in rows:
        x, y = row[probe.prefix], row["spider_ex"]
        xerr = [[x - row[f"{probe.prefix}_ci_low"]], [row[f"{probe.prefix}_ci_high"] - x]]
        yerr = [[y - row["spider_ex_ci_low"]], [row["spider_ex_ci_high"] - y]]
        is_base = row["model"] == BASE
        label = "base model" if is_base else row["model"]
        ax.errorbar(
            x,
            y,
            xerr=xerr,
            yerr=yerr,
            fmt=styles[row["model"]][1],
            markersize=14 if is_base else 7,
            capsize=3,
            label=label,
            color=styles[row["model"]][0],
        )
        points.append((x, y, row["model"]))
    if rows[0][f"{probe.name}_can_show_loss"]:
        front = pareto_front(points)
        ax.plot([p[0] for p in front], [p[1] for p in front], "--", color="grey", label="Pareto frontier")
        ax.set_title(probe.label)
    else:  # a frontier along an axis that cannot show a loss would read noise as a trade-off
        ax.axvline(rows[0][f"{probe.name}_floor"], color="grey", linestyle=":", label="chance / habit")
        ax.set_title(f"{probe.label}: cannot show a cost here", fontsize=9)
    ax.set_xlabel(f"{probe.label} (general ability)")
    ax.grid(alpha=0.3)


def tradeoff_plot(rows: list[dict], probes: list[Probe], path: Path) -> None:
    """One panel per probe: Spider EX against the probe, every model with 95% bootstrap CIs."""
    fig, axes = plt.subplots(1, len(probes), figsize=(4.8 * len(probes), 4.6), sharey=True, squeeze=False)
    styles = model_styles(rows)
    for ax, probe in zip(axes[0], probes, strict=True):
        _tradeoff_panel(ax, rows, probe, styles)
    axes[0][0].set_ylabel("Spider execution accuracy (specialty)")
    axes[0][-1].legend(fontsize=7)
    fig.suptitle("Specialization vs. general ability, per probe (95% bootstrap CIs)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def metrics_vs_lr_plot(rows: list[dict], probes: list[Probe], path: Path) -> None:
    """Every metric's change against the base, by learning rate (the mean over seeds at each rate)."""
    tuned = [r for r in rows if r["learning_rate"] is not None]
    rates = sorted({r["learning_rate"] for r in tuned})
    fig, ax = plt.subplots(figsize=(7.2, 4.8))
    curves = [("spider_ex", "Δ Spider EX", True)]
    curves += [(p.prefix, f"Δ {p.label}", rows[0][f"{p.name}_can_show_loss"]) for p in probes]
    for prefix, label, readable in curves:
        mean = [100 * np.mean([r[f"{prefix}_delta"] for r in tuned if r["learning_rate"] == lr]) for lr in rates]
        low = [100 * min(r[f"{prefix}_delta_ci_low"] for r in tuned if r["learning_rate"] == lr) for lr in rates]
        high = [100 * max(r[f"{prefix}_delta_ci_high"] for r in tuned if r["learning_rate"] == lr) for lr in rates]
        ax.plot(rates, mean, "o-" if readable else "o:", label=label + ("" if readable else " (cannot show a cost)"))
        ax.fill_between(rates, low, high, alpha=0.15)
    ax.axhline(0, color="black", linewidth=0.8, label="base model")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("change vs. base (percentage points)")
    ax.set_title("What each learning rate buys and costs (mean over seeds; band: the seeds' 95% CIs)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
