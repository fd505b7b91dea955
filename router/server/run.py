"""Serving in the foreground: logging, the state file that `ccr status` reads, uvicorn, clean shutdown."""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path

from router import logs, paths
from router.config import Config

log = logging.getLogger("ccr.server")


def serve(path: Path, config: Config, host: str, port: int) -> int:
    import uvicorn

    from router.server.app import create_app

    logs.setup(config.log, config.log_level, to_stderr=os.environ.get("CCR_DAEMON") != "1")
    for warning in config.warnings:
        log.warning("config: %s", warning)
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
        loop="uvloop", http="httptools", timeout_graceful_shutdown=5, server_header=False,
    ))
    state = {"pid": os.getpid(), "host": host, "port": port, "started": time.time(), "config": str(path)}
    paths.data_dir().mkdir(parents=True, exist_ok=True)
    paths.state_path().write_text(json.dumps(state))
    paths.pid_path().write_text(str(os.getpid()))
    log.info("ccr listening on http://%s:%d with config %s", host, port, path)
    try:
        server.run()
    finally:
        for p in (paths.state_path(), paths.pid_path()):
            try:
                if p.read_text().find(str(os.getpid())) >= 0:
                    p.unlink()
            except OSError:
                pass
    return 0 if server.started else 1
