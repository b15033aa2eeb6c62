"""One model on every suite of a study: one `lm_eval` process per suite (the baseline) against one process for
all of them (`tradeoff.lm_eval_runs`, the sweep's way), measured in the same run on the same commands.

    python -m benchmarks.bench_eval_process STUDY.yaml [--tag base] [--set KEY=VALUE ...] --out bench.json

The study must be prepared: its GGUF base converted and its probes' data in place (a sweep of it has run, or
`tradeoff prepare-probes`). Both sides run the commands the sweep would run (tradeoff.evaluation.eval_command),
each into its own folder; the benchmark prints wall times, the ratio, and whether every suite's scores agree.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.launchers import timed_run
from tradeoff.evaluation import eval_command, process_command, process_order
from tradeoff.study import load_study


def _scores(out: Path) -> dict:
    [results] = out.rglob("results_*.json")
    return json.loads(results.read_text())["results"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study")
    parser.add_argument("--tag", default="base", help="the model: base, or an adapter's tag (lr-0.0001-seed-42)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    study = load_study(args.study, args.overrides)
    # the process overhead alone: with a request cache, the side that ran second would read what the first built
    study.eval.cache_requests = False
    suites = process_order(study.suites())  # as the sweep runs them
    work = Path(tempfile.mkdtemp(prefix="bench-eval-process-"))

    separate = {}
    for suite in suites:
        command = eval_command(study, args.tag, suite, work / "separate" / suite)
        separate[suite] = timed_run(command, work / f"separate-{suite}.log")
        print(f"separate lm_eval process, {suite}: {separate[suite]:.1f} s", flush=True)
    one_process = process_command(study, args.tag, {suite: work / "one" / suite for suite in suites})
    one = timed_run(one_process, work / "one-process.log")
    print(f"one process, {len(suites)} suites: {one:.1f} s", flush=True)

    agree = {suite: _scores(work / "separate" / suite) == _scores(work / "one" / suite) for suite in suites}
    result = {
        "study": args.study,
        "overrides": args.overrides,
        "model": args.tag,
        "suites": suites,
        "separate_processes_s": {suite: round(s, 1) for suite, s in separate.items()},
        "separate_total_s": round(sum(separate.values()), 1),
        "one_process_s": round(one, 1),
        "speedup": round(sum(separate.values()) / one, 2),
        "same_scores": agree,
        "work_dir": str(work),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{len(suites)} suites: {result['separate_total_s']} s in separate processes, {result['one_process_s']} s "
        f"in one: {result['speedup']}x; same scores: {all(agree.values())}"
    )
    if not all(agree.values()):
        raise SystemExit(f"bench_eval_process: scores differ for {[s for s, same in agree.items() if not same]}")


if __name__ == "__main__":
    main()
