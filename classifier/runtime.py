"""The classifier inside the router: loaded in a background thread at start (the router routes by its rules
until then, and /health says which), run in one worker thread (never on the event loop), and asked at most
once per user turn: the tool rounds of a turn reuse the first round's answer."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from classifier.features import Conversation

log = logging.getLogger("ccr.classifier")
TURNS_KEPT = 4096


class Classifier:
    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self.state = "not started"  # not started | loading | ready | failed: …
        self.version: str | None = None
        self.meta: dict[str, Any] = {}
        self._heads: Any = None
        self._embedder: Any = None
        self._blas: Any = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ccr-classifier")
        self._turns: OrderedDict[str, asyncio.Future[Any]] = OrderedDict()  # touched on the event loop only

    @property
    def ready(self) -> bool:
        return self.state == "ready"

    def start(self) -> None:
        self.state = "loading"
        threading.Thread(target=self._load, name="ccr-classifier-load", daemon=True).start()

    def _load(self) -> None:
        try:
            from threadpoolctl import ThreadpoolController

            from classifier.embed import fast
            from classifier.train import load_active, stale_map

            self._heads, self.meta, self.version = load_active(say=lambda line: log.info("%s", line))
            if (warning := stale_map(self.meta, self.version)) is not None:
                log.warning("%s", warning)
            self._embedder = fast()
            self._blas = ThreadpoolController()  # found once: scanning the loaded libraries costs ~0.5 ms
            self.state = "ready"
            log.info("classifier %s ready", self.version)
        except Exception as exc:  # the router keeps routing by its rules
            self.state = f"failed: {type(exc).__name__}: {exc}"
            log.error("classifier not loaded, routing without it: %s", self.state)

    def _predict(self, prompt: str, conversation: Conversation) -> Any:
        from classifier.train import predict_texts

        with self._blas.limit(limits=self.threads):  # BLAS leaves the event loop its core
            return predict_texts(self._heads, self._embedder, [prompt], [conversation])[0]

    def predict(self, turn: str, prompt: str, conversation: Callable[[], Conversation]) -> asyncio.Future[Any]:
        """The prediction for this turn (a classifier.model.Prediction), as a future shared by every request of
        the turn, running or done: a turn is classified once. `conversation` is called only for a new turn.
        Call on the event loop, once the classifier is ready."""
        cached = self._turns.get(turn)
        if cached is not None:
            self._turns.move_to_end(turn)
            return cached
        future = asyncio.get_running_loop().run_in_executor(self._pool, self._predict, prompt, conversation())
        self._turns[turn] = future
        if len(self._turns) > TURNS_KEPT:
            self._turns.popitem(last=False)
        return future

    def health(self) -> dict[str, Any]:
        return {"state": self.state, "version": self.version,
                "score": self.meta.get("score") if self.meta else None}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
