"""tradeoff_tasks: the spider_exec lm-eval task, its safe SQL executor and scorer, and the shared prompts.

Use it as `lm_eval ... --include_path tradeoff_tasks`; the package itself never imports lm-eval.
"""

__version__ = "0.1.0"
