"""The single writer. Requests hand it rows (a queue put, nothing more); a thread writes them in batches, one
transaction per batch. A graceful stop writes everything; a crash loses at most the batch not yet written:
the last FLUSH_INTERVAL_S seconds of requests, or BATCH_ROWS requests, whichever is less.

DuckDB allows one writing process: while the server runs, other processes read through its API
(`/v1/ccr/stats`, `/v1/ccr/costs`); when it is stopped, they open the file read-only.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from router import paths
from router.decisions.migrations import migrate
from router.decisions.records import DECISION_COLUMNS, OUTCOME_COLUMNS

log = logging.getLogger("ccr.decisions")

BATCH_ROWS = 256
FLUSH_INTERVAL_S = 1.0
_STOP = object()


def log_path() -> Path:
    return paths.data_dir() / "ccr.duckdb"


def connect(path: Path, read_only: bool = False) -> Any:
    import duckdb

    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    migrate(con)
    return con


_INSERT_DECISION = f"INSERT INTO decisions VALUES ({', '.join('?' for _ in DECISION_COLUMNS)})"
_INSERT_OUTCOME = f"INSERT INTO outcomes VALUES ({', '.join('?' for _ in OUTCOME_COLUMNS)})"


class DecisionLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or log_path()
        self.con: Any = None
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ccr-decision-log", daemon=True)
        self._lock = threading.Lock()  # the writer's connection, also used (through cursors) by readers
        self.written = 0

    def start(self) -> None:
        self.con = connect(self.path)
        self._thread.start()

    def record(self, decision: tuple[Any, ...], outcome: tuple[Any, ...]) -> None:
        self._queue.put((decision, outcome))

    def flush(self) -> None:
        """Write what is queued now, and return when it is written (readers call it before a query)."""
        if not self._thread.is_alive():
            return
        done = threading.Event()
        self._queue.put(done)
        done.wait(10)

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(30)
        if self.con is not None:
            self.con.close()
            self.con = None

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        self.flush()
        with self._lock:
            cursor = self.con.cursor()
        try:
            return list(cursor.execute(sql, params or []).fetchall())
        finally:
            cursor.close()

    def _run(self) -> None:
        pending: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
        deadline = None
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if isinstance(item, tuple):
                pending.append(item)
                deadline = deadline or time.monotonic() + FLUSH_INTERVAL_S
                if len(pending) < BATCH_ROWS:
                    continue
            self._write(pending)
            pending, deadline = [], None
            if isinstance(item, threading.Event):
                item.set()
            elif item is _STOP:
                return

    def _write(self, rows: list[tuple[tuple[Any, ...], tuple[Any, ...]]]) -> None:
        if not rows:
            return
        try:
            with self._lock:
                self.con.execute("BEGIN TRANSACTION")
                self.con.executemany(_INSERT_DECISION, [d for d, _ in rows])
                self.con.executemany(_INSERT_OUTCOME, [o for _, o in rows])
                self.con.execute("COMMIT")
            self.written += len(rows)
        except Exception:
            log.exception("could not write %d decisions to %s", len(rows), self.path)
            try:
                self.con.execute("ROLLBACK")
            except Exception:
                log.debug("rollback after a failed write failed too", exc_info=True)
