"""Where a study's extra seeds go: around the best Spider EX, then to the decision rule's choice until it has
them all (no models run)."""

import json

import pytest
import yaml

from tests.minimal_study import evaluated_on_spider, small_study


def test_seeds_around_best_go_to_the_best_rate_and_its_neighbours(tmp_path):
    from tradeoff.seeds_around_best import seeds_around_best

    study = small_study(tmp_path, learning_rates=[1e-4, 5e-4, 1e-3, 2e-3], seeds_around_best=[43, 44])
    for lr, ex in ((1e-4, [1, 0, 0, 0]), (5e-4, [1, 1, 1, 0]), (1e-3, [1, 1, 0, 0])):
        evaluated_on_spider(study, lr, 42, ex)
    with pytest.raises(ValueError, match="missing: 0.002"):
        seeds_around_best(study)
    evaluated_on_spider(study, 2e-3, 42, [0, 0, 0, 0])
    best, around = seeds_around_best(study)
    assert best == 5e-4
    assert around == {1e-4: [42, 43, 44], 5e-4: [42, 43, 44], 1e-3: [42, 43, 44]}  # the grid's seed is kept
    edge = small_study(tmp_path / "edge", learning_rates=[1e-4, 2e-3], seeds_around_best=[42, 43])
    evaluated_on_spider(edge, 1e-4, 42, [0])
    evaluated_on_spider(edge, 2e-3, 42, [1])  # the best at the end of the grid has one neighbour
    assert seeds_around_best(edge) == (2e-3, {1e-4: [42, 43], 2e-3: [42, 43]})


def test_the_sweep_adds_the_seeds_once_the_grid_is_evaluated(tmp_path, monkeypatch):
    study, planned = _sweep_with_choices(tmp_path, monkeypatch, None, grid={1e-4: [0, 1], 1e-3: [1, 1]})
    assert "train-lr-0.001-seed-7" not in planned[0]
    assert {"train-lr-0.001-seed-7", "train-lr-0.0001-seed-7", "eval-lr-0.001-seed-7"} <= set(planned[1])
    assert len(planned) == 2  # no base evaluated here: the rule is not read
    record = (study.results / "study.yaml").read_text()
    assert "best Spider EX at lr 0.001" in record
    assert yaml.safe_load(record)["seeds_by_lr"] == {1e-4: [7, 42], 1e-3: [7, 42]}  # the report plans from it


def _rate(lr, seeds, ex_p, humaneval, humaneval_p):
    """A report row of one learning rate over its seeds: its EX gain, and a HumanEval change."""
    return {
        "model": f"lr-{lr:g}",
        "learning_rate": lr,
        "seeds": seeds,
        "spider_ex_delta": 0.1,
        "spider_ex_mcnemar_p": ex_p,
        "humaneval_pass1_delta": humaneval,
        "humaneval_pass1_mcnemar_p": humaneval_p,
    }


def test_the_rule_s_choice_gets_the_seeds_until_it_has_them_all():
    from tradeoff.probes import PROBES
    from tradeoff.seeds_around_best import choice_to_seed

    humaneval = PROBES["humaneval"]
    base = {"model": "base", "learning_rate": None, "humaneval_can_show_loss": True}
    gentle = _rate(1e-4, [42], 0.001, -0.05, 0.09)  # one seed, no significant loss: the rule's choice
    seeded = _rate(5e-4, [42, 43, 44], 0.001, -0.09, 0.003)  # the best EX, a loss over its seeds
    assert choice_to_seed([base, gentle, seeded], [humaneval], [42, 43, 44]) == 1e-4
    gentle_seeded = gentle | {"seeds": [42, 43, 44], "humaneval_pass1_seed_mean_p": 0.2}
    assert choice_to_seed([base, gentle_seeded, seeded], [humaneval], [42, 43, 44]) is None  # all in
    assert choice_to_seed([base, gentle, seeded], [humaneval], [42]) is None
    assert choice_to_seed([base, seeded], [humaneval], [42, 43, 44]) is None  # every gain loses: no choice


