"""Write the sample in Spider's layout: tables.json, train_spider.json, dev.json, database/<db>/<db>.sqlite."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from .questions import questions_for
from .schemas import DEV_DBS, SCHEMAS, TRAIN_DBS, rows_for


def _tables_entry(db_id: str) -> dict:
    tables = SCHEMAS[db_id]
    columns = [[-1, "*"]] + [[t, c] for t, (_, cols, _, _) in enumerate(tables) for c, _, _ in cols]
    types = ["text"] + [spider_type for _, cols, _, _ in tables for _, _, spider_type in cols]
    index = {(tables[t][0], c): i for i, (t, c) in enumerate(columns) if t >= 0}
    return {
        "db_id": db_id,
        "table_names_original": [name for name, *_ in tables],
        "table_names": [name.replace("_", " ") for name, *_ in tables],
        "column_names_original": columns,
        "column_names": [[t, c.replace("_", " ").lower()] for t, c in columns],
        "column_types": types,
        "primary_keys": [index[(name, primary)] for name, _, primary, _ in tables],
        "foreign_keys": [
            [index[(name, col)], index[(ref, ref_col)]]
            for name, _, _, foreign in tables
            for col, ref, ref_col in foreign
        ],
    }


def _write_database(path: Path, db_id: str, rows: dict[str, list[tuple]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    for name, columns, primary, foreign in SCHEMAS[db_id]:
        parts = [f"{c} {t}" + (" PRIMARY KEY" if c == primary else "") for c, t, _ in columns]
        parts += [f"FOREIGN KEY ({c}) REFERENCES {ref}({ref_col})" for c, ref, ref_col in foreign]
        conn.execute(f"CREATE TABLE {name} ({', '.join(parts)})")
        conn.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(columns))})", rows[name])
    conn.commit()
    conn.close()


def build_sample(out_dir: str | Path) -> Path:
    out = Path(out_dir)
    splits = {"train_spider.json": [], "dev.json": []}
    for db_id in TRAIN_DBS + DEV_DBS:
        rows = rows_for(db_id)
        db_path = out / "database" / db_id / f"{db_id}.sqlite"
        _write_database(db_path, db_id, rows)
        questions = questions_for(db_id, rows)
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True)
        for q in questions:  # a sample whose gold SQL fails would silently teach and test nothing
            conn.execute(q["query"]).fetchall()
        conn.close()
        splits["train_spider.json" if db_id in TRAIN_DBS else "dev.json"] += questions
    (out / "tables.json").write_text(json.dumps([_tables_entry(db) for db in TRAIN_DBS + DEV_DBS], indent=1))
    for name, questions in splits.items():
        (out / name).write_text(json.dumps(questions, indent=1))
    return out
