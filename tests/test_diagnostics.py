"""The report's artefact checks: answer-letter habits, the letter-frequency baseline, ties, what generated answers
carry (special-token text, SQL), and whether a probe can show a cost; and the plain-language answer in both
cases."""

import numpy as np
import pytest

from tradeoff.diagnostics import answer_positions, can_show_a_loss, generation_diagnostics, spider_diagnostics
from tradeoff.probes import PROBES
from tradeoff.report_summary import summary_text
from tradeoff.stats import bootstrap_ci


def _question(prediction, target, tie=False):
    """One MMLU question line; with tie, the next letter has the same top log-likelihood (the first one wins)."""
    lls = [-3.0, -3.0, -3.0, -3.0]
    lls[prediction] = -1.0
    if tie:
        lls[prediction + 1] = -1.0
    return {"prediction": prediction, "target": target, "loglikelihoods": lls}


def test_a_model_that_always_answers_a_scores_the_share_of_a_targets():
    targets = [0, 1, 2, 3, 0, 0, 1, 2]  # 3 of 8 are A
    questions = [_question(0, t, tie=(i == 0)) for i, t in enumerate(targets)]
    letters = answer_positions(questions)
    assert letters["mmlu_pred_A"] == 1.0 and letters["mmlu_pred_D"] == 0.0
    assert letters["mmlu_frequency_only_acc"] == pytest.approx(3 / 8)  # what answering A without reading gives
    assert letters["mmlu_tie_share"] == pytest.approx(1 / 8)


def test_spider_diagnostics_count_executing_predictions_and_empty_gold_results():
    samples = [
        {"exec_error": 1, "exec_match": 0, "gold_empty": 0},
        {"exec_error": 0, "exec_match": 1, "gold_empty": 1},  # an empty prediction matching an empty gold result
        {"exec_error": 0, "exec_match": 1, "gold_empty": 0},
        {"exec_error": 0, "exec_match": 0, "gold_empty": None},  # gold query failed
    ]
    assert spider_diagnostics(samples) == {
        "spider_executes": 0.75,
        "spider_gold_empty": pytest.approx(1 / 3),
        "spider_ex_nonempty_gold": 0.5,
    }
    old_task = [{"exec_error": 0, "exec_match": 1}]  # spider_exec before 1.5 recorded no gold_empty
    assert spider_diagnostics(old_task)["spider_ex_nonempty_gold"] is None


def test_generation_diagnostics_find_special_token_text_and_sql_among_the_lost_answers():
    base = [{"doc_id": i, "score": s, "response": "    return x\n"} for i, s in enumerate([1, 1, 1, 0, 1])]
    tuned = [
        {"doc_id": 0, "score": 0, "response": "    return x<|fim_prefix|># Test cases\nassert f(1) == 1"},
        {"doc_id": 1, "score": 0, "response": "SELECT count(*) FROM singer"},  # the specialty, in a math answer
        {"doc_id": 2, "score": 0, "response": "    return y\n"},  # lost, nothing odd about it
        {"doc_id": 3, "score": 0, "response": "<|im_end|>"},  # odd, but the base got it wrong too: not lost
        {"doc_id": 4, "score": 1, "response": "select the largest: 5"},  # words, not a query
    ]
    assert generation_diagnostics(list(reversed(tuned)), base, "gsm8k") == {
        "gsm8k_special_token_share": 0.4,
        "gsm8k_sql_share": 0.2,
        "gsm8k_lost_n": 3,
        "gsm8k_lost_special_or_sql_n": 2,
    }
    clean = generation_diagnostics(base, base, "humaneval")
    assert clean["humaneval_special_token_share"] == clean["humaneval_sql_share"] == clean["humaneval_lost_n"] == 0


def test_a_probe_at_chance_cannot_show_a_loss_and_one_well_above_can():
    rng = np.random.default_rng(0)
    assert not can_show_a_loss(bootstrap_ci((rng.random(4000) < 0.25).astype(float))[0], 0.25)
    assert can_show_a_loss(bootstrap_ci((rng.random(4000) < 0.40).astype(float))[0], 0.25)


def _row(model, lr, ex, ex_p, mmlu, mmlu_p, base_ex=0.1, base_mmlu=0.5):
    return {
        "model": model,
        "learning_rate": lr,
        "spider_ex": ex,
        "spider_ex_delta": ex - base_ex,
        "spider_ex_mcnemar_p": ex_p,
        "mmlu_acc": mmlu,
        "mmlu_acc_delta": mmlu - base_mmlu,
        "mmlu_acc_mcnemar_p": mmlu_p,
    }


def _rows(can_show):
    base = _row("base", None, 0.1, 1.0, 0.5, 1.0) | {"mmlu_can_show_loss": can_show}
    return [base, _row("lr-1e-04", 1e-4, 0.3, 1e-6, 0.49, 0.5), _row("lr-1e-03", 1e-3, 0.5, 1e-9, 0.40, 1e-5)]


