"""`tradeoff compare`: the decision rule's outcomes, and the comparison of the two committed studies (recomputed
from their per-sample files)."""

import json
import re
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tradeoff.probes import PROBES
from tradeoff.report_summary import ALL_LOSE, CHOSEN, NO_GAIN, SPIDER_ONLY, rule_choice
from tradeoff.report_table import read_study
from tradeoff.study import trainings

MMLU = PROBES["mmlu"]


def row(model, ex, ex_p, mmlu, mmlu_p, can_show=True):
    return {
        "model": model,
        "learning_rate": None if model == "base" else float(model),
        "spider_ex_delta": ex,
        "spider_ex_mcnemar_p": ex_p,
        "mmlu_acc_delta": mmlu,
        "mmlu_acc_mcnemar_p": mmlu_p,
        "mmlu_can_show_loss": can_show,
    }


def test_the_rule_picks_the_highest_ex_gain_without_a_significant_loss():
    base = row("base", 0, 1, 0, 1)
    gentle, strong = row("1e-4", 0.05, 0.01, -0.01, 0.3), row("1e-3", 0.10, 0.001, -0.03, 0.001)
    assert rule_choice([base, gentle, strong], [MMLU]) == (CHOSEN, gentle)
    assert rule_choice([base, strong], [MMLU]) == (ALL_LOSE, None)
    assert rule_choice([base, row("1e-4", 0.05, 0.2, 0, 1)], [MMLU]) == (NO_GAIN, None)  # not significant
    blind = row("base", 0, 1, 0, 1, can_show=False)  # a probe at chance cannot veto anything
    assert rule_choice([blind, gentle, strong], [MMLU]) == (SPIDER_ONLY, strong)
    # over seeds, a gain must hold for every seed (the largest McNemar p), a loss counts when their average shows it
    seeds = gentle | {"mmlu_acc_seed_mean_p": 0.01, "spider_ex_seed_mean_p": 0.0001}
    assert rule_choice([base, seeds], [MMLU]) == (ALL_LOSE, None)
    assert rule_choice([base, seeds | {"spider_ex_mcnemar_p": 0.2}], [MMLU]) == (NO_GAIN, None)


def test_a_significant_loss_is_bold_and_a_probe_that_cannot_show_one_is_marked():
    from tradeoff.compare_studies import _cell

    ci = {"mmlu_acc_delta_ci_low": -0.05, "mmlu_acc_delta_ci_high": -0.01}
    strong = row("1e-3", 0.10, 0.001, -0.03, 0.001) | ci
    assert _cell(strong, MMLU, row("base", 0, 1, 0, 1)) == "**-3.0 [-5.0, -1.0]**"
    assert _cell(strong | {"mmlu_acc_mcnemar_p": 0.2}, MMLU, row("base", 0, 1, 0, 1)) == "-3.0 [-5.0, -1.0]"
    blind = row("base", 0, 1, 0, 1, can_show=False)
    assert _cell(strong, MMLU, blind) == "**-3.0 [-5.0, -1.0]** (cannot show a cost)"
    assert _cell({"model": "1e-3"}, MMLU, blind) == "not run"


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("comparison")
    studies = [  # as the committed one was made
        "results/qwen2.5-coder-1.5b-spider",
        "results/qwen2.5-coder-0.5b-spider",
        "results/smollm2-135m-spider",
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "tradeoff.cli", "compare", *studies, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out


def table_rows(text: str, heading: str) -> dict[str, list[str]]:
    """The rows of the table under a heading, by study name."""
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [c.strip() for c in cells[1:]] for cells in rows[1:]}


def test_the_committed_studies_side_by_side_agree_with_their_reports(comparison):
    """Checked against each study's own summary.json and report.md (written by `tradeoff report`), so the test
    holds as the studies grow."""
    text = (comparison / "comparison.md").read_text()
    bases = table_rows(text, "Base models")
    picked = table_rows(text, "What each study's decision rule picks, and its cost")
    best = table_rows(text, "The highest Spider EX of each study, and its cost")
    for name, probes in (
        ("qwen2.5-coder-1.5b-spider", 4),
        ("qwen2.5-coder-0.5b-spider", 4),
        ("smollm2-135m-spider", 4),
    ):
        folder = ROOT / "results" / name
        summary = json.loads((folder / "summary.json").read_text())["learning_rates"]
        assert bases[name][1] == f"{summary[0]['spider_ex']:.4f}"
        assert bases[name][2:].count("not run") == 4 - probes  # a probe the study did not run is not a score
        models = json.loads((folder / "summary.json").read_text())["models"]
        planned = len(trainings(read_study(folder)))
        assert bases[name][-1] == f"{len(models) - 1} of {planned}"  # a study still running says so
        top = max(summary[1:], key=lambda r: r["spider_ex"])
        assert best[name][:2] == [f"{top['learning_rate']:g}", ", ".join(map(str, top["seeds"]))]
        ruled = re.search(r"(?:By the rule|Spider alone): lr (\S+) \(EX", (folder / "report.md").read_text())
        assert picked[name][0].split(" ")[0] == (ruled.group(1) if ruled else "—")  # no pick: a dash and why
    # SmolLM2's lettered MMLU is at chance and its HumanEval at zero: marked in every table, and left out of
    # the rule, which weighs the probes that can show its cost (the cloze form, GSM8K)
    assert bases["smollm2-135m-spider"][2] == "0.2381 (at chance/habit)"
    assert bases["smollm2-135m-spider"][5] == "0.0000 (at chance/habit)"
    for column in (3, 6):
        assert picked["smollm2-135m-spider"][column].endswith("(cannot show a cost)")
    assert not picked["smollm2-135m-spider"][4].endswith("(cannot show a cost)")
    assert (comparison / "comparison.png").stat().st_size > 10_000
    assert text == (ROOT / "results" / "comparison" / "comparison.md").read_text()  # the committed one is current


def test_a_folder_that_is_not_a_study_is_one_line_and_exit_2(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "tradeoff.cli", "compare", str(tmp_path), "--out", str(tmp_path / "out")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"tradeoff: {tmp_path}: not a results folder of `tradeoff sweep` (no study.yaml)"
    ]
    assert not (tmp_path / "out").exists()  # nothing written that could pass for a comparison
