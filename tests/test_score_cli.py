import json
import subprocess
import sys

import pytest

from tradeoff_tasks.score_cli import main


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _score(spider, tmp_path, records):
    """spider-exec-score on these records; the scored records it wrote."""
    out = tmp_path / "scored.jsonl"
    argv = [
        "--spider-dir",
        str(spider),
        "--predictions",
        str(_write(tmp_path / "p.jsonl", records)),
        "--output",
        str(out),
    ]
    assert main(argv) == 0
    return _read(out)


def _read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_scores_pass_through_fields_and_skip_missing_databases(sample_spider, tmp_path, capsys):
    dev = json.loads((sample_spider / "dev.json").read_text())[:6]
    records = [
        {"db_id": q["db_id"], "gold": q["query"], "prediction": q["query"], "qid": i} for i, q in enumerate(dev)
    ]
    records[1]["prediction"] = "SELECT 'wrong'"
    records[2]["prediction"] = "SELECT missing_column FROM airport"
    records.append({"db_id": "no_such_db", "gold": "SELECT 1", "prediction": "SELECT 1", "qid": 99})
    scored = _score(sample_spider, tmp_path, records)
    assert [r["qid"] for r in scored] == [0, 1, 2, 3, 4, 5, 99]
    assert [r.get("exec_match") for r in scored] == [1, 0, 0, 1, 1, 1, None]
    assert scored[2]["error"].startswith("OperationalError") and scored[1]["error"] is None
    assert scored[-1]["skipped"].startswith("database missing") and "exec_match" not in scored[-1]
    assert all(r["hardness"] in ("easy", "medium", "hard", "extra") for r in scored[:-1])
    summary = capsys.readouterr().out
    assert "EX 0.6667 over 6 executed pairs" in summary and "skipped, database missing: 1" in summary


@pytest.mark.parametrize(
    "line, message",
    [
        ("not json", "p.jsonl:1: not valid JSON"),
        ('{"db_id": "airline", "gold": "SELECT 1"}', "p.jsonl:1: missing string field(s) prediction"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_no_output(sample_spider, tmp_path, line, message):
    (tmp_path / "p.jsonl").write_text(line + "\n")
    out = tmp_path / "scored.jsonl"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tradeoff_tasks.score_cli",
            "--spider-dir",
            str(sample_spider),
            "--predictions",
            str(tmp_path / "p.jsonl"),
            "--output",
            str(out),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_missing_spider_dir_names_both_ways_to_give_it(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("SPIDER_DIR", raising=False)
    assert main(["--predictions", str(tmp_path / "p.jsonl"), "--output", str(tmp_path / "o.jsonl")]) == 2
    assert "SPIDER_DIR" in capsys.readouterr().err


def test_a_prediction_with_a_nul_character_is_that_records_error_and_the_run_completes(sample_spider, tmp_path):
    """A NUL once ended the whole run (sqlite3.complete_statement raises on it) and lost every other record."""
    dev = json.loads((sample_spider / "dev.json").read_text())[:3]
    records = [{"db_id": q["db_id"], "gold": q["query"], "prediction": q["query"]} for q in dev]
    records[0]["prediction"] = "SELECT name\x00 FROM airports; SELECT 1"
    records[1]["gold"] = records[1]["gold"] + "\x00"
    scored = _score(sample_spider, tmp_path, records)
    assert len(scored) == 3
    assert scored[0]["exec_match"] == 0 and "null character" in scored[0]["error"]
    assert scored[1]["exec_match"] == 0 and "null character" in scored[1]["gold_error"]
    assert scored[2]["exec_match"] == 1 and scored[2]["error"] is None


def test_the_cli_and_the_task_clean_the_same_generations_the_same_way(sample_spider, tmp_path):
    """One cleanup for both: the task's cut at its text stops ("\\n\\n\\n", "###") included."""
    from tradeoff_tasks import task_support

    dev = json.loads((sample_spider / "dev.json").read_text())[:1]
    raw = [
        "SELECT name FROM singer\n\n### Question\nHow many?",
        "```sql\nSELECT 1;\n```\nThis query ...",
        "SQL: SELECT count(*) FROM airports\n\n\nSELECT 2",
        "I cannot answer that.",
        "SELECT 'a\x00b'",
    ]
    records = [{"db_id": dev[0]["db_id"], "gold": dev[0]["query"], "prediction": text} for text in raw]
    scored = _score(sample_spider, tmp_path, records)
    docs = [
        dict(row, keep_distinct=False, timeout=5.0, max_rows=10_000, answer_prefix="")
        for row in task_support.build_rows(sample_spider, "dev")[:1]
    ] * len(raw)
    from_task = task_support.clean_and_score([[text] for text in raw], docs)
    assert [r["prediction_sql"] for r in scored] == [resps[0] for resps in from_task]
    assert from_task[0] == ["SELECT name FROM singer"]
