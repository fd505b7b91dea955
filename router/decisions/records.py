"""Rows for the log, built from a decision and what happened; the cost of a request from its model's prices."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from typing import Any

import orjson

from router.config.schema import ModelInfo
from router.redact import redact
from router.routing.decision import RoutingDecision

DECISION_COLUMNS = (
    "request_id", "ts", "session", "turn", "key_id", "requested_model", "signal", "target", "candidates",
    "features", "notes", "task_type", "complexity", "difficulty", "probabilities", "expected_cost_usd",
    "routing_ms", "dispatcher", "prompt_id",
)
PROMPT_COLUMNS = ("prompt_id", "ts", "session", "prompt", "depth", "context_tokens")
# a pasted log is kept in part: enough to classify, not a copy of the conversation. Counted in UTF-8 bytes: DuckDB
# 2.0 (at the writer's MEMORY_LIMIT) could not checkpoint a table of longer strings (measured: ~4,000 turns of 14,000
# bytes or more and the checkpoint ran out of memory, which invalidates the database and loses every later row
# until a restart; 40,000 turns of 12,000 bytes were written whole)
PROMPT_BYTES = 12_000
OUTCOME_COLUMNS = (
    "request_id", "ts", "status", "error_type", "error", "deployment", "provider", "model", "streamed", "hops",
    "fallback_hops", "input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cost_usd",
    "latency_ms", "ttft_ms", "usage_estimated",
)


@functools.lru_cache(maxsize=1024)
def key_id(credential: str | None) -> str | None:
    """Which client key sent a request, without keeping the key (a team has few keys: each is hashed once)."""
    if not credential:
        return None
    return hashlib.sha256(credential.encode()).hexdigest()[:12]


def cost_usd(info: ModelInfo | None, usage: dict[str, int]) -> float | None:
    if info is None or info.pricing is None or not usage:
        return None
    p = info.pricing
    return (usage.get("input_tokens", 0) * p.input + usage.get("output_tokens", 0) * p.output
            + usage.get("cache_read_input_tokens", 0) * p.cache_read
            + usage.get("cache_creation_input_tokens", 0) * p.cache_write) / 1_000_000


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC).replace(tzinfo=None)


def decision_row(d: RoutingDecision, requested_model: str, key: str | None) -> tuple[Any, ...]:
    """`key`: the client key's id (key_id), never the key."""
    ml = d.ml or {}
    return (
        d.request_id, _utc(d.time), d.session, d.turn, key, requested_model, d.signal, d.target,
        # notes and the dispatcher's answer may quote exceptions and hooks' text: redacted like any log line
        _json(d.candidates), _json(d.features), redact(_json(d.notes)) if d.notes else "[]", ml.get("task_type"),
        ml.get("complexity"), ml.get("difficulty"), _json(ml["probabilities"]) if "probabilities" in ml else None,
        d.expected_cost, d.elapsed_ms, redact(_json(d.dispatcher)) if d.dispatcher is not None else None,
        d.prompt_id,
    )


def prompt_row(d: RoutingDecision, prompt: str, depth: int, context_tokens: int) -> tuple[Any, ...]:
    return (d.prompt_id, _utc(d.time), d.session, clip_utf8(prompt, PROMPT_BYTES), depth, context_tokens)


def clip_utf8(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-8 bytes, never inside a character."""
    if len(text) * 4 <= limit:  # no character is longer than four bytes: nothing to cut
        return text
    return text.encode()[:limit].decode(errors="ignore")


def outcome_row(d: RoutingDecision, *, status: int, streamed: bool, latency_ms: float, usage: dict[str, int],
                cost: float | None, error_type: str | None = None, error: str | None = None) -> tuple[Any, ...]:
    provider, _, model = (d.deployment or "").partition(",")
    answered = [h for h in d.hops if h.outcome == "ok"]
    tried = list(dict.fromkeys(h.deployment for h in d.hops if h.outcome != "skipped"))
    return (
        d.request_id, dt.datetime.now(dt.UTC).replace(tzinfo=None), status, error_type, error, d.deployment,
        provider or None, model.split("#")[0] or None, streamed,
        _json([{"deployment": h.deployment, "attempt": h.attempt, "outcome": h.outcome, "status": h.status,
                "error": h.error, "latency_ms": h.latency_ms} for h in d.hops]),
        max(0, len(tried) - 1), usage.get("input_tokens"), usage.get("output_tokens"),
        usage.get("cache_read_input_tokens"), usage.get("cache_creation_input_tokens"), cost, round(latency_ms, 3),
        answered[-1].latency_ms if answered and streamed else None,  # a whole answer has no first token
        bool(usage.get("estimated")),  # the provider reported no usage: ccr's estimate, so budgets still count it
    )
