"""`attn_implementation: torch_varlen`: padding-free batches attend per sequence, with torch's own flash kernel.

trl's padding-free collator puts a whole batch into one row and passes the sequence boundaries
(`cu_seq_lens_q`, `max_length_q`). With `sdpa`, transformers turns that row into one block-diagonal mask over
all its tokens, so attention costs (batch tokens)^2 instead of the sum of each sequence's length^2: profiled on
an H200 (8B shape, batch 16), that masked attention (cuDNN) took 43% of GPU time and about 1 s of CPU time per
step (results/benchmarks.md).
`flash_attention_2` would read those boundaries, but needs the flash-attn package; torch >= 2.10 ships the same
variable-length kernel as `torch.nn.attention.varlen.varlen_attn`.

Without sequence boundaries (generation, padded batches) it is transformers' sdpa, so the same config
evaluates. Off CUDA a padding-free batch is attended sequence by sequence with sdpa: exact, slower, and what
the tests compare against padded training.
"""

from __future__ import annotations

import inspect
import itertools
import logging
from collections import Counter

import torch
import torch.nn.functional as F
from transformers import AttentionInterface
from transformers.integrations.sdpa_attention import sdpa_attention_forward
from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

NAME = "torch_varlen"
log = logging.getLogger(__name__)
calls = Counter()  # attention calls per path, so a benchmark can show which one ran

try:
    from torch.nn.attention.varlen import varlen_attn

    _VARLEN_PARAMS = inspect.signature(varlen_attn).parameters
except ImportError:  # torch < 2.10
    varlen_attn, _VARLEN_PARAMS = None, {}


def _flash_varlen(query, key, value, cu_seq_lens, max_length, scaling):
    """query (1, Hq, T, D), key/value (1, Hkv, T, D) -> (1, T, Hq, D), each sequence causal on its own."""
    # the kernel takes (tokens, heads, dim) and bf16/fp16; under autocast q/k/v can still be fp32
    dtype = value.dtype if value.dtype in (torch.bfloat16, torch.float16) else torch.bfloat16
    q, k, v = (x[0].transpose(0, 1).to(dtype).contiguous() for x in (query, key, value))
    kwargs = {}
    if k.size(1) != q.size(1):  # grouped-query attention: native where the kernel offers it
        if "enable_gqa" in _VARLEN_PARAMS:
            kwargs["enable_gqa"] = True
        else:
            k, v = (x.repeat_interleave(q.size(1) // x.size(1), dim=1) for x in (k, v))
    # torch 2.10 spells causality is_causal; later versions a (left, right) window
    kwargs.update({"window_size": (-1, 0)} if "window_size" in _VARLEN_PARAMS else {"is_causal": True})
    if scaling is not None and "scale" in _VARLEN_PARAMS:
        kwargs["scale"] = scaling
    out = varlen_attn(q, k, v, cu_seq_lens, cu_seq_lens, max_length, max_length, **kwargs)
    return out.unsqueeze(0).to(query.dtype)


def _per_sequence_sdpa(query, key, value, cu_seq_lens, scaling):
    """The same result as _flash_varlen, one sdpa call per sequence (CPU, tests)."""
    bounds = cu_seq_lens.tolist()
    outs = [
        F.scaled_dot_product_attention(
            query[:, :, a:b], key[:, :, a:b], value[:, :, a:b], is_causal=True, scale=scaling, enable_gqa=True
        )
        for a, b in itertools.pairwise(bounds)
    ]
    return torch.cat(outs, dim=2).transpose(1, 2)


def varlen_attention_forward(module, query, key, value, attention_mask, dropout=0.0, scaling=None, **kwargs):
    cu_seq_lens = kwargs.get("cu_seq_lens_q")
    kernel_scale_ok = scaling is None or "scale" in _VARLEN_PARAMS or scaling == query.size(-1) ** -0.5
    if cu_seq_lens is None or query.size(0) != 1 or (dropout and module.training) or not kernel_scale_ok:
        calls["sdpa"] += 1
        return sdpa_attention_forward(
            module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, **kwargs
        )
    if query.is_cuda and varlen_attn is not None:
        calls["flash_varlen"] += 1
        return _flash_varlen(query, key, value, cu_seq_lens, int(kwargs["max_length_q"]), scaling), None
    calls["per_sequence_sdpa"] += 1
    return _per_sequence_sdpa(query, key, value, cu_seq_lens.to(query.device), scaling), None


def register() -> None:
    """Make `attn_implementation="torch_varlen"` loadable; masks are built as for sdpa, for the fallback."""
    kernel = "torch's flash varlen kernel on CUDA" if varlen_attn is not None else "one sdpa call per sequence"
    log.warning("attn_implementation=%s: padding-free batches use %s", NAME, kernel)
    AttentionInterface.register(NAME, varlen_attention_forward)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
