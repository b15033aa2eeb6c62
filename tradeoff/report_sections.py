"""The report's markdown tables: the headline table of every model, the training records under it (lost,
retrained or diverged), the steps with their GPUs and wall times, the learning rates over their seeds, the
answer-position diagnostics of a multiple-choice probe and what the answers of a generation probe carry."""

from __future__ import annotations

import json
from pathlib import Path

from tradeoff import humaneval_cut
from tradeoff.diagnostics import LETTERS
from tradeoff.layout import BASE
from tradeoff.probes import Probe
from tradeoff.report_summary import delta as _delta


def headline_row(r: dict, probes: list[Probe]) -> str:
    base = r["model"] == BASE
    lr = "" if r["learning_rate"] is None else f"{r['learning_rate']:g}"
    loss = r.get("final_train_loss")
    cells = [r["model"], lr]
    for prefix in ["spider_ex", *(p.prefix for p in probes)]:
        cells += [
            f"{r[prefix]:.4f}",
            "—" if base else _delta(r, prefix),
            "—" if base else f"{r[prefix + '_mcnemar_p']:.3g}",
        ]
    cells += [str(r.get("train_steps") or "—"), "—" if loss is None else f"{loss:.3f}"]
    return "| " + " | ".join(cells) + " |"


def headline_table(rows: list[dict], probes: list[Probe]) -> list[str]:
    header = ["model", "lr", "Spider EX", "Δ EX [95% CI]", "p"]
    for p in probes:
        header += [p.label, f"Δ {p.label} [95% CI]", "p"]
    header += ["steps", "final loss"]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return out + [headline_row(r, probes) for r in rows]


def training_record_notes(rows: list[dict]) -> list[str]:
    """Adapters whose steps and loss cannot be shown (no training record of the weights that were evaluated),
    and the trainings whose logged history says they diverged."""
    notes = []
    lacking = {r["model"]: r["training_record"] for r in rows[1:] if "train_steps" not in r}
    if lacking:
        named = "; ".join(f"{tag} ({status})" for tag, status in lacking.items())
        notes.append(f"Steps and loss not shown, the training record is not of the evaluated adapter: {named}.")
    checked = [r for r in rows[1:] if "train_steps" in r]
    diverged = [f"{r['model']} ({r['diverged']})" for r in checked if r.get("diverged")]
    if diverged:
        notes.append(f"**Diverged trainings**: {'; '.join(diverged)}.")
    elif checked:
        notes.append(
            f"No training diverged (trainings read: {len(checked)}): every logged loss and gradient norm is finite, "
            "and each last logged loss is below the first."
        )
    return [line for note in notes for line in ("", note)]


def steps_table(results_dir: Path) -> list[str]:
    """Which GPU ran each step, and for how long (the last run of each step in commands.jsonl)."""
    log = results_dir / "commands.jsonl"
    if not log.is_file():
        return []
    last = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        last[entry["step"]] = entry
    out = ["", "## Steps", "", "| step | GPUs | wall (s) | exit |", "|---|---|---|---|"]
    for name, entry in last.items():
        gpus = (entry.get("env") or {}).get("CUDA_VISIBLE_DEVICES", "not pinned")
        status = "stopped (time limit or interrupted)" if entry["rc"] is None else entry["rc"]
        out.append(f"| {name} | {gpus} | {entry['wall_s']:.0f} | {status} |")
    return out


