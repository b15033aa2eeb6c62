"""`tradeoff report results/<study>`: report.md, summary.csv/.json, subjects.csv and two figures.

Reads only what the sweep wrote, so it can be re-run on any results folder.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tradeoff import humaneval_cut, layout
from tradeoff.layout import BASE, MMLU_CATEGORIES
from tradeoff.plots import metrics_vs_lr_plot, tradeoff_plot
from tradeoff.probes import Probe
from tradeoff.report_sections import (
    generation_table,
    headline_table,
    position_table,
    seed_table,
    steps_table,
    training_record_notes,
)
from tradeoff.report_summary import decision_rule_text, probe_text, summary_text
from tradeoff.report_summary import delta as _delta
from tradeoff.report_summary import pp as _pp
from tradeoff.report_table import SPIDER_GROUPS, compute_rows, read_study, study_tags
from tradeoff_tasks.records import atomic_path, write_json_atomically, write_text_atomically


def _subset_notes(study: dict, probes: list[Probe]) -> list[str]:
    e, settings = study.get("eval", {}), study.get("probes") or {}
    notes = [f"Spider limited to {e['spider_limit']} questions"] if e.get("spider_limit") else []
    limits = {p.label: (settings.get(p.name) or {}).get("limit") for p in probes}
    if "probes" not in study:  # a study from before `probes`
        limits = {"MMLU": e.get("mmlu_limit")}
    return notes + [
        f"{label} limited to {n} question{'' if n == 1 else 's'} per task" for label, n in limits.items() if n
    ]


def _prompting(study: dict, probes: list[Probe]) -> str:
    e = study.get("eval", {})
    settings = study.get("probes") or {"mmlu": {"num_fewshot": e.get("mmlu_num_fewshot", 0)}}  # before `probes`
    chat = e.get("apply_chat_template")
    parts = [
        f"Spider {e.get('spider_num_fewshot', 0)}-shot"
        + (" (examples from Spider train)" if e.get("spider_num_fewshot") else "")
        + (f" with the answer starting `{e['spider_answer_prefix']}`" if e.get("spider_answer_prefix") else "")
        + (", chat template" if chat else ", no chat template")
    ]
    for p in probes:
        s = settings.get(p.name) or {}
        shots = "the task's default shots" if s.get("num_fewshot") is None else f"{s['num_fewshot']}-shot"
        template = chat if s.get("apply_chat_template") is None else s["apply_chat_template"]
        dtype = f", model in {s['dtype']}" if s.get("dtype") and s["dtype"] != e.get("dtype") else ""
        parts.append(f"{p.label} {shots}" + (", chat template" if template else ", no chat template") + dtype)
    return "; ".join(parts)


def _markdown(rows, subjects, by_lr, probes: list[Probe], study: dict, results_dir: Path) -> str:
    subset = _subset_notes(study, probes)
    labels = ", ".join(p.label for p in probes)
    first = (
        f"**Evaluated on a subset ({'; '.join(subset)}): a demonstration, not a study result.**"
        if subset
        else f"Study `{study['name']}`: all executable Spider dev questions, and in full: {labels}."
    )
    out = [
        first,
        "",
        f"# Trade-off report: {study['name']}",
        "",
        f"Base model `{study['base_model']}`"
        + (f" (`{study.get('gguf_file')}`)" if study.get("gguf_file") else "")
        + f", training config `{study['training_config']}`. Prompting, the same for every model: "
        + _prompting(study, probes)
        + ". Changes are against the base model in percentage points with 95% paired bootstrap CIs "
        "(2000 resamples of questions); p-values are exact McNemar tests against the base (over seeds: see the "
        "decision rule).",
        "",
        "## Summary",
        "",
        *summary_text(by_lr, probes),
        "",
        "## Can each probe show a cost?",
        "",
        *probe_text(rows, probes),
        "",
        "## Decision rule",
        "",
        *decision_rule_text(),
        "",
        "## Spider EX and the generality probes",
        "",
        *headline_table(rows, probes),
        *training_record_notes(rows),
    ]
    out += seed_table(by_lr, probes)
    out += [
        "",
        "## Spider EX by hardness",
        "",
        "| model | " + " | ".join(SPIDER_GROUPS) + " |",
        "|---|" + "---|" * len(SPIDER_GROUPS),
    ]
    for r in rows:
        cells = [
            "— (n=0)"
            if not r[f"spider_ex_{g}_n"]
            else f"{r[f'spider_ex_{g}']:.3f} (n={r[f'spider_ex_{g}_n']})"
            + ("" if r["model"] == BASE else f" {_delta(r, f'spider_ex_{g}')}")
            for g in SPIDER_GROUPS
        ]
        out.append(f"| {r['model']} | " + " | ".join(cells) + " |")
    out += [
        "",
        "## Diagnostics",
        "",
        "Spider: the share of predictions that execute at all (whatever their result), the share of questions "
        "whose gold result is empty (any empty prediction matches it) and EX on the others.",
        "",
        "| model | executes | empty gold | EX | EX, non-empty gold |",
        "|---|---|---|---|---|",
    ]

    def share(value):
        return "—" if value is None else f"{value:.3f}"

    for r in rows:
        out.append(
            f"| {r['model']} | {r['spider_executes']:.3f} | {share(r['spider_gold_empty'])} | {r['spider_ex']:.3f} | "
            f"{share(r['spider_ex_nonempty_gold'])} |"
        )
    if any(r["spider_gold_empty"] is None for r in rows):
        out += ["", "—: not recorded by the spider_exec version of this run (before 1.5)."]
    for probe in probes:
        out += position_table(rows, probe) if probe.multiple_choice else generation_table(rows, probe)
    if any(p.name == "mmlu" for p in probes):
        out += [
            "",
            "## MMLU by category",
            "",
            "| model | " + " | ".join(c.removeprefix("mmlu_") for c in MMLU_CATEGORIES) + " |",
            "|---|" + "---|" * len(MMLU_CATEGORIES),
        ]
        for r in rows:
            cells = [
                f"{r[f'{c}_acc']:.3f}" + ("" if r["model"] == BASE else f" {_delta(r, f'{c}_acc')}")
                for c in MMLU_CATEGORIES
            ]
            out.append(f"| {r['model']} | " + " | ".join(cells) + " |")
    for probe in (p for p in probes if p.multiple_choice):
        out += ["", f"## {probe.label}: subjects that lost the most", ""]
        if not rows[0][f"{probe.name}_can_show_loss"]:
            out += [f"{probe.label} cannot show a cost for this base model: these changes follow its habits.", ""]
        mine = [s for s in subjects if s["probe"] == probe.name]
        for tag in [r["model"] for r in rows[1:]]:  # the tables' order: by learning rate, then seed
            worst = sorted((s for s in mine if s["model"] == tag and s["delta"] < 0), key=lambda s: s["delta"])[:5]
            out.append(
                f"- {tag}: "
                + (
                    "; ".join(f"{s['subject'].removeprefix('mmlu_')} {_pp(s['delta'])} pp (n={s['n']})" for s in worst)
                    or "no subject lost accuracy"
                )
            )
    question_files = ", ".join(f"`eval/*/{p.name}/questions.jsonl.gz`" for p in probes)
    if all(humaneval_cut.PREFIX in r for r in rows):
        question_files += f", `eval/*/humaneval/{layout.HUMANEVAL_CUT_FILE}` (written by `tradeoff humaneval-cut`)"
    out += [
        "",
        "## Figures",
        "",
        "![trade-off per probe](tradeoff.png)",
        "",
        "![every metric vs learning rate](metrics_vs_lr.png)",
        "",
        *steps_table(results_dir),
        "",
        "## Provenance",
        "",
        f"Computed by `tradeoff report {results_dir}` from `eval/*/spider_exec/samples_spider_exec.jsonl.gz`, "
        f"{question_files} and `training/*.json`; "
        "the commands that produced them are in `commands.jsonl`, versions and hardware in `environment.json`, "
        "the study config in `study.yaml`. Full table: `summary.csv` / `summary.json`; every subject of the "
        "multiple-choice probes: `subjects.csv`.",
        "",
    ]
    return "\n".join(out)


def _write_csv(path: Path, rows: list[dict]) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def write_report(results_dir: Path) -> Path:
    results_dir = Path(results_dir)
    study = read_study(results_dir)
    finished, unfinished = study_tags(results_dir, study)
    rows, subjects, by_lr, probes = compute_rows(results_dir, study, finished)
    _write_csv(results_dir / "summary.csv", rows)
    write_json_atomically(results_dir / "summary.json", {"models": rows, "learning_rates": by_lr})
    _write_csv(results_dir / "subjects.csv", subjects)
    tradeoff_plot(rows, probes, results_dir / "tradeoff.png")
    metrics_vs_lr_plot(rows, probes, results_dir / "metrics_vs_lr.png")
    report = results_dir / "report.md"
    text = _markdown(rows, subjects, by_lr, probes, study, results_dir)
    if unfinished:  # named at the top, so a partial study never passes for a complete one
        why = "a suite not evaluated, or evaluated on other adapter weights or with other settings than the base"
        text = f"**Not finished yet: {', '.join(unfinished)} ({why}); not in the tables.**\n\n" + text
    write_text_atomically(report, text)
    return report
