"""CUSTOM_ROUTER_PATH: a Python route(request, context) that runs first, with a timeout; its failures fall
through to the pipeline with a note."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.routing.helpers import decide, engine, provider, request


def config(tmp_path: Path, source: str, **extra: Any) -> dict[str, Any]:
    path = tmp_path / "router.py"
    path.write_text(source)
    return {"Providers": [provider("p", ["m", "big"])], "Router": {"default": "p,m"},
            "CUSTOM_ROUTER_PATH": str(path), "CUSTOM_ROUTER_TIMEOUT_MS": 200, **extra}


def test_custom_router_decides_first(tmp_path: Path) -> None:
    source = ("def route(request, context):\n"
              "    if 'big' in context['prompt'] and context['tokenCount'] > 0:\n"
              "        return 'p,big'\n"
              "    return None\n")
    eng = engine(config(tmp_path, source, CUSTOM_ROUTER_TIMEOUT_MS=5000))  # the first count loads tiktoken
    decision, _, _ = decide(eng, request("a big job", model="p,m"))
    assert (decision.signal, decision.target) == ("custom", "p,big")
    assert decide(eng, request("small"))[0].signal == "default"


@pytest.mark.parametrize(("source", "note"), [
    ("def route(request, context):\n    raise RuntimeError('boom')\n", "failed: RuntimeError: boom"),
    ("import time\ndef route(request, context):\n    time.sleep(1)\n    return 'p,big'\n", "took longer than 200 ms"),
    ("def route(request, context):\n    return 42\n", "returned int"),
    ("def route(request, context):\n    return 'nope,x'\n", "not configured"),
])
def test_custom_router_failures_fall_through(tmp_path: Path, source: str, note: str) -> None:
    decision, _, _ = decide(engine(config(tmp_path, source)), request())
    assert decision.signal == "default"
    assert note in decision.notes[0]


def test_a_hook_that_cannot_load_is_left_out(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    eng = engine(config(tmp_path, "this is not python"))
    assert eng.custom is None
    assert decide(eng, request())[0].signal == "default"


def test_a_hanging_hook_uses_its_own_threads_and_is_capped(tmp_path: Path) -> None:
    import asyncio

    from router.routing.custom import MAX_IN_FLIGHT
    from router.routing.features import RequestView

    source = "import time\ndef route(request, context):\n    time.sleep(0.3)\n    return 'p,big'\n"
    eng = engine(config(tmp_path, source, CUSTOM_ROUTER_TIMEOUT_MS=50))

    async def many() -> list[list[str]]:
        decisions = await asyncio.gather(*(eng.decide(RequestView(request())) for _ in range(MAX_IN_FLIGHT + 2)))
        return [d.notes for d, _ in decisions]

    notes = asyncio.run(many())
    assert sum("took longer than 50 ms" in n[0] for n in notes) == MAX_IN_FLIGHT
    assert sum("is busy" in n[0] for n in notes) == 2