def seed_table(by_lr: list[dict], probes: list[Probe]) -> list[str]:
    """Per learning rate over its seeds: mean, spread between seeds, change with a CI that covers both."""
    if all(len(r["seeds"]) == 1 for r in by_lr[1:]):
        return ["", "One seed per learning rate: the spread between seeds is not measured."]
    out = [
        "",
        "## Learning rates over seeds",
        "",
        "Mean over seeds, [min, max] of the seeds, the change against the base with a 95% CI from a paired bootstrap "
        "over questions of the seed-averaged score, the largest McNemar p of the seeds (a gain counts only if it holds "
        "for every seed) and the p of a paired sign-flip test of the seed-averaged change (a loss counts when the "
        "seeds' average shows it; 10,000 random sign flips, so 1e-4 is its smallest p).",
        "",
        "| lr | seeds | metric | mean [seed min, max] | Δ [95% CI] | max p | p, seed mean |",
        "|---|---|---|---|---|---|---|",
    ]
    metrics = [("spider_ex", "Spider EX"), *((p.prefix, p.label) for p in probes)]
    for r in by_lr[1:]:
        for prefix, label in metrics:
            cells = [f"{r['learning_rate']:g}", ", ".join(map(str, r["seeds"])), label]
            cells += [
                f"{r[prefix]:.4f} [{r[f'{prefix}_seed_min']:.4f}, {r[f'{prefix}_seed_max']:.4f}]",
                _delta(r, prefix),
                f"{r[f'{prefix}_mcnemar_p']:.3g}",
                f"{r[f'{prefix}_seed_mean_p']:.3g}",
            ]
            out.append("| " + " | ".join(cells) + " |")
    return out


def position_table(rows: list[dict], probe: Probe) -> list[str]:
    out = [
        "",
        f"{probe.label}: share of each predicted answer position, the accuracy those frequencies alone would give, "
        "the accuracy, the accuracy after removing the model's own position preference (its mean probability per "
        "position over all questions, estimated from its outputs only) and exact ties between the top two answers.",
        "",
        "| model | " + " | ".join(LETTERS) + " | position-frequency acc | acc | position-debiased acc | ties |",
        "|---|" + "---|" * len(LETTERS) + "---|---|---|---|",
    ]
    for r in rows:
        letters = " | ".join(f"{100 * r[f'{probe.name}_pred_{x}']:.1f}%" for x in LETTERS)
        out.append(
            f"| {r['model']} | {letters} | {r[f'{probe.name}_frequency_only_acc']:.4f} | {r[probe.prefix]:.4f} | "
            f"{r[f'{probe.name}_debiased_acc']:.4f} | {100 * r[f'{probe.name}_tie_share']:.1f}% |"
        )
    return out


def generation_table(rows: list[dict], probe: Probe) -> list[str]:
    cut = probe.name == humaneval_cut.SUITE and all(humaneval_cut.PREFIX in r for r in rows)
    out = [
        "",
        f"{probe.label}: the share of answers with special-token text in them (such as `<|fim_prefix|>`, a control "
        "token the harness's stop sequences do not catch: it stays in the answer and breaks its code or number), "
        "the share with a SQL query in them (`SELECT … FROM`: the specialty leaking into a general task), the "
        "questions the base answered right and the model wrong, and how many of those answers carry either."
        + (
            " Then pass@1 with every answer cut before its first special-token text and run again "
            "(`tradeoff humaneval-cut`): a reading of the code without its ending, beside the harness's score, "
            "with its change against the base cut the same way."
            if cut
            else ""
        ),
        "",
        "| model | special-token text | SQL | lost against the base | of those, with special-token text or SQL |"
        + (" pass@1, cut | Δ, cut [95% CI] | p |" if cut else ""),
        "|---|---|---|---|---|" + ("---|---|---|" if cut else ""),
    ]
    for r in rows:
        base = r["model"] == BASE
        cells = [
            r["model"],
            f"{100 * r[f'{probe.name}_special_token_share']:.1f}%",
            f"{100 * r[f'{probe.name}_sql_share']:.1f}%",
            "—" if base else str(r[f"{probe.name}_lost_n"]),
            "—" if base else str(r[f"{probe.name}_lost_special_or_sql_n"]),
        ]
        if cut:
            p = humaneval_cut.PREFIX
            cells += [f"{r[p]:.4f}", "—" if base else _delta(r, p), "—" if base else f"{r[p + '_mcnemar_p']:.3g}"]
        out.append("| " + " | ".join(cells) + " |")
    return out
