"""The leave-one-source-out report (classifier.loso): which prompts leave together, and what it needs."""

from __future__ import annotations

import pytest

from classifier.dataset import Example
from classifier.loso import group, run


@pytest.mark.parametrize(("example_id", "owner", "expected"), [
    ("so-12345", "", "so"),
    ("aider-hist-00d4997d44", "aider-hist", "aider"),  # a source's sub-parts leave with it
    ("wild-ab12", "", "wild"),
    ("wild2-0123456789~7", "", "wild2"),  # a prompt of a whole conversation leaves with its source
])
def test_a_prompt_leaves_with_its_source(example_id: str, owner: str, expected: str) -> None:
    assert group(Example(example_id, "text", "explain", None, None), owner) == expected


def test_a_session_prompt_leaves_with_its_owners_other_repositories() -> None:
    one = group(Example("sess-1", "text", "debug", None, None), "someone/project-a")
    assert one == group(Example("sess-2", "text", "debug", None, None), "someone/project-b")
    assert one in {f"sess{k}" for k in range(5)}


def test_a_conversations_prompts_sit_on_one_side_of_the_split() -> None:
    """Prompts of a conversation (`<source>-<conversation>~<turn>`) are split by their conversation: a sibling in
    training would flatter the evaluation half. Other ids split by themselves, as before."""
    from classifier.public import REAL_EVAL_SHARE, bucket, is_real_eval, split_key

    sides = {is_real_eval(f"wild2-{c:010d}~{turn}") for c in range(40) for turn in (1, 2, 9)}
    assert sides == {True, False}  # conversations do fall on both sides
    for c in range(40):
        assert len({is_real_eval(f"wild2-{c:010d}~{turn}") for turn in (1, 2, 9, 31)}) == 1
    assert split_key("so-12345") == "so-12345" and split_key("convo-0123456789~3") == "0123456789"
    # the same conversation taken by two sources (their ids hash the conversation alike) stays on one side
    assert is_real_eval("wild-0123456789~3") == is_real_eval("wild2-0123456789~8")
    assert is_real_eval("so-12345") == bucket("real:so-12345", REAL_EVAL_SHARE)


def test_an_agent_developers_prompts_sit_on_one_side_of_the_split() -> None:
    """The agent sessions' ids carry their owner where a chat has its conversation (`sess-<owner>~<prompt>`): one
    developer's style, project and follow-ups never sit on both sides of the evaluation split."""
    import json
    import re

    from classifier.public import is_real_eval, real_dir

    ids = [json.loads(line)["id"] for line in (real_dir() / "labels_sessions.jsonl").read_text().splitlines()]
    assert ids and all(re.fullmatch(r"sess-[0-9a-f]{10}~[0-9a-f]{10}", i) for i in ids)
    sides: dict[str, set[bool]] = {}
    for i in ids:
        sides.setdefault(i.partition("~")[0], set()).add(is_real_eval(i))
    assert all(len(side) == 1 for side in sides.values())
    assert len(sides) >= 30 and {True, False} == set().union(*sides.values())


def test_without_the_prompts_text_it_says_which_files_to_give() -> None:
    with pytest.raises(SystemExit, match="give every set's extracted JSONL"):
        run({}, {})
