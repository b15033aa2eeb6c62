"""Diverged trainings: read from each adapter's logged history and named in the report (no models)."""

from tradeoff.report_sections import training_record_notes
from tradeoff.report_table import divergence


def history(*losses, grad_norm=1.0):
    return [{"loss": loss, "grad_norm": grad_norm, "step": 10 * (i + 1)} for i, loss in enumerate(losses)] + [
        {"train_loss": 0.3, "step": 99}  # the trainer's summary line has no per-step loss
    ]


def test_a_loss_or_gradient_that_is_not_finite_or_a_loss_that_rose_is_divergence():
    assert divergence(history(2.0, 1.0, 0.5)) == ""
    assert divergence(history(2.0, float("nan"), 0.5)) == "loss nan at step 20"
    assert divergence(history(2.0, 1.0, grad_norm=float("inf"))) == "grad_norm inf at step 10"
    assert divergence(history(0.5, 0.2, 0.9)) == "loss rose from 0.500 to 0.900"
    assert divergence([]) == "" and divergence(history(3.0)) == ""  # nothing to compare


def test_the_report_names_diverged_trainings_or_says_none_did():
    base = {"model": "base"}
    fine = {"model": "lr-0.0001-seed-42", "train_steps": 215, "diverged": ""}
    broken = {"model": "lr-0.01-seed-42", "train_steps": 215, "diverged": "loss nan at step 20"}
    lost = {"model": "lr-0.001-seed-42", "training_record": "missing"}
    assert training_record_notes([base, fine, broken]) == [
        "",
        "**Diverged trainings**: lr-0.01-seed-42 (loss nan at step 20).",
    ]
    notes = training_record_notes([base, fine, lost])
    assert (
        notes[1]
        == "Steps and loss not shown, the training record is not of the evaluated adapter: lr-0.001-seed-42 (missing)."
    )
    assert notes[3].startswith("No training diverged (trainings read: 1)")
    assert training_record_notes([base]) == []
