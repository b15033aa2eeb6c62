"""The report's figures tell models apart: color by learning rate, marker by seed."""

from tradeoff.plots import model_styles


def _row(model, lr=None, seed=None):
    return {"model": model, "learning_rate": lr, "seed": seed}


def test_every_model_of_a_large_grid_gets_its_own_style():
    # 8 rates x 3 seeds: more models than a ten-color cycle can tell apart
    rates = [2e-5, 1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2]
    rows = [_row("base")] + [_row(f"lr-{lr}-seed-{s}", lr, s) for lr in rates for s in (42, 43, 44)]
    styles = model_styles(rows)
    assert styles["base"] == ("black", "*")
    tuned = [styles[r["model"]] for r in rows[1:]]
    assert len({(tuple(color), marker) for color, marker in tuned}) == len(tuned)


def test_color_follows_the_rate_and_marker_the_seed():
    rows = [_row("base"), _row("a", 1e-4, 42), _row("b", 1e-4, 43), _row("c", 1e-3, 42)]
    styles = model_styles(rows)
    assert styles["a"][0] == styles["b"][0] and styles["a"][0] != styles["c"][0]
    assert styles["a"][1] == styles["c"][1] and styles["a"][1] != styles["b"][1]
