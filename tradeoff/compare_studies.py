"""`tradeoff compare RESULTS_DIR ...`: the cost of specializing, side by side across studies (e.g. one base model
per size): each base's scores, what the decision rule picks in each study and at what cost, what the highest
Spider EX costs, and one figure of every probe's change against the EX gain.

Recomputed from each results folder's own files, as `tradeoff report` reads them, so it never shows a stale
report's numbers. Rates are the means over each rate's seeds.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only
import matplotlib.pyplot as plt  # noqa: E402

from tradeoff.probes import Probe  # noqa: E402
from tradeoff.report_summary import (  # noqa: E402
    ALL_LOSE,
    CHOSEN,
    NO_GAIN,
    SPIDER_ONLY,
    delta,
    rule_choice,
    significant_loss,
)
from tradeoff.report_table import compute_rows, read_study, study_tags  # noqa: E402
from tradeoff_tasks.records import write_text_atomically  # noqa: E402

RULE_OUTCOMES = {  # why the rule picked no rate, or picked on Spider alone
    SPIDER_ONLY: "no probe can show a cost: Spider alone",
    ALL_LOSE: "every significant EX gain loses on a probe",
    NO_GAIN: "no significant EX gain",
}


def load(results_dir: Path) -> dict:
    """One study as the comparison reads it: its name, base model, probes and rows per learning rate."""
    results_dir = Path(results_dir)
    if not (results_dir / "study.yaml").is_file():
        raise FileNotFoundError(f"{results_dir}: not a results folder of `tradeoff sweep` (no study.yaml)")
    study = read_study(results_dir)
    finished, unfinished = study_tags(results_dir, study)
    _, _, by_lr, probes = compute_rows(results_dir, study, finished)
    gguf = f" (`{study['gguf_file']}`)" if study.get("gguf_file") else ""
    return {
        "dir": results_dir,
        "name": study["name"],
        "base_model": f"`{study['base_model']}`{gguf}",
        "probes": probes,
        "rows": by_lr,
        # a study still running shows its best EX among the models finished so far: the table says how many
        "adapters_evaluated": f"{len(finished) - 1} of {len(finished) - 1 + len(unfinished)}",
    }


def _all_probes(studies: list[dict]) -> list[Probe]:
    """Every probe of any study, in the order they first appear."""
    return list({p.name: p for s in studies for p in s["probes"]}.values())


def _cell(row: dict, probe: Probe, base: dict) -> str:
    if f"{probe.prefix}_delta" not in row:
        return "not run"
    mark = "" if base[f"{probe.name}_can_show_loss"] else " (cannot show a cost)"
    text = delta(row, probe.prefix)
    return (f"**{text}**" if significant_loss(row, probe) else text) + mark


def _base_table(studies: list[dict], probes: list[Probe]) -> list[str]:
    out = ["| study | base model | Spider EX | " + " | ".join(p.label for p in probes) + " | adapters evaluated |"]
    out.append("|---" * (4 + len(probes)) + "|")
    for s in studies:
        base = s["rows"][0]
        cells = [s["name"], s["base_model"], f"{base['spider_ex']:.4f}"]
        for p in probes:
            if p.prefix not in base:
                cells.append("not run")
            else:
                cells.append(
                    f"{base[p.prefix]:.4f}" + ("" if base[f"{p.name}_can_show_loss"] else " (at chance/habit)")
                )
        cells.append(s["adapters_evaluated"])
        out.append("| " + " | ".join(cells) + " |")
    return out


def _picked_table(studies: list[dict], probes: list[Probe], pick) -> list[str]:
    out = ["| study | lr | seeds | Δ Spider EX | " + " | ".join(f"Δ {p.label}" for p in probes) + " |"]
    out.append("|---" * (4 + len(probes)) + "|")
    for s in studies:
        row, note = pick(s)
        if row is None:
            out.append(f"| {s['name']} | — ({note}) |" + " |" * (2 + len(probes)))
            continue
        cells = [
            s["name"],
            f"{row['learning_rate']:g}" + (f" ({note})" if note else ""),
            ", ".join(map(str, row["seeds"])),
            delta(row, "spider_ex"),
        ]
        out.append("| " + " | ".join(cells + [_cell(row, p, s["rows"][0]) for p in probes]) + " |")
    return out


def _rule_pick(study: dict) -> tuple[dict | None, str]:
    outcome, row = rule_choice(study["rows"], study["probes"])
    return (row if outcome in (CHOSEN, SPIDER_ONLY) else None), RULE_OUTCOMES.get(outcome, "")


def _best_ex(study: dict) -> tuple[dict | None, str]:
    tuned = study["rows"][1:]
    return (max(tuned, key=lambda r: r["spider_ex"]), "") if tuned else (None, "no adapter evaluated")


def markdown(studies: list[dict]) -> str:
    probes = _all_probes(studies)
    lines = [
        "# The cost of specializing, across studies",
        "",
        "Recomputed by `tradeoff compare " + " ".join(str(s["dir"]) for s in studies) + "` from each results "
        "folder's files. Changes are against each study's own base in percentage points with 95% paired bootstrap "
        "CIs, means over each learning rate's seeds; **bold**: a significant loss (p < 0.05 in a paired sign-flip "
        "test of the seed-averaged change; for one seed, the exact McNemar test). A probe at chance or at its answer-position habit for a base cannot show that "
        "base's cost (marked), and a probe a study did not run says nothing about it.",
        "",
        "## Base models",
        "",
        *_base_table(studies, probes),
        "",
        "## What each study's decision rule picks, and its cost",
        "",
        *_picked_table(studies, probes, _rule_pick),
        "",
        "## The highest Spider EX of each study, and its cost",
        "",
        *_picked_table(studies, probes, _best_ex),
        "",
        "Each study's learning rates, seeds and diagnostics are in its own `report.md`.",
        "",
        "![each probe's change against the Spider EX gain](comparison.png)",
    ]
    return "\n".join(lines) + "\n"


def plot(studies: list[dict], path: Path) -> None:
    """One panel per probe: its change against the Spider EX gain, one line per study along its learning rates."""
    probes = _all_probes(studies)
    fig, axes = plt.subplots(1, len(probes), figsize=(4.8 * len(probes), 4.4), squeeze=False)
    for ax, probe in zip(axes[0], probes, strict=True):
        for s in studies:
            tuned = [r for r in s["rows"][1:] if f"{probe.prefix}_delta" in r]
            if not tuned:
                continue
            readable = s["rows"][0][f"{probe.name}_can_show_loss"]
            x = [100 * r["spider_ex_delta"] for r in tuned]
            y = [100 * r[f"{probe.prefix}_delta"] for r in tuned]
            label = s["name"] + ("" if readable else " (cannot show a cost)")
            ax.plot(x, y, "o-" if readable else "o:", label=label)
            for r, xi, yi in zip(tuned, x, y, strict=True):
                ax.annotate(f"{r['learning_rate']:g}", (xi, yi), fontsize=6, xytext=(3, 3), textcoords="offset points")
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_title(probe.label)
        ax.set_xlabel("Δ Spider EX (pp)")
        ax.set_ylabel(f"Δ {probe.label} (pp)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle("Each probe's change against the Spider EX gain, per study (labels: learning rate)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_comparison(results_dirs: list[Path], out: Path) -> Path:
    studies = [load(d) for d in results_dirs]
    out.mkdir(parents=True, exist_ok=True)
    plot(studies, out / "comparison.png")
    write_text_atomically(out / "comparison.md", markdown(studies))
    return out / "comparison.md"
