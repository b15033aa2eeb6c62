"""tradeoff/batched_tokenize.py gives lm-eval the same token ids, so the same scores, as its own tokenizing."""

import os

import pytest

from tests.conftest import ABSENT, SHARED

# the cases lm-eval's _encode_pair treats specially: trailing spaces move to the continuation, an empty context
# is encoded with other arguments, a string starting with the BOS text gets no second BOS; and repeats
CASES = [
    ("Question: what is 2 + 2?\nAnswer:", " 4"),
    ("Question: what is 2 + 2?\nAnswer:", " 5"),
    ("Question: what is 2 + 2?\nAnswer: ", "4"),
    ("Trailing spaces and a newline  \n  ", "SELECT 1"),
    ("", "a continuation without context"),
    ("<s>starts with the BOS text", " yes"),
    ("unicode: café, 東京", " ✓"),
]


@pytest.fixture(scope="module")
def two_models(tiny_model):
    """The harness's HFLM, and a subclass with batched tokenizing (the class itself stays as the harness has it)."""
    from lm_eval.models.huggingface import HFLM

    from tradeoff.batched_tokenize import enable

    class Batched(HFLM):
        pass

    enable(Batched)
    kwargs = dict(pretrained=str(tiny_model), dtype="float32", device="cpu", max_length=2048, batch_size=2)
    return HFLM(**kwargs), Batched(**kwargs)


def _requests(cases):
    from lm_eval.api.instance import Instance

    return [Instance("loglikelihood", doc={}, arguments=case, idx=i) for i, case in enumerate(cases)]


def test_the_same_scores_as_the_harness_and_each_string_encoded_once(two_models, monkeypatch):
    stock, batched = two_models
    expected = stock.loglikelihood(_requests(CASES))
    calls = []
    tokenizer_call = type(batched.tokenizer).__call__

    def counting(self, text, *args, **kwargs):
        calls.append(len(text) if isinstance(text, list) else 1)
        threads.add(os.environ["TOKENIZERS_PARALLELISM"])
        return tokenizer_call(self, text, *args, **kwargs)

    threads = set()
    monkeypatch.setattr(type(batched.tokenizer), "__call__", counting)
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")  # as lm_eval sets it
    assert batched.loglikelihood(_requests(CASES)) == expected
    assert "tok_encode" not in vars(batched)  # the table lived for that pass only
    assert threads == {"true"} and os.environ["TOKENIZERS_PARALLELISM"] == "false"  # all cores for the batches only
    # 4 distinct contexts with text and 5 distinct context + continuation strings, each encoded once (the empty
    # context's continuation goes through the harness's own call)
    assert sum(calls) == 9


def test_the_ids_are_the_harness_ids(two_models):
    from benchmarks.bench_tokenize import batched, stock

    lm, _ = two_models
    requests = _requests([case for case in CASES if case[0]])
    assert batched(lm, requests) == stock(lm, requests)


@pytest.mark.slow
def test_real_mmlu_requests_get_the_same_ids_with_a_real_tokenizer(tmp_path):
    """All of MMLU and its cloze form (112,336 requests), with SmolLM2's tokenizer (TRADEOFF_TEST_DATA)."""
    from transformers import AutoTokenizer

    from benchmarks.bench_tokenize import batched, probe_requests, stand_in_model, stock
    from tradeoff.probe_data import prepare_probes

    model_dir, gguf = SHARED / "models" / "smollm2-135m-instruct", "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not (model_dir / gguf).is_file() or not (SHARED / "data" / "mmlu").is_dir():
        pytest.skip(f"SmolLM2 GGUF or MMLU not found under {SHARED} ({ABSENT})")
    prepare_probes({"mmlu": str(SHARED / "data" / "mmlu")}, tmp_path / "data", tmp_path / "tasks" / "_local")
    requests = probe_requests(["mmlu", "mmlu_continuation"], str(tmp_path / "tasks"))
    assert len(requests) == 2 * 4 * 14042
    lm = stand_in_model(AutoTokenizer.from_pretrained(model_dir, gguf_file=gguf))
    assert batched(lm, requests) == stock(lm, requests)


def test_the_benchmark_builds_the_harness_requests_and_compares_both_ways(tmp_path, tiny_model, synthetic_mmlu):
    import json

    from benchmarks.bench_tokenize import main
    from tradeoff.probe_data import prepare_probes

    prepare_probes({"mmlu": str(synthetic_mmlu)}, tmp_path / "data", tmp_path / "tasks" / "_local")
    out = tmp_path / "bench.json"
    argv = ["--tokenizer", str(tiny_model), "--include_path", str(tmp_path / "tasks"), "--repeats", "1"]
    assert main([*argv, "--json", str(out)]) == 0
    measured = json.loads(out.read_text())
    assert measured["requests"] == 2 * 4 * 57 * 3  # both probes: four options of 3 questions in 57 subjects
    assert measured["identical_ids"] and measured["speedup"] > 0
