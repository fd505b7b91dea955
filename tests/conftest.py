from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.support.router import RouterServer
from tests.support.upstream import ScriptedUpstream


@pytest.fixture(autouse=True)
def ccr_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Every test gets its own data directory."""
    home = tmp_path_factory.mktemp("ccr_home")
    monkeypatch.setenv("CCR_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def default_model() -> Any:
    """The default classifier as ccr ships it (data/model; its heads as the router loads them), loaded once per
    test run."""
    from classifier.embed import fast
    from classifier.model import load_inference
    from classifier.train import shipped_dir

    heads, meta = load_inference(shipped_dir())  # what the router runs
    return fast(), heads, meta


@pytest.fixture
def upstream() -> Iterator[ScriptedUpstream]:
    server = ScriptedUpstream().start()
    yield server
    server.stop()


def openai_config(url: str, **extra: Any) -> dict[str, Any]:
    models = extra.pop("models", ["gpt-test", {"name": "reasoner", "max_output_tokens": 8192,
                                               "capabilities": {"reasoning": True}}])
    transformer = extra.pop("transformer", None)
    provider: dict[str, Any] = {"name": "up", "api_base_url": f"{url}/v1/chat/completions", "api_key": "sk-test",
                                "models": models}
    if transformer:
        provider["transformer"] = transformer
    return {"Providers": [provider], "Router": {"default": "up,gpt-test"}, **extra}


@pytest.fixture
def make_router() -> Iterator[Callable[[dict[str, Any]], RouterServer]]:
    servers: list[RouterServer] = []

    def make(config: dict[str, Any]) -> RouterServer:
        server = RouterServer(config).start()
        servers.append(server)
        return server

    yield make
    for s in servers:
        s.stop()
