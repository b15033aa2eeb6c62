"""Tokenize a log-likelihood pass in one batch instead of one request at a time, with the same token ids.

lm-eval's `loglikelihood` encodes every request's context and context + continuation with one tokenizer call
each: MMLU's 14,042 questions are 56,168 requests, so 112,336 calls, and each question's context four times. In
a study on an H200 machine that took about a minute per MMLU pass of a 0.5B model, more than the scoring.
`enable(HFLM)` makes each pass first encode the distinct strings it will ask for in batches (one call per batch,
each string once), then answer the harness's `tok_encode` calls for those strings from that table. The batches use every core, which
`lm_eval`'s process-wide TOKENIZERS_PARALLELISM=false otherwise forbids. Everything else is the harness's own
code, so the requests, their order and the scores are unchanged; any other call, with other arguments or for
another string, goes to the tokenizer as before. tests/test_batched_tokenize.py checks the ids are the same.
"""

from __future__ import annotations

import os
from collections import defaultdict
from contextlib import contextmanager

PARALLELISM = "TOKENIZERS_PARALLELISM"
BATCH = 4096  # strings per tokenizer call: big enough that per-call overhead vanishes, small enough for memory


def _encoded_strings(requests) -> set[str]:
    """The strings lm-eval's `_encode_pair` encodes for these requests (its trailing-space rule included)."""
    strings = set()
    for context, continuation in (request.args for request in requests):
        if not context:  # encoded with other arguments; left to the harness
            continue
        spaces = len(context) - len(context.rstrip())
        if spaces:
            context, continuation = context[:-spaces], context[-spaces:] + continuation
        strings.update((context, context + continuation))
    return strings


def _encode_all(lm, strings: set[str]) -> dict[str, list[int]]:
    """Each string's ids exactly as `lm.tok_encode(string)` returns them: the same special-token arguments,
    chosen per string as the harness chooses them, and the same tokenizer."""
    from lm_eval.models.utils import _add_special_kwargs, has_bos_prefix

    bos = lm.tokenizer.decode(lm.prefix_token_id)
    by_arguments = defaultdict(list)
    for string in strings:
        kwargs = _add_special_kwargs(None, lm.add_bos_token)
        if has_bos_prefix(string, bos):
            kwargs["add_special_tokens"] = False
        by_arguments[tuple(sorted(kwargs.items()))].append(string)
    table = {}
    with _tokenizer_threads():
        for arguments, group in by_arguments.items():
            for start in range(0, len(group), BATCH):
                batch = group[start : start + BATCH]
                ids = lm.tokenizer(batch, **dict(arguments))["input_ids"]
                table.update(zip(batch, ids, strict=True))
    return table


@contextmanager
def _tokenizer_threads():
    """A fast tokenizer encodes a batch on all cores unless TOKENIZERS_PARALLELISM says no, which `lm_eval` sets
    for the whole process; allowed here for these calls only. The setting is back before anything can fork, so a
    child process (code execution, SQL) gets the harness's setting."""
    before = os.environ.get(PARALLELISM)
    os.environ[PARALLELISM] = "true"
    try:
        yield
    finally:
        if before is None:
            del os.environ[PARALLELISM]
        else:
            os.environ[PARALLELISM] = before


@contextmanager
def pretokenized(lm, requests):
    """While inside, `lm.tok_encode` answers from one batched encoding of these requests' strings (any other
    call goes to the tokenizer as before); the instance attribute hides the class's method until the exit."""
    table = _encode_all(lm, _encoded_strings(requests))
    encode = lm.tok_encode

    def tok_encode(string, add_special_tokens=None, left_truncate_len=None, **kwargs):
        if add_special_tokens is None and left_truncate_len is None and not kwargs and string in table:
            return list(table[string])
        return encode(string, add_special_tokens=add_special_tokens, left_truncate_len=left_truncate_len, **kwargs)

    lm.tok_encode = tok_encode
    try:
        yield
    finally:
        del lm.tok_encode


def enable(hflm_class) -> None:
    """Make every `loglikelihood` pass of this lm-eval model class pre-tokenize its requests in batches."""
    if getattr(hflm_class, "_batched_tokenize", False):
        return
    original = hflm_class.loglikelihood

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        with pretokenized(self, requests):
            return original(self, requests, disable_tqdm=disable_tqdm)

    hflm_class.loglikelihood = loglikelihood
    hflm_class._batched_tokenize = True
