"""The smallest study config a test can load: one learning rate and made-up model, config and data paths
(nothing is read from them until a step runs), its results and runs under the test's tmp_path."""

MINIMAL_STUDY_YAML = "name: x\nbase_model: m\ntraining_config: c\nlearning_rates: [1e-4]\nspider_dir: d\n"


def minimal_study(tmp_path, extra_yaml: str = "", overrides=()):
    """`extra_yaml`: more top-level lines for the config; `overrides`: as `tradeoff sweep --set` gives them."""
    from tradeoff.study import load_study

    path = tmp_path / "s.yaml"
    path.write_text(
        MINIMAL_STUDY_YAML + extra_yaml + f"results_dir: {tmp_path / 'results'}\nruns_dir: {tmp_path / 'runs'}\n"
    )
    return load_study(path, list(overrides))