def test_the_rule_skips_a_learning_rate_with_a_significant_loss_on_a_probe_that_can_show_one():
    text = "\n".join(summary_text(_rows(can_show=True), [PROBES["mmlu"]]))
    assert "By the rule: lr 0.0001" in text and "loses 10.0 pp of MMLU" in text
    assert "lr 0.0001 -> 0.001: 0.45" in text  # 9 MMLU points lost for 20 EX points gained


def test_when_every_gain_costs_the_report_names_only_the_probes_each_rate_lost_on():
    gsm8k = {"gsm8k_em": 0.3, "gsm8k_em_delta": 0.0, "gsm8k_em_mcnemar_p": 1.0, "gsm8k_can_show_loss": True}
    base = _row("base", None, 0.1, 1.0, 0.5, 1.0) | gsm8k | {"mmlu_can_show_loss": True}
    strong = (
        _row("lr-1e-03", 1e-3, 0.5, 1e-9, 0.40, 1e-5) | gsm8k | {"gsm8k_em_delta": 0.02, "gsm8k_em_mcnemar_p": 0.01}
    )
    text = "\n".join(summary_text([base, strong], [PROBES["mmlu"], PROBES["gsm8k"]]))
    assert "lost significantly on a probe that can show a cost: lr 0.001 on MMLU." in text  # not on GSM8K: it gained
    assert "gains 2.0 pp of GSM8K" in text


def test_without_a_probe_that_can_show_a_cost_the_report_never_claims_there_was_none():
    text = "\n".join(summary_text(_rows(can_show=False), [PROBES["mmlu"]]))
    assert "cannot say what specializing costs" in text and "lr 0.001" in text
    assert "no MMLU loss" not in text and "loses" not in text and "Pareto" not in text


def test_position_debiasing_removes_a_letter_habit_but_not_knowledge():
    from tradeoff.diagnostics import position_debiased_correct

    # A model that knows every answer but adds a strong pull towards "A": raw accuracy is 1/4, debiased 1.
    habit = [{"target": k % 4, "loglikelihoods": [0.0 if j == 0 else -8.0 for j in range(4)]} for k in range(40)]
    knows = [
        {**q, "loglikelihoods": [v + (6.0 if j == q["target"] else 0.0) for j, v in enumerate(q["loglikelihoods"])]}
        for q in habit
    ]
    assert np.mean([np.argmax(q["loglikelihoods"]) == q["target"] for q in knows]) == 0.25
    assert position_debiased_correct(knows).mean() == 1.0
    # A model that knows nothing stays at chance after debiasing: pure habit plus noise scores about 1/4.
    rng = np.random.default_rng(0)
    noise = [
        {"target": int(rng.integers(4)), "loglikelihoods": list(np.array([2.0, 0, 0, 0]) + rng.normal(size=4))}
        for _ in range(4000)
    ]
    assert abs(position_debiased_correct(noise).mean() - 0.25) < 0.03


def test_a_study_that_asks_for_debiased_mmlu_reads_every_mmlu_number_that_way(tmp_path):
    """On a committed study: the same per-question files, read with `debiased: true` for MMLU."""
    import shutil

    import yaml

    from tests.conftest import ROOT
    from tradeoff.diagnostics import position_debiased_correct
    from tradeoff.report_table import compute_rows
    from tradeoff.samples import _read_jsonl

    results = tmp_path / "study"
    shutil.copytree(ROOT / "results" / "qwen2.5-coder-0.5b-spider", results)
    study = yaml.safe_load((results / "study.yaml").read_text())
    study["probes"]["mmlu"]["debiased"] = True
    (results / "study.yaml").write_text(yaml.safe_dump(study))
    rows, _, _, probes = compute_rows(results)
    [mmlu] = [p for p in probes if p.name == "mmlu"]
    assert mmlu.label == "MMLU (position-debiased)" and "mmlu_acc" not in rows[0]
    base_questions = _read_jsonl(results / "eval" / "base" / "mmlu" / "questions.jsonl.gz")
    assert rows[0]["mmlu_acc_debiased"] == pytest.approx(position_debiased_correct(base_questions).mean())
    assert rows[0]["mmlu_acc_debiased"] == pytest.approx(rows[0]["mmlu_debiased_acc"])  # the diagnostic agrees
    assert rows[0]["mmlu_continuation_acc"] == pytest.approx(0.2626, abs=1e-4)  # the other probes are untouched


def test_debiasing_is_refused_for_a_probe_without_answer_positions():
    from tradeoff.probes import probe_settings

    with pytest.raises(ValueError, match="gsm8k: debiased applies to the multiple-choice probes"):
        probe_settings("gsm8k", {"debiased": True}, "s.yaml")
