"""Build a realistic sample decision log for the notebooks: the real router (classifier, policy, budgets and
fallbacks on) driven by Claude Code-shaped conversations against a scripted OpenAI-compatible upstream on
127.0.0.1, then spread over the last 30 days (the router stamps rows with the time they happen).

    python notebooks/make_sample_db.py [--out notebooks/sample] [--sessions 120]

Writes OUT/ccr.duckdb and OUT/config.json (the prices the notebooks compare against).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DAYS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def config(upstream: str) -> dict[str, Any]:
    base = f"{upstream}/v1/chat/completions"
    return {
        "Providers": [
            {"name": "cloud", "api_base_url": base, "api_key": "sk-sample", "models": [
                {"name": "swift-mini", "tier": 1, "context_window": 128000,
                 "pricing": {"input": 0.15, "output": 0.6, "cache_read": 0.075}},
                {"name": "coder-plus", "tier": 2, "tiers": {"debug": 3}, "context_window": 200000,
                 "pricing": {"input": 1.0, "output": 4.0, "cache_read": 0.1},
                 "capabilities": {"vision": True}},
                {"name": "frontier", "tier": 3, "context_window": 200000,
                 "pricing": {"input": 3.0, "output": 15.0, "cache_read": 0.3},
                 "capabilities": {"vision": True, "reasoning": True}}]},
            {"name": "local", "api_base_url": base, "api_key": "none", "models": [
                {"name": "qwen-local", "tier": 1, "context_window": 32000, "pricing": {"input": 0, "output": 0}}]},
        ],
        "Router": {"default": "cloud,coder-plus", "background": "local,qwen-local"},
        "fallback": {"default": ["cloud,frontier"]},
        "retry": {"retries": 0},
        "Policy": {"enabled": True, "strongShare": 0.25,
                   "candidates": ["cloud,swift-mini", "cloud,coder-plus", "cloud,frontier"]},
        "Budgets": {"daily": 20, "monthly": 4, "perKey": {"daily": 2}, "softLimit": 0.8},
    }


class Upstream:
    """Answers like an OpenAI-compatible provider: usage with cached tokens, and a coder-plus that fails now
    and then (503) so that the fallback to frontier happens."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.port = _free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()

    def start(self) -> Upstream:
        threading.Thread(target=self._run, daemon=True).start()
        self.ready.wait(10)
        return self

    def _run(self) -> None:
        from aiohttp import web

        async def chat(request: web.Request) -> web.Response:
            body = await request.json()
            model = body["model"]
            if model == "coder-plus" and self.rng.random() < 0.06:
                return web.json_response({"error": {"message": "overloaded", "type": "server_error"}}, status=503)
            size = len(json.dumps(body["messages"])) // 4 + 900
            cached = int(size * self.rng.uniform(0.5, 0.9)) if len(body["messages"]) > 2 else 0
            out = int(self.rng.lognormvariate(6.0 if model != "swift-mini" else 5.5, 0.6))
            return web.json_response({
                "id": "chatcmpl-sample", "object": "chat.completion", "model": model, "created": int(time.time()),
                "choices": [{"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": "Done. " * max(1, out // 8)}}],
                "usage": {"prompt_tokens": size, "completion_tokens": out, "total_tokens": size + out,
                          "prompt_tokens_details": {"cached_tokens": cached}}})

        async def main() -> None:
            app = web.Application(client_max_size=64 << 20)
            app.router.add_post("/v1/chat/completions", chat)
            runner = web.AppRunner(app, access_log=None)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", self.port).start()
            self.ready.set()
            await asyncio.Event().wait()

        self.loop.run_until_complete(main())


TOOLS = [{"name": "Read", "description": "Read a file", "input_schema": {
    "type": "object", "properties": {"file_path": {"type": "string"}}, "required": ["file_path"]}},
         {"name": "Bash", "description": "Run a command", "input_schema": {
             "type": "object", "properties": {"command": {"type": "string"}}, "required": ["command"]}}]


def conversation(history: list[dict[str, Any]], prompt: str, rounds: int) -> list[dict[str, Any]]:
    messages = [*history, {"role": "user", "content": [{"type": "text", "text": prompt}]}]
    for r in range(rounds):
        messages.append({"role": "assistant", "content": [
            {"type": "tool_use", "id": f"toolu_{r}", "name": "Read", "input": {"file_path": f"src/mod{r}.py"}}]})
        messages.append({"role": "user", "content": [
            {"type": "tool_result", "tool_use_id": f"toolu_{r}", "content": "def f():\n    return 1\n" * 20}]})
    return messages


def drive(url: str, sessions: int, seed: int, say: Any) -> int:
    import httpx

    from router.paths import repo_data_dir

    rng = random.Random(seed)
    source = repo_data_dir() / "heldout.jsonl"  # prompts written like real requests
    prompts = [json.loads(line)["prompt"] for line in source.read_text().splitlines() if line.strip()]
    keys = ["team-app", "team-data", "team-infra"]
    sent = 0
    with httpx.Client(timeout=60) as client:
        for s in range(sessions):
            session = f"sample-{s:04d}"
            key = rng.choices(keys, weights=[5, 3, 2])[0]
            model = "cloud,frontier" if rng.random() < 0.08 else "claude-sonnet-4-5"  # some sessions force a model
            history: list[dict[str, Any]] = []
            for _ in range(rng.randint(1, 4)):
                prompt = rng.choice(prompts)
                for attempt in range(2 if rng.random() < 0.05 else 1):  # a retried turn: the same prompt again
                    rounds = rng.randint(0, 3)
                    for r in range(rounds + 1):
                        body = {"model": model, "max_tokens": 4096, "system": "You are Claude Code.", "tools": TOOLS,
                                "messages": conversation(history, prompt, r)}
                        if r == 0 and rng.random() < 0.1:  # the background model's small requests
                            body["model"] = "claude-3-5-haiku-20241022"
                        client.post(f"{url}/v1/messages", json=body,
                                    headers={"x-api-key": key, "x-claude-code-session-id": session})
                        sent += 1
                    history += [{"role": "user", "content": prompt}, {"role": "assistant", "content": "Done."}]
                    del attempt
            say(f"sessions {s + 1}/{sessions}, requests {sent}")
    return sent


def spread(db: Path, seed: int) -> None:
    """Move each session to one of the last DAYS days, keeping its requests' order and spacing."""
    import duckdb

    rng = random.Random(seed)
    con = duckdb.connect(str(db))
    sessions = [r[0] for r in con.execute("SELECT DISTINCT session FROM decisions ORDER BY 1").fetchall()]
    # more work on weekdays and towards the end of the month: a ramp, not a flat line
    offsets = {s: min(DAYS - 1, int(rng.triangular(0, DAYS, 3))) for s in sessions}
    con.execute("CREATE TEMP TABLE shift (session VARCHAR, days INTEGER)")
    con.executemany("INSERT INTO shift VALUES (?, ?)", list(offsets.items()))
    con.execute("""UPDATE outcomes SET ts = outcomes.ts - to_days(shift.days)
                   FROM decisions JOIN shift USING (session) WHERE decisions.request_id = outcomes.request_id""")
    con.execute("UPDATE decisions SET ts = decisions.ts - to_days(shift.days) FROM shift "
                "WHERE decisions.session = shift.session")
    con.execute("UPDATE prompts SET ts = prompts.ts - to_days(shift.days) FROM shift "
                "WHERE prompts.session = shift.session")
    con.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=str(ROOT / "notebooks" / "sample"), help="directory to write")
    parser.add_argument("--sessions", type=int, default=120)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "ccr.duckdb").unlink(missing_ok=True)
    os.environ["CCR_HOME"] = str(out)  # the router writes its log here

    def say(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    import uvicorn

    from router.config import parse_config
    from router.server.app import create_app

    upstream = Upstream(args.seed).start()
    cfg = config(f"http://127.0.0.1:{upstream.port}")
    (out / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    app = create_app(parse_config(cfg, str(out / "config.json")))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    classifier = app.state.ccr.classifier
    deadline = time.monotonic() + 600  # the first run on a machine trains the default classifier
    while not (server.started and classifier.state != "loading") and time.monotonic() < deadline:
        time.sleep(0.1)
    if classifier.state != "ready":
        say(f"classifier {classifier.state}; the sample would have no task types")
        return 1
    sent = drive(f"http://127.0.0.1:{port}", args.sessions, args.seed, say)
    server.should_exit = True
    thread.join(60)
    spread(out / "ccr.duckdb", args.seed)
    say(f"wrote {out / 'ccr.duckdb'}: {sent} requests over {DAYS} days")
    return 0


if __name__ == "__main__":
    sys.exit(main())
