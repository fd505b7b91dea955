"""Labelled examples: the seed set in data/seed/, the held-out set, files given to `ccr eval`, and labels
derived from the decision log. The split is fixed by a hash of each example's id."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path

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


def load_jsonl(path: Path, source: str = "seed") -> list[Example]:
    examples = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not JSON ({exc.msg})") from None
        if not isinstance(raw, dict) or not isinstance(raw.get("prompt"), str):
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
