"""The plain-Python reference: the least a Python proxy does for a Claude Code request (Starlette on uvicorn with
uvloop and httptools, orjson, a rough translation of messages and tools to OpenAI's shape, aiohttp upstream), and
nothing else: no routing, no classifier, no log, no translation of the answer. What peers.md calls the calibration
forwarder; ccr's distance to it is the cost of everything ccr does beyond forwarding.

    python -m tests.bench.pyforward PORT UPSTREAM_URL
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(str(b.get("text") or b.get("content") or "") for b in content if isinstance(b, dict))


def translate(body: dict[str, Any]) -> dict[str, Any]:
    messages = [{"role": m["role"], "content": _text(m["content"])} for m in body["messages"]]
    tools = [{"type": "function", "function": {"name": t["name"], "description": t.get("description", ""),
                                               "parameters": t.get("input_schema", {})}}
             for t in body.get("tools") or ()]
    out = {"model": "bench-model", "messages": messages, "max_tokens": body.get("max_tokens"),
           "stream": bool(body.get("stream"))}
    if tools:
        out["tools"] = tools
    return out


def app(upstream: str) -> Starlette:
    session: aiohttp.ClientSession | None = None

    async def messages(request: Request) -> Response:
        nonlocal session
        if session is None:
            session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        body = orjson.loads(await request.body())
        resp = await session.post(upstream, data=orjson.dumps(translate(body)),
                                  headers={"content-type": "application/json"})
        if body.get("stream"):
            async def chunks() -> AsyncIterator[bytes]:
                async for chunk in resp.content.iter_any():
                    yield chunk
                resp.release()

            return StreamingResponse(chunks(), media_type="text/event-stream")
        data = await resp.read()
        resp.release()
        return Response(data, media_type="application/json")

    return Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])


if __name__ == "__main__":
    uvicorn.run(app(sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]), loop="uvloop", http="httptools",
                log_level="warning", access_log=False)
