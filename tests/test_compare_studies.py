"""`tradeoff compare`: the decision rule's outcomes, and the comparison of the two committed studies (recomputed
from their per-sample files)."""

import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tradeoff.probes import PROBES
from tradeoff.report_summary import ALL_LOSE, CHOSEN, NO_GAIN, SPIDER_ONLY, rule_choice

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


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("comparison")
    studies = [ROOT / "results" / "qwen2.5-coder-0.5b-spider", ROOT / "results" / "smollm2-135m-spider"]
    proc = subprocess.run(
        [sys.executable, "-m", "tradeoff.cli", "compare", *map(str, studies), "--out", str(out)],
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


def test_the_committed_studies_side_by_side(comparison):
    text = (comparison / "comparison.md").read_text()
    bases = table_rows(text, "Base models")
    assert bases["qwen2.5-coder-0.5b-spider"][1:] == ["0.4516", "0.2688", "0.2626", "0.1274", "0.4268"]
    # SmolLM2's MMLU is at chance, and it ran no other probe: neither is shown as a score it does not have
    assert bases["smollm2-135m-spider"][2:] == ["0.2381 (at chance/habit)", "not run", "not run", "not run"]
    picked = table_rows(text, "What each study's decision rule picks, and its cost")
    assert picked["qwen2.5-coder-0.5b-spider"][:3] == ["0.0002", "42", "+11.7 [+8.4, +14.8]"]
    assert picked["smollm2-135m-spider"][0] == "0.002 (no probe can show a cost: Spider alone)"
    assert picked["smollm2-135m-spider"][3].endswith("(cannot show a cost)")
    best = table_rows(text, "The highest Spider EX of each study, and its cost")
    assert best["qwen2.5-coder-0.5b-spider"][:2] == ["0.0005", "42, 43"]  # the mean over its two seeds
    assert best["qwen2.5-coder-0.5b-spider"][-1].startswith("**-")  # HumanEval's significant loss, in bold
    assert (comparison / "comparison.png").stat().st_size > 10_000


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
