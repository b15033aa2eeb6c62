from tradeoff_tasks import prompts

ENTRY = {
    "db_id": "d",
    "table_names_original": ["people", "pet owner"],
    "column_names_original": [[-1, "*"], [0, "id"], [0, "Home Town"], [1, "owner_id"], [1, "pet"]],
    "column_types": ["text", "number", "text", "number", "text"],
    "primary_keys": [1, [3, 4]],
    "foreign_keys": [[3, 1]],
}


def test_schema_uses_original_names_types_and_keys():
    schema = prompts.render_schema(ENTRY)
    assert schema == (
        'CREATE TABLE people (\n  id number,\n  "Home Town" text,\n  PRIMARY KEY (id)\n);\n'
        'CREATE TABLE "pet owner" (\n  owner_id number,\n  pet text,\n  PRIMARY KEY (owner_id, pet),\n'
        "  FOREIGN KEY (owner_id) REFERENCES people(id)\n);"
    )


def test_sample_rows_are_shown_under_their_table():
    schema = prompts.render_schema(ENTRY, {"people": [(1, "Oslo"), (2, "x" * 100)]})
    assert "/* 2 rows from people:\n1\tOslo\n2\t" + "x" * 37 + "...\n*/" in schema


def test_prompt_ends_on_a_newline_and_holds_question_and_schema():
    prompt = prompts.build_prompt("  How many people?\n", "CREATE TABLE people (id number);")
    assert prompt.endswith("### SQL\n")
    assert "How many people?\n" in prompt and "CREATE TABLE people" in prompt
    assert prompts.chat_messages(prompt) == [{"role": "user", "content": prompt}]
