"""One model on some of a study's suites with the study's settings (the baseline) against changed settings, each
in the sweep's evaluation process (or processes, with eval.processes: 2), measured in the same run.

    python -m benchmarks.bench_eval_settings STUDY.yaml --suites gsm8k humaneval \
        --variant eval.grouped_decode=true \
        --variant "probes.gsm8k.gen_kwargs={cache_implementation: static, disable_compile: true}" \
        [--tag base] [--set KEY=VALUE ...] --out bench.json

--set changes both sides (local paths, say); --variant only the second; --warm runs the variant once, untimed,
before the measured runs (for a setting that fills a cache, such as eval.cache_requests, whose gain comes from
the second model of a study on). The study must be prepared, as for
bench_eval_process. Prints both wall times, their ratio, each suite's headline score on both sides and how many
questions' answers differ, since a faster setting is worth having only if it answers the same.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from benchmarks.launchers import timed_runs
from tradeoff.evaluation import process_commands, process_environment, process_order
from tradeoff.probes import PROBES
from tradeoff.study import load_study
from tradeoff_tasks.records import read_records


def headline(out: Path, suite: str) -> float:
    [results] = out.rglob("results_*.json")
    scores = json.loads(results.read_text())["results"]
    metric = PROBES[suite].metric if suite in PROBES else "exec_match,exec"
    return scores[suite][metric]


def answers(out: Path, suite: str) -> dict[tuple, str]:
    """Each question's answer as scored, by (task, doc_id), from lm-eval's per-sample logs (which hold one line
    per filter: the headline's filter is read where the probe names one, as for GSM8K's flexible-extract)."""
    wanted = PROBES[suite].sample_filter if suite in PROBES else None
    found = {}
    for log in out.rglob("samples_*.jsonl"):
        task = log.name.removeprefix("samples_").rsplit("_", 1)[0]
        for sample in read_records(log, (), ValueError):
            if wanted is None or sample.get("filter") == wanted:
                found[(task, sample["doc_id"])] = json.dumps(sample.get("filtered_resps"))
    return found


def compare(baseline: Path, variant: Path, suite: str) -> dict:
    before, after = answers(baseline, suite), answers(variant, suite)
    return {
        "baseline": headline(baseline, suite),
        "variant": headline(variant, suite),
        "questions": len(before),
        "different_answers": sum(before[key] != after.get(key) for key in before),
    }


def evaluation_commands(study, tag: str, suites: list[str], out: Path, log: str) -> dict[Path, list[str]]:
    """The evaluation processes the sweep starts for these suites (process_commands: one, or two at once), each
    keyed by its log, `log` + the process's name + ".log"; each suite's output under out/<suite>."""
    commands = process_commands(study, tag, {suite: out / suite for suite in suites})
    return {Path(f"{log}{name}.log"): command for name, command in commands.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("study")
    parser.add_argument("--suites", nargs="+", required=True, help="spider_exec and/or probe names of the study")
    parser.add_argument("--variant", action="append", required=True, metavar="KEY=VALUE", help="the changed setting")
    parser.add_argument("--tag", default="base", help="the model: base, or an adapter's tag (lr-0.0001-seed-42)")
    parser.add_argument("--set", action="append", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--warm", action="store_true", help="run the variant once, untimed, before measuring")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    sides = {
        "baseline": load_study(args.study, args.overrides),
        "variant": load_study(args.study, args.overrides + args.variant),
    }
    unknown = sorted(set(args.suites) - set(sides["baseline"].suites()))
    if unknown:
        parser.error(
            f"--suites: {', '.join(unknown)} not in the study's suites ({', '.join(sides['baseline'].suites())})"
        )
    suites = process_order(args.suites)
    work = Path(tempfile.mkdtemp(prefix="bench-eval-settings-"))

    if args.warm:
        warm = evaluation_commands(sides["variant"], args.tag, suites, work / "warm", str(work / "warm"))
        seconds = timed_runs(warm, process_environment(sides["variant"]))
        print(f"warm-up: {seconds:.1f} s (not counted)", flush=True)
    wall = {}
    for side, study in sides.items():
        commands = evaluation_commands(study, args.tag, suites, work / side, str(work / side))
        wall[side] = timed_runs(commands, process_environment(study))
        print(f"{side}: {wall[side]:.1f} s", flush=True)
    result = {
        "study": args.study,
        "overrides": args.overrides,
        "variant": args.variant,
        "warm": args.warm,
        "model": args.tag,
        "suites": suites,
        "baseline_s": round(wall["baseline"], 1),
        "variant_s": round(wall["variant"], 1),
        "speedup": round(wall["baseline"] / wall["variant"], 2),
        "scores": {suite: compare(work / "baseline" / suite, work / "variant" / suite, suite) for suite in suites},
        "work_dir": str(work),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"{' + '.join(suites)}: baseline {result['baseline_s']} s, variant {result['variant_s']} s: {result['speedup']}x"
    )
    for suite, s in result["scores"].items():
        print(
            f"  {suite}: {s['baseline']:.4f} -> {s['variant']:.4f}; "
            f"{s['different_answers']} of {s['questions']} answers differ"
        )


if __name__ == "__main__":
    main()
