"""What the log teaches the expected-cost estimate: output tokens per task type, and how much of each
deployment's input is read from the provider's cache. Running sums, fed by every outcome."""

from __future__ import annotations

import threading

MIN_SAMPLES = 20  # below this, the configured constant is the better guess


class Learned:
    def __init__(self, default_output: int) -> None:
        self.default_output = default_output
        self._lock = threading.Lock()
        self._output: dict[str, tuple[int, int]] = {}  # task type → (requests, output tokens)
        self._cache: dict[str, tuple[int, int]] = {}  # deployment → (cache-read tokens, all input tokens)

    def observe(self, task_type: str | None, deployment: str | None, usage: dict[str, int]) -> None:
        if not usage:
            return
        with self._lock:
            if task_type and "output_tokens" in usage:
                n, total = self._output.get(task_type, (0, 0))
                self._output[task_type] = (n + 1, total + usage["output_tokens"])
            if deployment:
                read = usage.get("cache_read_input_tokens", 0)
                seen = read + usage.get("input_tokens", 0) + usage.get("cache_creation_input_tokens", 0)
                r, s = self._cache.get(deployment, (0, 0))
                self._cache[deployment] = (r + read, s + seen)

    def load(self, outputs: list[tuple[str, int, int]], caches: list[tuple[str, int, int]]) -> None:
        with self._lock:
            self._output.update({t: (int(n), int(total)) for t, n, total in outputs})
            self._cache.update({d: (int(r), int(s)) for d, r, s in caches})

    def output_tokens(self, task_type: str | None) -> int:
        n, total = self._output.get(task_type or "", (0, 0))
        return round(total / n) if n >= MIN_SAMPLES else self.default_output

    def cache_share(self, deployment: str) -> float:
        read, seen = self._cache.get(deployment, (0, 0))
        return read / seen if seen else 0.0
