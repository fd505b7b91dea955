"""`make soak`: 1,000 concurrent Claude Code-style streams through ccr for 10 minutes against a paced upstream.

ccr runs as users run it (`ccr start --foreground`, classifier, budget-aware policy and decision log on), pinned
to core 0; the paced upstream (an OpenAI-compatible stream of CHUNKS chunks, PACE_S apart) and the clients
(aiohttp, each of STREAMS workers playing Claude Code sessions: a user turn and ROUNDS tool rounds, one streamed
request after another) run on core 1. Every stream is
checked: a 200, Anthropic events in a valid order ending in message_stop, no error event. Figures: streams
served, errors by kind, the router's resident memory over time (and its slope over the second half), its CPU,
and the decision log's rows against the requests served (read from the file after a graceful stop). Results go
to bench-results/soak.json and soak.md.

    python -m tests.bench.soak [--seconds 600] [--streams 1000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from tests.bench.common import cpu_seconds, free_port, router_config, rss_mb, wait_ready

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "bench-results"
CHUNKS = 20
PACE_S = 0.25  # a stream lasts ~5 s: 1,000 of them make ~200 requests/s
ROUNDS = 4  # tool rounds after each user turn
SAMPLE_S = 5.0
PROMPTS = [f"{verb} the {thing} in {place}" for verb in ("Fix", "Explain", "Write tests for", "Refactor", "Review")
           for thing in ("retry loop", "config parser", "SSE reader", "budget check") for place in ("app.py", "lib/")]


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _event(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data).encode() + b"\n\n"


async def _paced(request: web.Request) -> web.StreamResponse:
    await request.read()
    resp = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await resp.prepare(request)
    for i in range(CHUNKS):
        await resp.write(_event({"id": "s", "object": "chat.completion.chunk", "model": "m",
                                 "choices": [{"index": 0, "delta": {"content": f"part {i} "}, "finish_reason": None}]}))
        await asyncio.sleep(PACE_S)
    await resp.write(_event({"id": "s", "object": "chat.completion.chunk", "model": "m",
                             "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}))
    await resp.write(_event({"id": "s", "object": "chat.completion.chunk", "model": "m", "choices": [],
                             "usage": {"prompt_tokens": 40, "completion_tokens": CHUNKS * 2}}))
    await resp.write(b"data: [DONE]\n\n")
    await resp.write_eof()
    return resp


def serve_upstream(port: int) -> None:
    app = web.Application()
    app.router.add_post("/{tail:.*}", _paced)
    web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None, backlog=4096)


def _valid(body: bytes) -> str | None:
    """Why a stream is not a whole, well-ordered Anthropic answer (None when it is)."""
    names = [line[7:] for line in body.split(b"\n") if line.startswith(b"event: ")]
    if b"error" in names:
        return "error event"
    if not names or names[0] != b"message_start" or names[-1] != b"message_stop":
        return "incomplete stream"
    if names.count(b"content_block_start") != names.count(b"content_block_stop"):
        return "unbalanced blocks"
    return None


class Load:
    def __init__(self, port: int, streams: int, seconds: float) -> None:
        self.url = f"http://127.0.0.1:{port}/v1/messages"
        self.streams = streams
        self.deadline = time.monotonic() + seconds
        self.served = 0
        self.errors: dict[str, int] = {}
        self.latency: list[float] = []

    async def worker(self, http: aiohttp.ClientSession, n: int) -> None:
        """One Claude Code session after another: a user turn, then tool rounds that repeat the conversation and
        add a tool call and its result (the classifier runs once per turn, as with real traffic)."""
        rng = random.Random(n)
        await asyncio.sleep(rng.random() * CHUNKS * PACE_S)  # spread the starts over one stream's length
        messages: list[dict[str, Any]] = []
        while time.monotonic() < self.deadline:
            if len(messages) >= 1 + 2 * ROUNDS:
                messages = []
            if not messages:
                messages = [{"role": "user", "content": f"{rng.choice(PROMPTS)} (session {n})"}]
            else:
                call = f"toolu_{n}_{len(messages)}"
                messages += [
                    {"role": "assistant", "content": [{"type": "tool_use", "id": call, "name": "Read",
                                                       "input": {"file_path": f"/src/mod{len(messages)}.py"}}]},
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call,
                                                  "content": "def handler(request):\n    return 1\n" * 20}]}]
            body = {"model": "claude-sonnet-4-5", "max_tokens": 1024, "stream": True, "messages": messages}
            started = time.monotonic()
            try:
                async with http.post(self.url, json=body, headers={"x-api-key": "soak"}) as resp:
                    data = await resp.read()
                    problem = f"HTTP {resp.status}" if resp.status != 200 else _valid(data)
            except (aiohttp.ClientError, TimeoutError) as exc:
                problem = type(exc).__name__
            if problem is None:
                self.served += 1
                self.latency.append(time.monotonic() - started)
            else:
                self.errors[problem] = self.errors.get(problem, 0) + 1

    async def run(self) -> None:
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=120)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            await asyncio.gather(*(self.worker(http, n) for n in range(self.streams)))


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of RSS over time."""
    n = len(samples)
    if n < 2:
        return 0.0
    mt = sum(t for t, _ in samples) / n
    mr = sum(r for _, r in samples) / n
    var = sum((t - mt) ** 2 for t, _ in samples)
    return 60 * sum((t - mt) * (r - mr) for t, r in samples) / var if var else 0.0


