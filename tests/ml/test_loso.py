"""The leave-one-source-out report (classifier.loso): which prompts leave together, and what it needs."""

from __future__ import annotations

import pytest

from classifier.dataset import Example
from classifier.loso import group, run


@pytest.mark.parametrize(("example_id", "owner", "expected"), [
    ("so-12345", "", "so"),
    ("aider-hist-00d4997d44", "aider-hist", "aider"),  # a source's sub-parts leave with it
    ("wild-ab12", "", "wild"),
])
def test_a_prompt_leaves_with_its_source(example_id: str, owner: str, expected: str) -> None:
    assert group(Example(example_id, "text", "explain", None, None), owner) == expected


def test_a_session_prompt_leaves_with_its_owners_other_repositories() -> None:
    one = group(Example("sess-1", "text", "debug", None, None), "someone/project-a")
    assert one == group(Example("sess-2", "text", "debug", None, None), "someone/project-b")
    assert one in {f"sess{k}" for k in range(5)}


def test_without_the_prompts_text_it_says_which_files_to_give() -> None:
    with pytest.raises(SystemExit, match="give every set's extracted JSONL"):
        run({}, {})
