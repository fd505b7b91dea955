from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.router import RouterServer


@pytest.fixture(scope="session")
def default_model() -> Any:
    """The default classifier, trained from data/ once per machine (cached) and loaded once per test run."""
    from classifier.embed import shared
    from classifier.model import load
    from classifier.train import ensure_default

    embedder = shared()
    directory = ensure_default(embedder)
    heads, meta = load(directory)
    return embedder, heads, meta


def wait_ready(router: RouterServer, timeout: float = 300) -> None:
    classifier = router.app.state.ccr.classifier
    deadline = time.monotonic() + timeout
    while classifier.state in ("loading", "not started") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert classifier.state == "ready", classifier.state


@pytest.fixture
def ml_router(make_router: Callable[[dict[str, Any]], RouterServer], default_model: Any
              ) -> Callable[[dict[str, Any]], RouterServer]:
    def make(config: dict[str, Any]) -> RouterServer:
        router = make_router({"Classifier": {"enabled": True}, **config})
        wait_ready(router)
        return router

    return make
