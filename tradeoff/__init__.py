"""tradeoff: the study around the plugin and the trainer — offline MMLU, the learning-rate sweep, the report."""
