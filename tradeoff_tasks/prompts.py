"""The only place prompt text is built: the schema as CREATE TABLE statements, then the question.

Both the lm-eval task (doc_to_text) and the trainer call `build_prompt`, so what a model is trained on
and what it is evaluated on are the same bytes. The prompt ends with a newline on purpose: tokenizers
can merge the last prompt token with the first completion token, and a trailing newline keeps the
prompt/completion boundary on a token boundary.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

INSTRUCTION = "Write one SQLite query that answers the question about the database below."
_PLAIN_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def quote_identifier(name: str) -> str:
    return name if _PLAIN_IDENTIFIER.match(name) else '"' + name.replace('"', '""') + '"'


def render_schema(tables_entry: dict, sample_rows: dict[str, Sequence[Sequence]] | None = None) -> str:
    """CREATE TABLE statements from one tables.json entry: original names, types, primary and foreign keys.

    sample_rows maps an original table name to a few rows, shown as a comment under its table.
    """
    tables = tables_entry["table_names_original"]
    columns = tables_entry["column_names_original"]  # [table index, column name]; index -1 is '*'
    types = tables_entry["column_types"]
    primary = [c for key in tables_entry["primary_keys"] for c in (key if isinstance(key, list) else [key])]
    statements = []
    for t, table in enumerate(tables):
        column_ids = [i for i, (owner, _) in enumerate(columns) if owner == t]
        lines = [f"  {quote_identifier(columns[i][1])} {types[i]}" for i in column_ids]
        keys = [quote_identifier(columns[i][1]) for i in column_ids if i in primary]
        if keys:
            lines.append(f"  PRIMARY KEY ({', '.join(keys)})")
        for source, target in tables_entry["foreign_keys"]:
            if columns[source][0] == t:
                target_table = quote_identifier(tables[columns[target][0]])
                lines.append(
                    f"  FOREIGN KEY ({quote_identifier(columns[source][1])}) "
                    f"REFERENCES {target_table}({quote_identifier(columns[target][1])})"
                )
        statement = f"CREATE TABLE {quote_identifier(table)} (\n" + ",\n".join(lines) + "\n);"
        if sample_rows and sample_rows.get(table):
            rows = "\n".join("\t".join(_cell(v) for v in row) for row in sample_rows[table])
            statement += f"\n/* {len(sample_rows[table])} rows from {table}:\n{rows}\n*/"
        statements.append(statement)
    return "\n".join(statements)


def _cell(value) -> str:
    text = value.hex() if isinstance(value, bytes) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."  # long cells would crowd out the schema


def build_prompt(question: str, schema: str) -> str:
    """The prompt for one question; identical for training and evaluation, plain and chat mode."""
    return f"{INSTRUCTION}\n\n### Schema\n{schema}\n\n### Question\n{question.strip()}\n\n### SQL\n"


def chat_messages(prompt: str) -> list[dict]:
    """Chat mode: the prompt is the one user turn, as lm-eval's --apply_chat_template sends it."""
    return [{"role": "user", "content": prompt}]
