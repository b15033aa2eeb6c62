"""Decode-step attention for grouped-query models without copying the key/value cache.

transformers' `sdpa` attention can only let torch share a key/value head between its query heads when there is
no attention mask. Batched generation always has one (left padding, static-cache slots), so at every decode
step and layer it first copies the whole cache `heads / kv_heads` times (`repeat_kv`). For SmolLM2-135M
(9 query heads, 3 key/value heads) at batch 972 that copy was about half of an H200's decode time
(results/benchmarks.md).

With one query position the copy is unnecessary: the query heads that share a key/value head can be laid out as
that head's query *rows* ([batch, kv_heads, group, dim]). Each row attends to the same keys under the same
padding mask, which is exactly the attention of those heads, so torch's kernels run on the cache as it is.
Everything else (prefill, training, masks with per-query rows, dropout, position biases, attention weights)
goes to transformers' own function unchanged.

spider_exec turns this on when its dataset is built (before generation; `--metadata '{"grouped_decode": false}'`
keeps the stock function) by registering it as `sdpa` in transformers' AttentionInterface, which models look up
at every forward.
"""

from __future__ import annotations

import torch
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward


def _decode_step_shares_heads(module, query, attention_mask, dropout, kwargs) -> bool:
    groups = getattr(module, "num_key_value_groups", 1)
    one_mask_row = attention_mask is None or (attention_mask.shape[1] == 1 and attention_mask.shape[2] == 1)
    plain = dropout == 0.0 and kwargs.get("position_bias") is None and not kwargs.get("output_attentions")
    return groups > 1 and query.shape[2] == 1 and one_mask_row and plain


def grouped_decode_sdpa(
    module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kwargs
):
    """transformers' sdpa attention signature: query [b, heads, q, d], key/value [b, kv_heads, k, d];
    returns ([b, q, heads, d], None)."""
    if not _decode_step_shares_heads(module, query, attention_mask, dropout, kwargs):
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, is_causal=is_causal, **kwargs
        )
    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    # query head h reads key/value head h // group (repeat_kv's order), so this reshape keeps each head's keys
    rows = query.reshape(batch, kv_heads, heads // kv_heads, dim)
    out = torch.nn.functional.scaled_dot_product_attention(rows, key, value, attn_mask=attention_mask, scale=scaling)
    return out.reshape(batch, 1, heads, dim), None


def use_grouped_decode(enabled: bool = True) -> bool:
    """Make `sdpa` models use grouped_decode_sdpa (or transformers' own function again); True when it is on."""
    AttentionInterface.register("sdpa", grouped_decode_sdpa if enabled else sdpa_attention_forward)
    return enabled
