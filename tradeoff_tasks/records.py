"""What every layer writes beside its outputs, in one place on the lowest floor (standard library only):
writes that are never seen half-done, file hashes, and the library versions and hardware of a run.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path

LIBRARIES = ("torch", "transformers", "peft", "trl", "bitsandbytes", "accelerate", "datasets", "lm_eval")


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path` to write to; renamed onto `path` when the block succeeds, removed when it
    fails, so a crash never leaves a truncated file under the real name."""
    path = Path(path)
    tmp = path.with_name(f"{path.name}.partial-{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text_atomically(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomically(path: Path, data: dict) -> None:
    write_text_atomically(path, json.dumps(data, indent=2, sort_keys=True, default=str))


_file_hashes: dict[tuple, str] = {}


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, read once per process for each version of it (path, size, mtime)."""
    stat = os.stat(path)
    key = (os.path.realpath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _file_hashes:
        digest = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
        _file_hashes[key] = digest.hexdigest()
    return _file_hashes[key]


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name.replace("_", "-"))
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    versions["python"] = platform.python_version()
    return versions


def hardware() -> dict:
    import torch

    info = {"platform": platform.platform(), "cpu_count": os.cpu_count(), "cuda": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info["gpus"] = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return info


def read_records(path: Path, text_fields: tuple[str, ...], error: type[Exception]) -> list[dict]:
    """The objects of a JSON-lines file (gzipped when it ends in .gz), blank lines skipped, each required to
    have these string fields; a bad line raises `error` with one message naming the file and line."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    records = []
    with opener(path, "rt", encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise error(f"{path}:{n}: not valid JSON ({e.msg})") from None
            missing = [k for k in text_fields if not isinstance(record, dict) or not isinstance(record.get(k), str)]
            if missing:
                raise error(f"{path}:{n}: missing string field(s) {', '.join(missing)}")
            records.append(record)
    return records