def test_the_committed_qwen_study_s_rule_settles_on_a_seeded_choice():
    """On the committed study's report rows (tests/test_committed_results.py keeps them current): its rule
    picked lr 1e-4 on seed 42; seeds 43 and 44 there lose HumanEval, so the rule moved to 2e-5, which holds on
    all three seeds: the rule's choice has its seeds, nothing is left to seed."""
    from tests.conftest import ROOT
    from tradeoff.probes import study_probes
    from tradeoff.report_summary import rule_choice
    from tradeoff.report_table import read_study
    from tradeoff.seeds_around_best import choice_to_seed

    results = ROOT / "results" / "qwen2.5-coder-0.5b-spider"
    by_lr = json.loads((results / "summary.json").read_text())["learning_rates"]
    study = read_study(results)
    probes = study_probes(study)
    _, chosen = rule_choice(by_lr, probes)
    assert (chosen["learning_rate"], chosen["seeds"]) == (2e-5, [42, 43, 44])
    assert choice_to_seed(by_lr, probes, study["seeds_around_best"]) is None


GRID = {2e-5: [0, 0], 1e-4: [0, 1], 1e-3: [1, 1]}  # each rate's Spider answers with seed 42


def _sweep_with_choices(tmp_path, monkeypatch, choose, grid=GRID):
    """Run the sweep of a study with `grid`'s rates (no models run; the first plan evaluates the grid on Spider)
    with the decision rule's choices given by `choose` (None: the sweep's own reading); returns the study and
    the names of each plan's steps."""
    from tradeoff import sweep

    (tmp_path / "c").write_text("{}")
    study = small_study(
        tmp_path, learning_rates=list(grid), seeds_around_best=[42, 7], training_config=str(tmp_path / "c")
    )
    planned = []

    def run_steps(steps, *args, **kwargs):
        planned.append([step.name for step in steps])
        if len(planned) == 1:
            for lr, ex in grid.items():
                evaluated_on_spider(study, lr, 42, ex)
        return [step.name for step in steps]

    monkeypatch.setattr(sweep, "run_steps", run_steps)
    if choose is not None:
        monkeypatch.setattr(sweep, "seed_the_choice", choose)
    sweep.run_sweep(study)
    return study, planned


def test_the_sweep_seeds_the_rule_s_choice_and_reads_the_rule_again(tmp_path, monkeypatch):
    choices = iter([2e-5, 1e-4])  # the rule moves once the first choice's seeds are in, then settles
    study, planned = _sweep_with_choices(tmp_path, monkeypatch, lambda s: next(choices, None))
    assert len(planned) == 4  # the grid, the seeds around the best, the first choice, then the next
    assert "train-lr-2e-05-seed-7" not in planned[1] and "train-lr-2e-05-seed-7" in planned[2]
    record = (study.results / "study.yaml").read_text()
    assert "the decision rule's choice, lr 2e-05, gets them too" in record
    assert yaml.safe_load(record)["seeds_by_lr"][2e-5] == [7, 42]
    never_settles = tmp_path / "never"
    never_settles.mkdir()
    study, planned = _sweep_with_choices(never_settles, monkeypatch, lambda s: 1e-3)
    assert len(planned) == 2 + len(study.learning_rates)  # bounded: once per rate


def test_the_rule_is_read_from_a_finished_study_as_the_report_reads_it(tmp_path):
    """seed_the_choice on the committed Qwen2.5-Coder-0.5B study as it was before lr 1e-4 and 2e-5 got their seeds
    (its rule picked lr 1e-4, trained with seed 42 only), and on a copy of that with one suite missing."""
    import shutil

    from tests.conftest import ROOT
    from tradeoff.layout import model_tag
    from tradeoff.seeds_around_best import seed_the_choice
    from tradeoff.study import Study

    committed = ROOT / "results" / "qwen2.5-coder-0.5b-spider"
    before = tmp_path / "before"
    shutil.copytree(committed, before)
    recorded = yaml.safe_load((before / "study.yaml").read_text())
    for lr in (1e-4, 2e-5):  # the rule's later choices, as the grid trained them: seed 42
        recorded["seeds_by_lr"].pop(lr, None)
        for seed in (43, 44):
            shutil.rmtree(before / "eval" / model_tag(lr, seed), ignore_errors=True)
    (before / "study.yaml").write_text(yaml.safe_dump(recorded))

    def study(results, seeds):
        rates = [2e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3]
        return Study(
            name="s", base_model="m", training_config="c", learning_rates=rates, spider_dir="d",
            seeds_around_best=seeds, results_dir=str(results), runs_dir=str(tmp_path / "runs"),
        )  # fmt: skip

    assert seed_the_choice(study(before, [42, 43, 44])) == 1e-4
    assert seed_the_choice(study(before, [42])) is None  # its seeds are all in
    (before / "eval" / "lr-0.002-seed-42" / "mmlu" / "results.json").unlink()
    assert seed_the_choice(study(before, [42, 43, 44])) is None  # a model unfinished: the rule is not read yet
