"""Spider's hardness level of a gold query, computed once per query ever: parsed by the rules in
hardness_rules.py (which import sqlglot) only when the on-disk cache (cache.py) does not know it yet."""

from __future__ import annotations

from .cache import shared_cache

LEVELS = ("easy", "medium", "hard", "extra")
RULES_VERSION = "1"  # bump when hardness_rules.py changes what it returns: cached levels are keyed by it


def hardness_or_unknown(sql: str) -> str:
    """One of LEVELS, or 'unknown' when the query cannot be parsed (reported as its own level, not guessed)."""
    key = f"v{RULES_VERSION}:{sql}"
    level = shared_cache().get_hardness(key)
    if level is None:
        from .hardness_rules import hardness

        try:
            level = hardness(sql)
        except Exception:  # unparsable (ValueError), or too deeply nested for the parser: never ends a run
            level = "unknown"
        shared_cache().put_hardness(key, level)
    return level
