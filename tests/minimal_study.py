"""Made-up studies for tests: the smallest study config a test can load, or a Study built directly, with
made-up model, config and data paths (nothing is read from them until a step runs) and its results and runs
under the test's tmp_path; and what the sweep leaves for an adapter evaluated on Spider."""

import gzip
import hashlib
import json

MINIMAL_STUDY_YAML = "name: x\nbase_model: m\ntraining_config: c\nlearning_rates: [1e-4]\nspider_dir: d\n"


def minimal_study(tmp_path, extra_yaml: str = "", overrides=()):
    """`extra_yaml`: more top-level lines for the config; `overrides`: as `tradeoff sweep --set` gives them."""
    from tradeoff.study import load_study

    path = tmp_path / "s.yaml"
    path.write_text(
        MINIMAL_STUDY_YAML + extra_yaml + f"results_dir: {tmp_path / 'results'}\nruns_dir: {tmp_path / 'runs'}\n"
    )
    return load_study(path, list(overrides))


def small_study(tmp_path, **settings):
    """A one-rate study whose files live under tmp_path (nothing in it is run)."""
    from tradeoff.study import Study

    defaults = dict(name="s", base_model="m", training_config="c", learning_rates=[1e-3], spider_dir="d")
    return Study(**{**defaults, **settings}, results_dir=str(tmp_path / "results"), runs_dir=str(tmp_path / "runs"))


def evaluated_on_spider(study, lr, seed, ex: list[float]):
    """What the sweep leaves for an adapter evaluated on Spider: its weights, their stamp and the samples."""
    from tradeoff.evaluation import eval_dir
    from tradeoff.sweep import adapter_dir

    adapter = adapter_dir(study, lr, seed)
    adapter.mkdir(parents=True)
    (adapter / "training_meta.json").write_text("{}")
    (adapter / "adapter_model.safetensors").write_bytes(f"weights {lr} {seed}".encode())
    folder = eval_dir(study, f"lr-{lr:g}-seed-{seed}", "spider_exec")
    folder.mkdir(parents=True)
    (folder / "evaluated_model.txt").write_text(hashlib.sha256(f"weights {lr} {seed}".encode()).hexdigest() + "\n")
    rows = [{"doc": {"index": i, "hardness": "easy"}, "exec_match": x} for i, x in enumerate(ex)]
    with gzip.open(folder / "samples_spider_exec.jsonl.gz", "wt") as f:
        f.writelines(json.dumps(row) + "\n" for row in rows)
