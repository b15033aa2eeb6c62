"""The report's figures: the trade-off plane and the metrics against the learning rate."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on the machines this runs on
import matplotlib.pyplot as plt  # noqa: E402


def pareto_front(points: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """Points not beaten on both axes (higher is better on both), sorted by x."""
    front = [p for p in points if not any(q[0] >= p[0] and q[1] >= p[1] and q[:2] != p[:2] for q in points)]
    return sorted(front)


def tradeoff_plot(rows: list[dict], path: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    points = []
    for row in rows:
        x, y = row["mmlu_acc"], row["spider_ex"]
        xerr = [[x - row["mmlu_acc_ci_low"]], [row["mmlu_acc_ci_high"] - x]]
        yerr = [[y - row["spider_ex_ci_low"]], [row["spider_ex_ci_high"] - y]]
        is_base = row["model"] == "base"
        label = "base model" if is_base else f"lr {row['learning_rate']:g}"
        ax.errorbar(
            x,
            y,
            xerr=xerr,
            yerr=yerr,
            fmt="*" if is_base else "o",
            markersize=14 if is_base else 7,
            capsize=3,
            label=label,
            color="black" if is_base else None,
        )
        points.append((x, y, row["model"]))
    if rows[0].get("mmlu_can_show_loss", True):
        front = pareto_front(points)
        ax.plot([p[0] for p in front], [p[1] for p in front], "--", color="grey", label="Pareto frontier")
    else:  # a frontier along an axis that cannot show a loss would read noise as a trade-off
        ax.axvline(0.25, color="grey", linestyle=":", label="MMLU chance: cannot show a cost here")
    ax.set_xlabel("MMLU accuracy (general ability)")
    ax.set_ylabel("Spider execution accuracy (specialty)")
    ax.set_title("Specialization vs. general ability (95% bootstrap CIs)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def metrics_vs_lr_plot(rows: list[dict], path: Path) -> None:
    tuned = [r for r in rows if r["learning_rate"] is not None]
    fig, ax = plt.subplots(figsize=(6.4, 4.8))
    rates = [r["learning_rate"] for r in tuned]
    mmlu_label = "Δ MMLU accuracy" + ("" if rows[0].get("mmlu_can_show_loss", True) else " (cannot show a cost here)")
    for prefix, label in (("spider_ex", "Δ Spider EX"), ("mmlu_acc", mmlu_label)):
        delta = [100 * r[f"{prefix}_delta"] for r in tuned]
        low = [100 * r[f"{prefix}_delta_ci_low"] for r in tuned]
        high = [100 * r[f"{prefix}_delta_ci_high"] for r in tuned]
        ax.plot(rates, delta, "o-", label=label)
        ax.fill_between(rates, low, high, alpha=0.2)
    ax.axhline(0, color="black", linewidth=0.8, label="base model")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("change vs. base (percentage points, 95% CI)")
    ax.set_title("What each learning rate buys and costs")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
