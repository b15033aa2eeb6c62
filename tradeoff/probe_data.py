"""`tradeoff prepare-probes`: the generality probes on machines without hub access, through the harness's own
task definitions (mmlu, mmlu_continuation, gsm8k) and the plugin's humaneval.

Each local release is converted into the layout of the hub dataset its task reads (local_datasets.py), and an
override that changes only `dataset_path` is written to tradeoff_tasks/_local/:
- mmlu: the harness's `mmlu` group and its category groups (a group's dataset_path reaches their subjects);
- mmlu_continuation: each of the harness's 57 subject tasks, included by path (a group-level dataset_path
  does not reach the members of tag-based groups), reading the same MMLU copy;
- gsm8k: the harness's gsm8k.yaml, included by path, reading `main` {train, test} from the local copy;
- humaneval: the plugin's humaneval (tradeoff_tasks/humaneval), which it shadows (lm-eval indexes the
  plugin's files in sorted order, and `_local/` sorts first).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import datasets
import lm_eval

from tradeoff.local_datasets import GENERATED_TASKS_DIR, SourceError, override_header, write_card_dataset
from tradeoff.mmlu_local import prepare_mmlu
from tradeoff.probes import PREPARABLE
from tradeoff_tasks.records import read_records

HARNESS_TASKS = Path(lm_eval.__file__).resolve().parent / "tasks"
PLUGIN_HUMANEVAL = Path(__file__).resolve().parent.parent / "tradeoff_tasks" / "humaneval" / "humaneval.yaml"
COMMAND = "tradeoff prepare-probes"
GSM8K_FIELDS = ("question", "answer")
HUMANEVAL_FIELDS = ("task_id", "prompt", "canonical_solution", "test", "entry_point")


def _strings(fields: tuple[str, ...]) -> datasets.Features:
    return datasets.Features({name: datasets.Value("string") for name in fields})


def read_jsonl(path: Path, fields: tuple[str, ...]) -> list[dict]:
    """Rows of a (gzipped) JSON-lines release, each with these string fields (and only those)."""
    rows = [{k: record[k] for k in fields} for record in read_records(path, fields, SourceError)]
    if not rows:
        raise SourceError(f"{path}: no records")
    return rows


def _write_override(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def prepare_gsm8k(source: Path, dataset_dir: Path, tasks_dir: Path) -> dict:
    """`source`: the release folder with train.jsonl and test.jsonl."""
    files = {split: Path(source) / f"{split}.jsonl" for split in ("train", "test")}
    for path in files.values():
        if not path.is_file():
            raise SourceError(f"{path}: not found; --gsm8k takes the release folder with train.jsonl and test.jsonl")
    splits = {split: read_jsonl(path, GSM8K_FIELDS) for split, path in files.items()}
    note = f"GSM8K converted for offline use by `{COMMAND}` (layout of openai/gsm8k, config main)."
    write_card_dataset({"main": splits}, _strings(GSM8K_FIELDS), dataset_dir, note)
    header = override_header(COMMAND, dataset_dir, "openai/gsm8k")
    _write_override(
        tasks_dir / "gsm8k.yaml",
        header + f"include: {HARNESS_TASKS / 'gsm8k' / 'gsm8k.yaml'}\ntask: gsm8k\ndataset_path: {dataset_dir}\n",
    )
    return {split: len(rows) for split, rows in splits.items()}


def humaneval_release_file(source: Path) -> Path:
    """HumanEval.jsonl.gz, given it or the folder holding it (what --humaneval takes)."""
    path = Path(source) / "HumanEval.jsonl.gz" if Path(source).is_dir() else Path(source)
    if not path.is_file():
        raise SourceError(f"{path}: not found; --humaneval takes HumanEval.jsonl.gz or its folder")
    return path


def prepare_humaneval(source: Path, dataset_dir: Path, tasks_dir: Path) -> dict:
    """`source`: HumanEval.jsonl.gz, or the folder holding it."""
    rows = read_jsonl(humaneval_release_file(source), HUMANEVAL_FIELDS)
    note = f"HumanEval converted for offline use by `{COMMAND}` (layout of openai/openai_humaneval)."
    write_card_dataset({"default": {"test": rows}}, _strings(HUMANEVAL_FIELDS), dataset_dir, note)
    header = override_header(COMMAND, dataset_dir, "openai/openai_humaneval")
    _write_override(
        tasks_dir / "humaneval.yaml",
        header + f"include: {PLUGIN_HUMANEVAL}\ntask: humaneval\ndataset_path: {dataset_dir}\n",
    )
    return {"test": len(rows)}


def write_continuation_overrides(mmlu_dataset_dir: Path, tasks_dir: Path) -> int:
    """One override per subject task of the harness's mmlu_continuation, reading the local MMLU copy."""
    folder = tasks_dir / "mmlu_continuation"
    shutil.rmtree(folder, ignore_errors=True)
    subjects = sorted((HARNESS_TASKS / "mmlu" / "continuation").glob("mmlu_*.yaml"))
    header = override_header(COMMAND, mmlu_dataset_dir, "cais/mmlu")
    for path in subjects:
        task = path.stem + "_continuation"  # the harness names the file mmlu_<subject>.yaml
        _write_override(
            folder / path.name, header + f"include: {path}\ntask: {task}\ndataset_path: {mmlu_dataset_dir}\n"
        )
    return len(subjects)


OVERRIDES = {  # probe -> an override file that names the probe's local copy once prepared
    "mmlu": ("mmlu/_mmlu_local.yaml", "mmlu_continuation/mmlu_anatomy.yaml"),
    "gsm8k": ("gsm8k.yaml",),
    "humaneval": ("humaneval.yaml",),
}


def prepared(sources: dict[str, Path | None], data_dir: Path, tasks_dir: Path = GENERATED_TASKS_DIR) -> bool:
    """Whether every given source's copy exists under data_dir and the overrides point at it."""
    data_dir, tasks_dir = Path(data_dir).resolve(), Path(tasks_dir)
    for probe in (p for p, source in sources.items() if source):
        dataset = data_dir / probe
        for name in OVERRIDES[probe]:
            override = tasks_dir / name
            if not (dataset / "README.md").is_file() or not override.is_file():
                return False
            if f"dataset_path: {dataset}\n" not in override.read_text():
                return False
    return True


def prepare_probes(sources: dict[str, Path | None], data_dir: Path, tasks_dir: Path = GENERATED_TASKS_DIR) -> dict:
    """Convert each given source ({mmlu, gsm8k, humaneval}: path or None) under data_dir/<probe>; returns a
    summary per probe. MMLU's copy serves both mmlu and mmlu_continuation."""
    data_dir, tasks_dir = Path(data_dir).resolve(), Path(tasks_dir)
    unknown = set(sources) - set(PREPARABLE)
    if unknown:
        raise SourceError(f"no preparation for {', '.join(sorted(unknown))}; known: {', '.join(PREPARABLE)}")
    summary = {}
    if sources.get("mmlu"):
        summary["mmlu"] = prepare_mmlu(Path(sources["mmlu"]), data_dir / "mmlu", tasks_dir / "mmlu")
        summary["mmlu_continuation"] = {"subjects": write_continuation_overrides(data_dir / "mmlu", tasks_dir)}
    if sources.get("gsm8k"):
        summary["gsm8k"] = prepare_gsm8k(Path(sources["gsm8k"]), data_dir / "gsm8k", tasks_dir)
    if sources.get("humaneval"):
        summary["humaneval"] = prepare_humaneval(Path(sources["humaneval"]), data_dir / "humaneval", tasks_dir)
    return summary
