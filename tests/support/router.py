"""Running the real ccr app (uvicorn, uvloop, httptools) on 127.0.0.1 inside the test process."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from router.config import parse_config
from router.routing.decision import RoutingDecision
from router.server.app import create_app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RouterServer:
    def __init__(self, config: dict[str, Any]) -> None:
        # the classifier loads torch (seconds, hundreds of MB): only the tests that are about it turn it on
        config = {"Classifier": {"enabled": False}, **config}
        self.config = parse_config(config, "<test>")
        self.port = free_port()
        self.app = create_app(self.config)
        self.server = uvicorn.Server(uvicorn.Config(
            self.app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False,
            loop="uvloop", http="httptools", lifespan="on",
        ))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def decisions(self) -> list[RoutingDecision]:
        return list(self.app.state.ccr.decisions)

    def start(self) -> RouterServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("ccr test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def wait_ready(router: RouterServer, timeout: float = 300) -> None:
    """Until the router's classifier has loaded (the first run on a machine trains the default model)."""
    classifier = router.app.state.ccr.classifier
    deadline = time.monotonic() + timeout
    while classifier.state in ("loading", "not started") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert classifier.state == "ready", classifier.state
