"""Serving in the foreground: logging, the state file that `ccr status` reads, uvicorn, clean shutdown."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from pathlib import Path
from types import FrameType

from router import logs, paths
from router.config import Config
from router.process import process_start

log = logging.getLogger("ccr.server")


def _remove_if_ours(path: Path) -> None:
    """Only this process's state: another `ccr start` may own the files by now."""
    try:
        owner = json.loads(path.read_text()).get("pid") if path.suffix == ".json" else int(path.read_text())
    except (OSError, ValueError, AttributeError):
        return
    if owner == os.getpid():
        path.unlink(missing_ok=True)


def _raise_file_limit() -> None:
    """Every stream in flight holds two sockets (client and provider): the usual soft limit of 1,024 open files
    would cap the router near 500 concurrent streams. The hard limit is the system's to set."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def refusal(config: Config, host: str) -> str | None:
    """Why the router must not listen on `host` with this config."""
    from router.server.guard import is_loopback

    if not is_loopback(host) and not config.apikey:
        return (f"refusing to listen on {host} without an API key: anyone on the network could use your provider "
                "keys. Set APIKEY in the config (clients then send it), or bind 127.0.0.1.")
    return None


def serve(path: Path, config: Config, host: str, port: int) -> int:
    import uvicorn

    from router.server.app import create_app

    paths.make_private()  # before the first file is written: logs, the decision log, the state file
    _raise_file_limit()
    refused = refusal(config, host)  # here as well as in the CLI: serve() is also called directly
    if refused:
        raise SystemExit(f"ccr: {refused}")
    logs.setup(config.log, config.log_level, to_stderr=os.environ.get("CCR_DAEMON") != "1")
    for warning in config.warnings:
        log.warning("config: %s", warning)
    state = {"pid": os.getpid(), "starttime": process_start(os.getpid()), "host": host, "port": port,
             "started": time.time(), "config": str(path)}

    class Server(uvicorn.Server):
        """uvicorn's server, quick to stop (`ccr stop` answers in well under 150 ms): a stop signal wakes the
        main loop at once (uvicorn looks every 0.1 s), and with no connection open there is nothing to wait
        for (uvicorn always waits 0.1 s for connections to finish)."""

        _wake: asyncio.Event | None = None
        _loop: asyncio.AbstractEventLoop | None = None

        async def main_loop(self) -> None:
            self._wake = asyncio.Event()
            counter = 0
            while not await self.on_tick(counter):
                counter = (counter + 1) % 864000
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 0.1)

        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            if self._wake is not None and self._loop is not None:
                self._loop.call_soon_threadsafe(self._wake.set)

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            if self.server_state.connections or self.server_state.tasks:
                await super().shutdown(sockets)  # answers in flight: uvicorn's graceful wait
                return
            for server in self.servers:
                server.close()
            for sock in sockets or []:
                sock.close()
            for server in self.servers:
                await server.wait_closed()
            await self.lifespan.shutdown()  # the app's own shutdown: the decision log is written out

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            self._loop = asyncio.get_running_loop()
            await super().startup(sockets)
            if self.started:  # bound and serving: only now may `ccr status` see us
                paths.data_dir().mkdir(parents=True, exist_ok=True)
                paths.write_private(paths.state_path(), json.dumps(state))
                paths.write_private(paths.pid_path(), str(os.getpid()))
                log.info("ccr listening on http://%s:%d with config %s", host, port, path)

    from router.plugins import PluginError

    try:
        app = create_app(config)
    except PluginError as exc:  # a plugin may enforce something: the router does not start without it
        raise SystemExit(f"ccr: {exc}") from None
    server = Server(uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
        log_config=None,  # uvicorn's records go to ccr's (redacting) handlers, not to its own
        loop="uvloop", http="httptools", timeout_graceful_shutdown=5, server_header=False,
        # the guard trusts scope["client"] (no APIKEY: loopback clients only), so no forwarded-for rewriting
        proxy_headers=False,
    ))
    try:
        server.run()
    finally:
        _remove_if_ours(paths.state_path())
        _remove_if_ours(paths.pid_path())
    if not server.started:
        log.error("ccr could not listen on %s:%d (is the port in use?)", host, port)
        return 1
    return 0

