"""The single writer. Requests hand it rows (a queue put, nothing more); a thread writes them in batches, one
transaction per batch. A graceful stop writes everything; a crash loses at most the batch not yet written:
the requests that ended in the last FLUSH_INTERVAL_S seconds, at most two batches while the writer keeps up
(one being committed, one filling; the README gives a measurement).

DuckDB allows one writing process: while the server runs, other processes read through its API
(`/v1/ccr/stats`, `/v1/ccr/costs`); when it is stopped, they open the file read-only. If another process holds
the file when the server starts, the server serves without the log and says so (log file and /health).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import queue
import threading
import time
from pathlib import Path
from typing import Any

from router import paths
from router.decisions.migrations import migrate
from router.decisions.records import DECISION_COLUMNS, OUTCOME_COLUMNS, PROMPT_COLUMNS

log = logging.getLogger("ccr.decisions")

BATCH_ROWS = 1024
# a batch is written once its prompts hold this many bytes, whatever its rows: a burst of long prompts in one
# transaction ran out of MEMORY_LIMIT (666 turns of 12,000 bytes), the batch fell back to one transaction a row
# (8 ms each), and a writer that far behind lost what a stop could not wait for
BATCH_PROMPT_BYTES = 2_000_000
MEMORY_LIMIT = "32MB"
READ_MEMORY_LIMIT = "512MB"  # while one of ccr's own reads runs (DecisionLog.query)
FLUSH_INTERVAL_S = 1.0
_STOP = object()


class _Task:
    """Work of the server's own that must run on the writer's thread, between batches."""

    def __init__(self, work: Any) -> None:
        self.work = work
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self.work()
        except BaseException as exc:  # handed to the waiting caller
            self.error = exc
        finally:
            self.done.set()

    def result(self, timeout: float = 120.0) -> Any:
        if not self.done.wait(timeout):
            raise RuntimeError("the decision log's writer did not get to the task in time")
        if self.error is not None:
            raise self.error
        return self.value


Row = tuple[Any, ...]
Pair = tuple[Row, Row, Row | None]  # decision, outcome, and the turn's prompt on its first request
_TEXT = PROMPT_COLUMNS.index("prompt")


def _utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def log_path() -> Path:
    return paths.data_dir() / "ccr.duckdb"


def connect(path: Path, read_only: bool = False, memory_limit: str = MEMORY_LIMIT) -> Any:
    """The log's file; `memory_limit` for a writer (the server's MEMORY_LIMIT; a `ccr` command that opens the
    stopped router's file to read and label it runs briefly, with READ_MEMORY_LIMIT)."""
    import duckdb

    if read_only:
        return duckdb.connect(str(path), read_only=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    # DuckDB keeps written blocks and its checkpoints' work in memory up to 80% of RAM by default: measured, the
    # router grew by ~190 MB over 400k logged requests, with peaks ~280 MB above its start. With this limit it
    # levels off ~30 MB above its start (peaks ~36 MB); queries larger than the limit spill to disk.
    con.execute(f"SET memory_limit = '{memory_limit}'")
    migrate(con)
    return con


def purge_prompts(con: Any, path: Path) -> int:
    """Delete every logged prompt and rewrite the file without them (DuckDB leaves deleted text in its free
    blocks, and a checkpoint does not clear them): the tables are copied into a new file that replaces the old.
    `con` is closed; the number of prompts deleted is returned."""
    fresh = path.with_name(f".{path.name}.purge")
    fresh.unlink(missing_ok=True)
    try:
        deleted = int(con.execute("SELECT count(*) FROM prompts").fetchone()[0])
        con.execute("DELETE FROM prompts")
        name = con.execute("SELECT current_database()").fetchone()[0]
        quoted = str(fresh).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS ccr_purged")
        con.execute(f'COPY FROM DATABASE "{name}" TO ccr_purged')
        con.execute("DETACH ccr_purged")
        con.close()
        fresh.replace(path)
    except BaseException:
        fresh.unlink(missing_ok=True)
        raise
    path.with_name(path.name + ".wal").unlink(missing_ok=True)  # the old file's journal, prompts included
    return deleted


def _insert_ignore(table: str, width: int) -> str:
    """One statement for a whole batch: a list per column, unnested side by side (the appender cannot skip rows
    whose key is already there)."""
    return f"INSERT OR IGNORE INTO {table} SELECT " + ", ".join(f"unnest(${i + 1})" for i in range(width))


def _columns(rows: list[Row]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]


class DecisionLog:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or log_path()
        self.con: Any = None
        self.problem: str | None = "not started"
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="ccr-decision-log", daemon=True)
        self._lock = threading.Lock()  # the writer's connection: one call at a time (readers take cursors)
        self._idle = threading.Condition(self._lock)  # no reader's cursor open: the connection may be replaced
        self._readers = 0
        # one reader at a time, each with READ_MEMORY_LIMIT while it runs: the prompts' text alone can fill the
        # writer's MEMORY_LIMIT (800 prompts of 16,000 characters, as long as it kept them then), and `ccr label` /
        # `ccr train` then failed with DuckDB's out-of-memory error (a 500); reads are `ccr` commands, so they can queue
        self._reading = threading.Lock()
        # prompts of turns decided before the last purge: a turn's row is recorded when its labels are ready,
        # which can be after a purge that began when its answer was already sent; such prompts are not written
        self._purged_before: dt.datetime | None = None
        self.written = 0

    def start(self) -> None:
        try:
            self.con = connect(self.path)
        except Exception as exc:  # e.g. another process holds the file: serve, without the log
            self.problem = f"{type(exc).__name__}: {exc}"
            log.error("decision log %s unavailable, serving without it: %s", self.path, self.problem)
            return
        self.problem = None
        self._thread.start()

    def record(self, decision: Row, outcome: Row, prompt: Row | None = None) -> None:
        if self.problem is None:
            if prompt is not None and self._purged_before is not None and prompt[1] <= self._purged_before:
                prompt = None  # a turn decided before the last purge, recorded after it began
            self._queue.put((decision, outcome, prompt))

    def execute(self, sql: str, params: list[Any]) -> None:
        """A small write of the server's own (a label), on the writer's connection."""
        if self.con is None:
            raise RuntimeError(f"the decision log is not open ({self.problem})")
        with self._lock:
            self.con.execute(sql, params)

    def purge_prompts(self) -> int:
        """`ccr log purge --prompts` while the server runs: on the writer's thread, after what is queued."""
        if self.con is None or not self._thread.is_alive():
            raise RuntimeError(f"the decision log is not open ({self.problem})")
        self._purged_before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        task = _Task(self._purge)
        self._queue.put(task)
        return int(task.result())

    def _purge(self) -> int:
        with self._idle:
            self._idle.wait_for(lambda: self._readers == 0, timeout=60)  # new readers wait on the lock meanwhile
            try:
                deleted = purge_prompts(self.con, self.path)
                self.con = connect(self.path)
            except BaseException as exc:  # the log is unusable now: say so (/health), never write into a closed one
                self.problem = f"purge failed: {type(exc).__name__}: {exc}"
                with contextlib.suppress(Exception):
                    self.con.close()
                self.con = None
                log.error("decision log purge failed; the router serves without the log until restarted: %s",
                          self.problem)
                raise
        return deleted

    def flush(self, timeout: float = 30.0) -> bool:
        """Write what is queued now; False if that did not finish in time (a large backlog)."""
        if not self._thread.is_alive():
            return True
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout):
            log.warning("decision log flush still running after %.0f s; answering with what is written", timeout)
            return False
        return True

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(60)
            if self._thread.is_alive():
                log.error("decision log writer did not finish in 60 s; some rows may be lost")
                return  # never close a connection the writer still uses
        if self.con is None:
            return
        leftovers: list[Pair] = []  # recorded while stopping
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                leftovers.append(item)
        self._write(leftovers)
        self.problem = "stopped"
        with self._lock:
            self.con.close()
            self.con = None

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        if self.con is None:
            return []
        self.flush()
        with self._reading:
            with self._lock:
                if self.con is None:
                    return []
                self.con.execute(f"SET memory_limit = '{READ_MEMORY_LIMIT}'")
                cursor = self.con.cursor()
                self._readers += 1
            try:
                return list(cursor.execute(sql, params or []).fetchall())
            finally:
                cursor.close()
                with self._idle:
                    self.con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
                    self._readers -= 1
                    self._idle.notify_all()

    def _run(self) -> None:
        pending: list[Pair] = []
        deadline, size = None, 0
        while True:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if isinstance(item, tuple):
                pending.append(item)
                deadline = deadline or time.monotonic() + FLUSH_INTERVAL_S
                size += _utf8_size(item[2][_TEXT]) if item[2] is not None else 0
                if len(pending) < BATCH_ROWS and size < BATCH_PROMPT_BYTES:
                    continue
            self._write(pending)
            pending, deadline, size = [], None, 0
            if isinstance(item, threading.Event):
                item.set()
            elif isinstance(item, _Task):
                item.run()
            elif item is _STOP:
                return

    def _write(self, rows: list[Pair]) -> None:
        if not rows or self.problem is not None:
            return
        try:
            self._insert(rows)
        except Exception as exc:
            if self._invalidated(exc):
                return
            log.exception("writing %d decisions failed; writing them one by one", len(rows))
            for row in rows:  # one bad row must not take its batch with it
                try:
                    self._insert([row])
                except Exception as exc:
                    if self._invalidated(exc):
                        return
                    log.exception("decision %s could not be written", row[0][0])

    def _invalidated(self, exc: Exception) -> bool:
        """DuckDB's fatal errors (a failed checkpoint, for one) leave the database unusable in this process, and
        no retry can write: say so once, where `/health` and the router's log show it, and stop trying."""
        import duckdb

        if not isinstance(exc, duckdb.FatalException):
            return False
        reason = str(exc).split("\n")[0]
        self.problem = f"the log's database failed and is written no more until the router restarts: {reason}"
        log.error("decision log %s: %s; `ccr restart` to write it again (rows are lost until then)", self.path,
                  self.problem)
        return True

    def _insert(self, rows: list[Pair]) -> None:
        with self._lock:
            self.con.execute("BEGIN TRANSACTION")
            try:
                # DuckDB's appender: ~30% cheaper than binding a list per column, ~10x cheaper than executemany
                for table, columns, part in (("decisions", DECISION_COLUMNS, 0), ("outcomes", OUTCOME_COLUMNS, 1)):
                    appender = self.con.appender(table, columns=list(columns))
                    appender.append_rows([pair[part] for pair in rows])
                    appender.flush()  # keys are checked here: a duplicate fails the batch
                prompts = list({p[0]: p for _, _, p in rows if p is not None}.values())
                if prompts:  # a turn seen again after a restart keeps its first row
                    self.con.execute(_insert_ignore("prompts", len(PROMPT_COLUMNS)), _columns(prompts))
                self.con.execute("COMMIT")
            except BaseException:
                self.con.execute("ROLLBACK")
                raise
        self.written += len(rows)
