"""The benchmark's in-process figures still run and measure what they say (no timing is asserted: `make bench`
reports the times)."""

from __future__ import annotations

from typing import Any

from tests.bench import micro
from tests.bench.__main__ import markdown


def test_translation_per_chunk_covers_every_stream() -> None:
    figures = micro.translation_per_chunk()
    assert figures["OpenAI Chat: text, 50 chunks (the benchmark's)"]["chunks"] == 50
    for fmt in ("Gemini", "OpenAI Responses", "Anthropic passthrough"):
        assert figures[f"{fmt}: text, 50 chunks"]["chunks"] == 50
    assert all(f["us_per_chunk"] > 0 for f in figures.values())


def test_the_150k_decision_runs_the_whole_pipeline(default_model: Any) -> None:
    figures = micro.decision_150k(reps=3)  # asserts inside that the long-context rule chose, with labels
    assert figures["tokens"] >= 150_000
    assert figures["estimate_error_pct_max"] < 1.0  # the estimated tool rounds are within 1% of a full count
    text = markdown({"workloads": {}, "decision_150k": figures})
    assert f"{figures['tokens']:,}-token conversation" in text


def test_the_guard_figure_measures_a_request_it_lets_through() -> None:
    assert micro.guard_check()["us_per_request"] > 0  # guard_check asserts the request passes


def test_the_classification_figure_covers_both_lengths() -> None:
    figures = micro.classification_cpu(reps=2)
    assert 0 < figures["short_ms"] < figures["256_tokens_ms"]
