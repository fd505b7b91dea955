"""Labelled examples: the seed set in data/seed/, the held-out set, files given to `ccr eval`, and labels
derived from the decision log. The split is fixed by a hash of each example's id."""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from classifier.taxonomy import COMPLEXITY_NAMES, TASK_NAMES

VALIDATION_SHARE = 5  # one in five examples, by id hash


@dataclass(frozen=True, slots=True)
class Example:
    id: str
    prompt: str
    task_type: str | None = None  # None: this example teaches only the heads it has labels for
    complexity: str | None = None
    strong: bool | None = None
    source: str = "seed"  # seed | override | escalation | retry | manual
    depth: int = 0  # the conversation around a logged prompt (the seed prompts stand alone)
    context_tokens: int = 0


class DataError(ValueError):
    """A labelled file that cannot be used, with the line that is wrong."""


def data_root() -> Path:
    """ccr's data: the repository's data/, installed as the package ccr_data (CCR_DATA_DIR overrides)."""
    import ccr_data

    return Path(ccr_data.root())


def seed_files() -> list[Path]:
    return sorted((data_root() / "seed").glob("*.jsonl"))


def heldout_file() -> Path:
    return data_root() / "heldout.jsonl"


def label_problem(task: object, level: object, strong: object) -> str | None:
    """What is wrong with a label (None: nothing); every field may be absent."""
    if task is not None and task not in TASK_NAMES:
        return f"task_type: must be one of {', '.join(TASK_NAMES)}, got {task!r}"
    if level is not None and level not in COMPLEXITY_NAMES:
        return f"complexity: must be one of {', '.join(COMPLEXITY_NAMES)}, got {level!r}"
    if strong is not None and not isinstance(strong, bool):
        return "strong: must be true or false"
    return None


def json_lines(path: Path | str) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """The objects of a JSONL file ("-": standard input), each with its line number and where it is ("file:line",
    for messages).
    Lines end at \n only (a prompt may hold U+2028 or U+0085 as it is); a UTF-8 byte-order mark is allowed; bytes
    that are not UTF-8 and lines that are not JSON objects raise DataError naming the line. Blank lines are
    skipped. OSError (a missing or unreadable file) is the caller's to report."""
    name = "stdin" if str(path) == "-" else str(path)
    data = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    data = data.removeprefix(b"\xef\xbb\xbf")
    for n, raw_line in enumerate(data.split(b"\n"), 1):
        where = f"{name}:{n}"
        try:
            line = raw_line.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError(f"{where}: not UTF-8 (byte 0x{raw_line[exc.start]:02x} at column {exc.start + 1}); "
                            "save the file as UTF-8") from None
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not JSON ({exc.msg})") from None
        except (ValueError, RecursionError) as exc:  # an integer of thousands of digits; nesting past Python's limit
            raise DataError(f"{where}: not usable JSON ({str(exc)[:120]})") from None
        if not isinstance(row, dict):
            raise DataError(f"{where}: each line must be a JSON object")
        yield n, where, row


def load_jsonl(path: Path, source: str = "seed") -> list[Example]:
    examples = []
    for n, where, raw in json_lines(path):
        if not isinstance(raw.get("prompt"), str):
            raise DataError(f'{where}: each line needs a "prompt" string')
        task, level, strong = raw.get("task_type"), raw.get("complexity"), raw.get("strong")
        problem = label_problem(task, level, strong)
        if problem:
            raise DataError(f"{where}: {problem}")
        examples.append(Example(str(raw.get("id", f"{path.stem}-{n}")), raw["prompt"], task, level, strong,
                                source))
    return examples


def load_seed() -> list[Example]:
    files = seed_files()
    if not files:
        raise DataError(f"no seed data in {data_root() / 'seed'}; set CCR_DATA_DIR to the repository's data/")
    return [ex for path in files for ex in load_jsonl(path)]


def is_validation(example_id: str) -> bool:
    return int(hashlib.blake2b(example_id.encode(), digest_size=4).hexdigest(), 16) % VALIDATION_SHARE == 0


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    train = [ex for ex in examples if not is_validation(ex.id)]
    val = [ex for ex in examples if is_validation(ex.id)]
    return train, val


def data_hash(examples: list[Example]) -> str:
    digest = hashlib.sha256()
    for ex in sorted(examples, key=lambda e: e.id):
        digest.update(json.dumps(asdict(ex), sort_keys=True).encode())
    return digest.hexdigest()[:16]
