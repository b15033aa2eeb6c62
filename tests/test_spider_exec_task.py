"""spider_exec through lm-eval's own evaluator, with scripted models (no generation)."""

import logging

import pytest

from tests.conftest import TASKS_DIR
from tests.scripted_lm import ScriptedLM, evaluate
from tradeoff_tasks import prompts
from tradeoff_tasks.spider_data import SpiderDataError, build_rows


def _metrics(results):
    return {
        k.split(",")[0]: v
        for k, v in results["results"]["spider_exec"].items()
        if k.endswith(",exec") and "_stderr" not in k
    }


def test_gold_answers_score_one_on_the_sample(sample_spider):
    model = ScriptedLM(lambda doc: "```sql\n" + doc["query"] + ";\n```")
    results = evaluate(model, TASKS_DIR, spider_dir=str(sample_spider))
    metrics = _metrics(results)
    assert metrics["exec_match"] == 1.0 and metrics["exec_error"] == 0.0 and metrics["gold_error"] == 0.0
    assert {k for k in metrics if k.startswith("exec_match_")} == {
        f"exec_match_{lvl}" for lvl in ("easy", "medium", "hard", "extra", "nonempty_gold")
    }
    assert metrics["exec_match_nonempty_gold"] == 1.0 and metrics["gold_empty"] == 0.0
    samples = results["samples"]["spider_exec"]
    assert len(samples) == 107
    # The prompt the model saw is exactly the shared prompt module's output.
    first = samples[0]["doc"]
    assert model.contexts[0] == prompts.build_prompt(first["question"], first["schema"])
    assert samples[0]["filtered_resps"][0] == first["query"]


def test_wrong_answers_errors_and_prose_are_scored_as_such(sample_spider):
    def answer(doc):
        return {0: "SELECT nonsense FROM nowhere", 1: "I cannot answer that.", 2: "SELECT 12345"}.get(
            doc["index"] % 4, doc["query"]
        )

    metrics = _metrics(evaluate(ScriptedLM(answer), TASKS_DIR, spider_dir=str(sample_spider)))
    n = 107
    correct = sum(1 for i in range(n) if i % 4 == 3)
    assert metrics["exec_match"] == pytest.approx(correct / n)
    assert metrics["exec_error"] == pytest.approx(sum(1 for i in range(n) if i % 4 in (0, 1)) / n)


def test_text_after_the_sql_is_cut_as_the_stop_strings_cut_it(sample_spider):
    """The task checks only ";" during generation; its filter cuts at the other stop strings afterwards."""
    tails = [
        "\n\n\n### Question\nHow many?",
        "\n### Question\nWhich?",
        " ### SQL\nSELECT 1",
        ";\nSELECT 2",
        "\n\n\nSELECT 3",
    ]
    results = evaluate(
        ScriptedLM(lambda doc: doc["query"] + tails[doc["index"] % len(tails)]),
        TASKS_DIR,
        spider_dir=str(sample_spider),
    )
    assert _metrics(results)["exec_match"] == 1.0
    assert all(s["filtered_resps"][0] == s["doc"]["query"].strip() for s in results["samples"]["spider_exec"])


def test_missing_spider_dir_is_one_clear_error(monkeypatch):
    monkeypatch.delenv("SPIDER_DIR", raising=False)
    with pytest.raises(SpiderDataError, match="spider_dir.*SPIDER_DIR"):
        build_rows(None)


def test_missing_databases_are_counted_and_optionally_fatal(sample_spider, tmp_path, caplog):
    import shutil

    copy = tmp_path / "spider"
    shutil.copytree(sample_spider, copy)
    shutil.rmtree(copy / "database" / "airline")
    with caplog.at_level(logging.WARNING):
        rows = build_rows(copy, "dev")
    assert all(r["db_id"] == "orchestra" for r in rows)
    n_airline = len(build_rows(sample_spider, "dev")) - len(rows)
    assert f"{n_airline} of 107 questions skipped, database missing: airline ({n_airline} questions)" in caplog.text
    with pytest.raises(SpiderDataError, match="airline"):
        build_rows(copy, "dev", fail_on_missing_db=True)


def test_real_spider_dev_gold_scores_one_with_wta_1_skipped(real_spider, caplog):
    with caplog.at_level(logging.WARNING):
        results = evaluate(ScriptedLM(lambda doc: doc["query"]), TASKS_DIR, spider_dir=str(real_spider))
    assert results["n-samples"]["spider_exec"]["effective"] == 972
    assert "62 of 1034 questions skipped, database missing: wta_1 (62 questions)" in caplog.text
    metrics = _metrics(results)
    assert metrics["exec_match"] == 1.0 and metrics["gold_error"] == 0.0


def test_an_empty_gold_result_is_counted_and_left_out_of_ex_on_nonempty_gold(sample_spider):
    """Any empty prediction matches an empty gold result: such questions are flagged (gold_empty) and
    exec_match_nonempty_gold leaves them out."""
    from tradeoff_tasks import task_support

    row = dict(build_rows(sample_spider, "dev")[0], keep_distinct=False, timeout=5.0, max_rows=1000)
    empty_gold = dict(row, query="SELECT 1 WHERE 0")
    matched_by_nothing = task_support.process_results(empty_gold, ["SELECT 2 WHERE 0"])
    assert matched_by_nothing["exec_match"] == 1 and matched_by_nothing["gold_empty"] == 1
    assert matched_by_nothing["exec_match_nonempty_gold"] is None
    real = task_support.process_results(row, [row["query"]])
    assert (real["exec_match"], real["gold_empty"], real["exec_match_nonempty_gold"]) == (1, 0, 1)
    assert task_support.mean_of_scored([None, 1, 0, None]) == 0.5


def test_an_answer_prefix_starts_the_answer_and_is_part_of_the_prediction(sample_spider):
    """--metadata answer_prefix: the context ends with it (lm-eval's gen_prefix) and the model continues it."""
    model = ScriptedLM(lambda doc: doc["query"].removeprefix("SELECT"))
    results = evaluate(model, TASKS_DIR, spider_dir=str(sample_spider), answer_prefix="SELECT")
    assert _metrics(results)["exec_match"] == 1.0
    assert all(context.endswith("### SQL\nSELECT") for context in model.contexts)
    first = results["samples"]["spider_exec"][0]
    assert first["filtered_resps"][0] == first["doc"]["query"]


def test_few_shot_examples_come_from_the_train_split_in_the_prompt_modules_format(sample_spider):
    import lm_eval
    from lm_eval.tasks import TaskManager

    model = ScriptedLM(lambda doc: doc["query"])
    metadata = {"spider_dir": str(sample_spider), "fewshot": True}
    lm_eval.simple_evaluate(
        model=model,
        tasks=["spider_exec"],
        num_fewshot=2,
        limit=3,
        bootstrap_iters=0,
        task_manager=TaskManager(include_path=str(TASKS_DIR), metadata=metadata),
    )
    train = {(r["question"], r["query"]) for r in build_rows(sample_spider, "train", require_databases=False)}
    dev = build_rows(sample_spider, "dev")
    for context in model.contexts:
        blocks = context.split("\n\n" + prompts.INSTRUCTION)
        assert len(blocks) == 3  # two examples, then the question
        examples = [(prompts.INSTRUCTION + b if i else b) for i, b in enumerate(blocks[:2])]
        for example in examples:
            question = example.split("### Question\n")[1].split("\n\n### SQL\n")[0]
            answer = example.split("### SQL\n")[1]
            assert (question, answer) in train  # a train question with its gold SQL right after the prompt
        assert any(context.endswith(prompts.build_prompt(d["question"], d["schema"])) for d in dev)
