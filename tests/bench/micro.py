"""The benchmark's in-process figures, on the router's core: translation cost per upstream chunk, a routing
decision on a 150k-token conversation, and the time of the CLI commands people type."""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from tests.bench.common import free_port, router_config, wait_ready
from tests.bench.workloads import (
    anthropic_stream,
    claude_code_request,
    gemini_stream,
    long_conversation,
    openai_stream,
    responses_stream,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
HEADERS = {"x-claude-code-session-id": "bench-long", "x-api-key": "bench"}


def _best(run: Callable[[], None], reps: int, rounds: int = 5) -> float:
    """Seconds per call: the best of `rounds` timings of `reps` calls (the least disturbed)."""
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(reps):
            run()
        best = min(best, (time.perf_counter() - started) / reps)
    return best


def translation_per_chunk() -> dict[str, Any]:
    """µs per upstream chunk for the whole stream path of each wire format's adapter, as the relay drives it:
    the stream translation object fed the upstream's bytes (SSE decoding, JSON parsing, translation to
    Anthropic events and their encoding; start and finish included, spread over the chunks)."""
    from router.config import parse_config
    from router.providers.provider import Providers
    from router.wire.sse import DONE, SSEDecoder

    providers = Providers(parse_config({"Providers": [
        {"name": "chat", "api_base_url": "https://chat.example.com/v1", "api_key": "k", "models": ["bench-model"]},
        {"name": "gemini", "preset": "gemini", "api_key": "k", "models": ["gemini-2.5-flash"]},
        {"name": "responses", "preset": "openai-responses", "api_key": "k", "models": ["gpt-5.1-codex"]},
        {"name": "anthropic", "preset": "anthropic", "api_key": "k", "models": ["claude-sonnet-4-5"]},
    ]}, "<bench>"))
    request = claude_code_request(True)
    streams: list[tuple[str, str, bytes]] = [("chat", "OpenAI Chat: text, 50 chunks (the benchmark's)", openai_stream())]
    streams += [("chat", f"OpenAI Chat: {name.replace('_', ' ')}", (FIXTURES / "openai_streams" / f"{name}.sse").read_bytes())
                for name in ("openai_parallel_tools", "interleaved_tools", "deepseek_reasoning")]
    streams += [("gemini", "Gemini: text, 50 chunks", gemini_stream()),
                ("gemini", "Gemini: thoughts and parallel calls", (FIXTURES / "gemini" / "thoughts_parallel_calls.sse").read_bytes()),
                ("responses", "OpenAI Responses: text, 50 chunks", responses_stream()),
                ("responses", "OpenAI Responses: reasoning and a call", (FIXTURES / "openai_responses" / "reasoning_tool_call.sse").read_bytes()),
                ("anthropic", "Anthropic passthrough: text, 50 chunks", anthropic_stream())]
    out: dict[str, Any] = {}
    for name, title, raw in streams:
        provider = providers.get(name)
        assert provider is not None
        model = next(iter(provider.cfg.models))
        outgoing = provider.adapter.outgoing(provider, model, f"{name},{model}", request, None, {}, 75_000)
        chunks = sum(1 for _, data in SSEDecoder().feed(raw) if data != DONE)

        def run(raw: bytes = raw, provider: Any = provider, outgoing: Any = outgoing) -> None:
            translation = provider.adapter.stream(outgoing, "bench")
            translation.feed(raw)
            translation.close()

        run()  # it translates without failing before it is timed
        out[title] = {"chunks": chunks, "us_per_chunk": round(_best(run, 200) / chunks * 1e6, 2)}
    return out


def classification_cpu(reps: int = 20) -> dict[str, float]:
    """CPU ms for one classification (embedding, structural features, the three heads), one BLAS thread, for a
    short prompt and one at the 256-token cap, with the shipped model."""
    from threadpoolctl import threadpool_limits

    from classifier.embed import fast
    from classifier.model import load_inference
    from classifier.train import predict_texts, shipped_dir

    heads, _ = load_inference(shipped_dir())
    embedder = fast()
    prompts = {"short": "fix the failing login test",
               "256_tokens": " ".join(f"step {i}: update the handler for route /api/v{i} and its tests;" for i in range(40))}
    out = {}
    with threadpool_limits(1):
        for name, prompt in prompts.items():
            predict_texts(heads, embedder, [prompt])  # warm
            started = time.process_time()
            for _ in range(reps):
                predict_texts(heads, embedder, [prompt])
            out[f"{name}_ms"] = round((time.process_time() - started) / reps * 1000, 2)
    return out


def guard_check() -> dict[str, float]:
    """µs for the guard's look at a request (router/server/guard.py), on Claude Code's real header list."""
    from router.config import parse_config
    from router.server.guard import Guard

    guard = Guard(parse_config({"Providers": [], "APIKEY": "bench-key-123456"}))
    headers = [(k.encode(), v.encode()) for k, v in {
        "host": "127.0.0.1:3456", "connection": "keep-alive", "accept": "application/json",
        "x-stainless-retry-count": "0", "x-stainless-timeout": "600", "x-stainless-lang": "js",
        "x-stainless-package-version": "0.60.0", "x-stainless-os": "Linux", "x-stainless-arch": "x64",
        "x-stainless-runtime": "node", "x-stainless-runtime-version": "v20.20.2",
        "anthropic-version": "2023-06-01", "authorization": "Bearer bench-key-123456", "x-app": "cli",
        "user-agent": "claude-cli/2.1.330 (external, cli)", "content-type": "application/json",
        "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14", "x-claude-code-session-id": "s",
        "accept-encoding": "gzip, deflate, br, zstd",
        "content-length": "75000"}.items()]
    scope = {"type": "http", "method": "POST", "path": "/v1/messages", "headers": headers,
             "server": ("127.0.0.1", 3456), "client": ("127.0.0.1", 50000)}
    assert guard.check(scope) is None
    return {"us_per_request": round(_best(lambda: guard.check(scope), 20000) * 1e6, 3)}


def _config() -> Any:
    from router.config.load import parse_config
    data = router_config(9, "json")
    data["Router"]["longContext"] = "up,bench-strong"  # a long-context rule: the decision counts tokens
    return parse_config(data)


async def _decisions(reps: int) -> dict[str, Any]:
    from router.routing import features
    from router.routing.features import RequestView
    from router.server.app import State
    from router.tokens import _MEMO as tokens_memo
    from router.tokens import count_request, warm

    warm()
    state = State(_config())
    assert state.classifier is not None
    state.classifier.start()
    while state.classifier.state == "loading":
        await asyncio.sleep(0.05)
    assert state.classifier.ready, state.classifier.state
    engine = state.engine
    body, next_request = long_conversation()
    tokens = count_request(body)
    raw = orjson.dumps(body)

    def view(data: bytes) -> RequestView:
        return RequestView(orjson.loads(data), HEADERS, len(data))

    tokens_memo.clear()  # building the conversation counted its texts: the router would not have them yet
    started = time.perf_counter()
    await engine.decide(view(raw))  # the router's first sight of it: all counted, the turn classified
    first_ms = (time.perf_counter() - started) * 1000
    requests = [orjson.dumps(next_request(i)) for i in range(reps)]
    times, parse, error = [], [], []
    for data in requests:  # each a tool round of the same turn: new content, nothing else
        t0 = time.perf_counter()
        v = view(data)
        t1 = time.perf_counter()
        decision, _ = await engine.decide(v)  # never `remember`ed: the whole pipeline runs every time
        times.append(time.perf_counter() - t1)
        parse.append(t1 - t0)
        await asyncio.gather(*features._BACKGROUND)  # the new round's exact count, made while the model answers
        exact = count_request(v.body)
        error.append(abs(v.token_count - exact) / exact)
    assert decision.signal == "longContext" and decision.ml is not None, decision
    # a new human turn: the classifier embeds its prompt (once per turn, in its thread)
    turn = orjson.loads(requests[0])
    turn["messages"].append({"role": "assistant", "content": [{"type": "text", "text": "Done."}]})
    turn["messages"].append({"role": "user", "content": "Now refactor the handlers of module 3 into a table."})
    t0 = time.perf_counter()
    await engine.decide(RequestView(turn, HEADERS, len(requests[0])))
    new_turn_ms = (time.perf_counter() - t0) * 1000
    state.classifier.close()
    from router.translate.openai_chat.options import ChatOptions
    from router.translate.openai_chat.request import translate_request

    one = orjson.loads(requests[0])
    translate_ms = _best(lambda: orjson.dumps(translate_request(one, "bench-model", ChatOptions())[0]), 5) * 1000
    return {
        "tokens": tokens, "messages": len(body["messages"]) + 2, "bytes": len(requests[0]),
        "decision_ms_p50": round(statistics.median(times) * 1000, 3),
        "decision_ms_max": round(max(times) * 1000, 3),
        "first_sight_ms": round(first_ms, 1), "new_turn_ms": round(new_turn_ms, 1),
        "parse_ms_p50": round(statistics.median(parse) * 1000, 3), "translate_ms": round(translate_ms, 3),
        "estimate_error_pct_max": round(max(error) * 100, 3),
    }


def decision_150k(reps: int = 50) -> dict[str, Any]:
    return asyncio.run(_decisions(reps))


def _ccr(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "router", *args], env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode not in (0, 3):
        raise SystemExit(f"bench: ccr {' '.join(args)} failed: {done.stderr[-500:]}")
    return elapsed


def cli_times(reps: int = 5) -> dict[str, float]:
    """Wall time of `ccr status`, `ccr activate` and `ccr stop` against a running router, median of `reps`."""
    out: dict[str, list[float]] = {"status": [], "activate": [], "stop": []}
    with tempfile.TemporaryDirectory(prefix="ccr-bench-cli-") as home:
        env = {**os.environ, "CCR_HOME": home, "HOME": home}
        config = Path(home) / "config.json"
        config.write_text(json.dumps({"Providers": [{"name": "up", "api_base_url": "http://127.0.0.1:9/v1",
                                                     "api_key": "sk-bench", "models": ["m"]}],
                                      "Router": {"default": "up,m"}, "PORT": free_port()}))
        for _ in range(reps):
            _ccr("start", "--config", str(config), env=env)
            wait_ready(json.loads(config.read_text())["PORT"])
            for command in ("status", "activate"):
                out[command].append(_ccr(command, env=env))
            out["stop"].append(_ccr("stop", env=env))
    return {name: round(statistics.median(times), 1) for name, times in out.items()}
