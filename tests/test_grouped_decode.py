"""grouped_decode_sdpa computes transformers' sdpa attention without copying the key/value cache."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from transformers import AttentionInterface, LlamaConfig, LlamaForCausalLM  # noqa: E402
from transformers.integrations.sdpa_attention import sdpa_attention_forward  # noqa: E402

from tradeoff_tasks import grouped_decode  # noqa: E402
from tradeoff_tasks.task_support import load_dataset_dict  # noqa: E402


@pytest.fixture(autouse=True)
def stock_sdpa_afterwards():
    yield
    AttentionInterface.register("sdpa", sdpa_attention_forward)


class _Attention(torch.nn.Module):
    num_key_value_groups = 3
    is_causal = True


def _padding_mask(batch: int, length: int) -> torch.Tensor:
    """sdpa's boolean mask for one query row: True where a key may be read, left padding of 0..4 keys."""
    mask = torch.ones(batch, 1, 1, length, dtype=torch.bool)
    for row in range(batch):
        mask[row, ..., : row % 5] = False
    return mask


def test_one_decode_step_matches_transformers_sdpa():
    torch.manual_seed(0)
    query, key, value = torch.randn(7, 9, 1, 16), torch.randn(7, 3, 40, 16), torch.randn(7, 3, 40, 16)
    mask = _padding_mask(7, 40)
    expected, _ = sdpa_attention_forward(_Attention(), query, key, value, mask, scaling=0.25)
    got, _ = grouped_decode.grouped_decode_sdpa(_Attention(), query, key, value, mask, scaling=0.25)
    assert got.shape == expected.shape == (7, 1, 9, 16)
    torch.testing.assert_close(got, expected)


def test_prefill_and_masks_with_query_rows_go_to_transformers(monkeypatch):
    calls = []
    monkeypatch.setattr(grouped_decode, "sdpa_attention_forward", lambda *a, **k: calls.append(a[1].shape))
    causal = torch.ones(2, 1, 5, 5, dtype=torch.bool).tril()
    grouped_decode.grouped_decode_sdpa(
        _Attention(), torch.randn(2, 9, 5, 8), torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 8), causal
    )
    grouped_decode.grouped_decode_sdpa(
        _Attention(), torch.randn(2, 9, 1, 8), torch.randn(2, 3, 5, 8), torch.randn(2, 3, 5, 8), None, dropout=0.1
    )
    assert calls == [(2, 9, 5, 8), (2, 9, 1, 8)]


def _generate(model, cache: str) -> torch.Tensor:
    torch.manual_seed(1)
    ids = torch.randint(3, 200, (6, 14))
    attention = torch.ones_like(ids)
    for row in range(6):  # left padding, as lm-eval pads a batch
        attention[row, : row * 2] = 0
        ids[row, : row * 2] = 0
    with torch.no_grad():
        return model.generate(
            input_ids=ids,
            attention_mask=attention,
            max_new_tokens=12,
            do_sample=False,
            cache_implementation=cache,
            disable_compile=True,
            pad_token_id=0,
        )


@pytest.mark.parametrize("cache", ["static", "dynamic"])
def test_greedy_generation_is_unchanged_and_uses_the_grouped_path(monkeypatch, cache):
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=200,
        hidden_size=96,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=6,
        num_key_value_heads=2,
        initializer_range=0.3,
        pad_token_id=0,
    )
    model = LlamaForCausalLM(config).eval()
    model.set_attn_implementation("sdpa")
    stock = _generate(model, cache)

    grouped_steps = []
    decides = grouped_decode._decode_step_shares_heads
    monkeypatch.setattr(
        grouped_decode, "_decode_step_shares_heads", lambda *a: grouped_steps.append(decides(*a)) or grouped_steps[-1]
    )
    assert grouped_decode.use_grouped_decode(True)
    grouped = _generate(model, cache)
    assert torch.equal(grouped, stock)
    # 2 layers x (1 prefill + 11 decode steps); only the decode steps take the grouped path
    assert grouped_steps.count(True) == 22 and grouped_steps.count(False) == 2


def test_spider_exec_turns_it_on_unless_metadata_says_no(sample_spider):
    load_dataset_dict(spider_dir=str(sample_spider), sample_rows=2)
    assert AttentionInterface._global_mapping["sdpa"] is grouped_decode.grouped_decode_sdpa
    load_dataset_dict(spider_dir=str(sample_spider), sample_rows=2, grouped_decode="false")
    assert AttentionInterface._global_mapping["sdpa"] is sdpa_attention_forward
