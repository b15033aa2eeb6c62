"""The committed results are what the current code computes from their own files: `tradeoff report` on a copy of
each results folder writes the same report.md and summary.csv (a stale or order-dependent report fails here)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT


def committed_studies() -> list[str]:
    """The results folders under version control (not a local run such as the quick start's results/demo)."""
    listed = subprocess.run(
        ["git", "ls-files", ":(glob)results/*/study.yaml"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    return sorted(Path(p).parent.name for p in listed) or sorted(
        p.parent.name for p in (ROOT / "results").glob("*/study.yaml") if p.parent.name != "demo"
    )


STUDIES = committed_studies()


@pytest.mark.parametrize("study", STUDIES)
def test_the_committed_report_is_what_the_report_command_writes(study, tmp_path):
    from tradeoff.report import write_report

    committed = ROOT / "results" / study
    copy = tmp_path / study
    shutil.copytree(committed, copy)
    write_report(copy)
    for name in ("report.md", "summary.csv"):
        written = (copy / name).read_text().replace(str(copy), f"results/{study}")  # the report names its folder
        assert written == (committed / name).read_text(), f"results/{study}/{name} is stale: run tradeoff report"
