"""A small Spider-format sample written by this project (no Spider data): 5 SQLite databases, training
questions on 3 of them and dev questions on the other 2, as in Spider. Build it with
`python -m tradeoff_tasks.sample OUT_DIR`."""
