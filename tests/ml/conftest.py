from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.support.router import RouterServer, wait_ready


@pytest.fixture
def ml_router(make_router: Callable[[dict[str, Any]], RouterServer], default_model: Any
              ) -> Callable[[dict[str, Any]], RouterServer]:
    def make(config: dict[str, Any]) -> RouterServer:
        router = make_router({"Classifier": {"enabled": True}, **config})
        wait_ready(router)
        return router

    return make
