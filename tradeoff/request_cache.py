"""Where a study keeps lm-eval's request cache (`--cache_requests true`), so the probes' requests are built once
for all of its models.

Building the requests of MMLU's 57 subjects (every question's context, 14,042 of them) takes the harness tens of
seconds per model, and it is the same work for the base and every adapter: they share the tokenizer and the
prompts. lm-eval can keep built requests on disk, but its cache key names the task, shots, chat template and
tokenizer, not the data or the task's definition, so a cache shared between studies or kept across a change of
data could hand one study another's questions. Each study therefore gets its own cache folder, named by a hash
of what the requests are built from: the plugin's task files (and the generated local overrides), the local
copies of the probes' data, and the harness's version. The harness reads the folder from LM_HARNESS_CACHE_PATH,
which the sweep sets for each evaluation process.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import lm_eval

from tradeoff import layout
from tradeoff.study import Study

ENVIRONMENT_VARIABLE = "LM_HARNESS_CACHE_PATH"


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts)


def request_cache_dir(study: Study) -> Path:
    """runs/<study>/request-cache/<hash of the tasks, the probes' local data and the harness version>."""
    digest = hashlib.sha256(f"lm_eval {lm_eval.__version__}\n".encode())
    for root in (Path(study.tasks_dir), layout.probe_data_dir(study.runs)):
        for path in _files(root):
            digest.update(f"{path.relative_to(root)}\n".encode())
            digest.update(path.read_bytes())
    return study.runs / "request-cache" / digest.hexdigest()[:16]