async def watch(pid: int, load: Load, samples: list[tuple[float, float]], started: float) -> None:
    while time.monotonic() < load.deadline:
        samples.append((time.monotonic() - started, rss_mb(pid)))
        say(f"  {samples[-1][0]:>5.0f} s  rss {samples[-1][1]:6.1f} MB  served {load.served:>7}  "
            f"errors {sum(load.errors.values())}")
        await asyncio.sleep(SAMPLE_S)


def logged_rows(home: Path) -> int:
    import duckdb

    con = duckdb.connect(str(home / "ccr.duckdb"), read_only=True)
    try:
        return int(con.execute("SELECT count(*) FROM outcomes").fetchone()[0])
    finally:
        con.close()


def soak(seconds: float, streams: int, work: Path) -> dict[str, Any]:
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # the clients' 1,000 sockets
    up_port = free_port()
    upstream = subprocess.Popen(["taskset", "-c", "1", sys.executable, "-m", "tests.bench.soak", "--upstream",
                                 str(up_port)])
    home = work / "ccr-soak"
    home.mkdir()
    config = router_config(up_port, "soak")
    (home / "config.json").write_text(json.dumps(config))
    port = free_port()
    env = {**os.environ, "CCR_HOME": str(home)}
    router = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-m", "router", "start", "--foreground",
                               "--config", str(home / "config.json"), "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_ready(port) == "ready", "the router's classifier did not load"
        os.sched_setaffinity(0, {1})
        say(f"soak: {streams} concurrent streams for {seconds:.0f} s ({CHUNKS} chunks {PACE_S} s apart each)")
        load = Load(port, streams, seconds)
        samples: list[tuple[float, float]] = []
        started = time.monotonic()
        cpu0 = cpu_seconds(router.pid)

        async def both() -> None:
            await asyncio.gather(load.run(), watch(router.pid, load, samples, started))
        asyncio.run(both())
        elapsed = time.monotonic() - started
        cpu = cpu_seconds(router.pid) - cpu0
        samples.append((elapsed, rss_mb(router.pid)))
    finally:
        router.terminate()
        router.wait(60)
        upstream.terminate()
        upstream.wait(10)
    rows = logged_rows(home)
    second_half = [s for s in samples if s[0] >= elapsed / 2]
    requests = load.served + sum(load.errors.values())
    lat = sorted(load.latency)
    return {
        "seconds": round(elapsed), "streams": streams, "chunks_per_stream": CHUNKS, "pace_s": PACE_S,
        "served": load.served, "errors": load.errors, "requests_per_s": round(load.served / elapsed, 1),
        "stream_s_p50": round(lat[len(lat) // 2], 2) if lat else None,
        "stream_s_p99": round(lat[int(len(lat) * 0.99)], 2) if lat else None,
        "router_cpu_share": round(cpu / elapsed, 3),
        "rss_mb": {"start": round(samples[0][1], 1), "max": round(max(r for _, r in samples), 1),
                   "end": round(samples[-1][1], 1)},
        "rss_slope_mb_per_min_second_half": round(slope_mb_per_min(second_half), 3),
        "rss_samples": [(round(t), round(r, 1)) for t, r in samples],
        "log_rows": rows, "requests": requests, "rows_equal_requests": rows == requests,
    }


def markdown(r: dict[str, Any]) -> str:
    return "\n".join([
        f"# Soak ({r['streams']} concurrent streams, {r['seconds']} s)", "",
        "| figure | value |", "|---|---|",
        f"| streams served | {r['served']:,} ({r['requests_per_s']}/s) |",
        f"| errors | {sum(r['errors'].values())} {r['errors'] or ''} |",
        f"| stream duration p50 / p99 | {r['stream_s_p50']} s / {r['stream_s_p99']} s "
        f"(upstream alone: {r['chunks_per_stream'] * r['pace_s']:.1f} s) |",
        f"| router CPU | {r['router_cpu_share']:.0%} of a core |",
        f"| router RSS start / max / end | {r['rss_mb']['start']} / {r['rss_mb']['max']} / {r['rss_mb']['end']} MB |",
        f"| RSS slope, second half | {r['rss_slope_mb_per_min_second_half']} MB/min |",
        f"| decision-log rows / requests | {r['log_rows']:,} / {r['requests']:,} |", ""])


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.soak")
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--upstream", type=int, help=argparse.SUPPRESS)  # run as the paced upstream
    args = parser.parse_args()
    if args.upstream:
        serve_upstream(args.upstream)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        result = soak(args.seconds, args.streams, Path(tmp))
    OUT.mkdir(exist_ok=True)
    (OUT / "soak.json").write_text(json.dumps(result, indent=2))
    (OUT / "soak.md").write_text(markdown(result))
    print(markdown(result))
    ok = not result["errors"] and result["rows_equal_requests"]
    say("soak: passed" if ok else "soak: FAILED (errors, or log rows that do not match the requests)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
