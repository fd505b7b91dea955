"""The DuckDB decision and cost log: its exact schema, one decision and one outcome per routed request with the
upstream's tokens and the right cost, and nothing lost across a graceful restart."""

from __future__ import annotations

import datetime
import json
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest

from router.decisions.migrations import MIGRATIONS
from router.decisions.store import connect, log_path
from tests.e2e.agent import stream_step, whole_step
from tests.support.router import RouterServer, free_port
from tests.support.upstream import Reply, ScriptedUpstream, anthropic_sse, sse

MakeRouter = Callable[[dict[str, Any]], RouterServer]

SCHEMA = {
    "migrations": [("name", "VARCHAR"), ("applied_at", "TIMESTAMP")],
    "decisions": [
        ("request_id", "VARCHAR"), ("ts", "TIMESTAMP"), ("session", "VARCHAR"), ("turn", "VARCHAR"),
        ("key_id", "VARCHAR"), ("requested_model", "VARCHAR"), ("signal", "VARCHAR"), ("target", "VARCHAR"),
        ("candidates", "VARCHAR"), ("features", "VARCHAR"), ("notes", "VARCHAR"), ("task_type", "VARCHAR"),
        ("complexity", "VARCHAR"), ("difficulty", "DOUBLE"), ("probabilities", "VARCHAR"),
        ("expected_cost_usd", "DOUBLE"), ("routing_ms", "DOUBLE"), ("dispatcher", "VARCHAR"),
        ("prompt_id", "VARCHAR")],
    "outcomes": [
        ("request_id", "VARCHAR"), ("ts", "TIMESTAMP"), ("status", "INTEGER"), ("error_type", "VARCHAR"),
        ("error", "VARCHAR"), ("deployment", "VARCHAR"), ("provider", "VARCHAR"), ("model", "VARCHAR"),
        ("streamed", "BOOLEAN"), ("hops", "VARCHAR"), ("fallback_hops", "INTEGER"), ("input_tokens", "BIGINT"),
        ("output_tokens", "BIGINT"), ("cache_read_tokens", "BIGINT"), ("cache_write_tokens", "BIGINT"),
        ("cost_usd", "DOUBLE"), ("latency_ms", "DOUBLE"), ("ttft_ms", "DOUBLE"), ("usage_estimated", "BOOLEAN")],
    "prompts": [
        ("prompt_id", "VARCHAR"), ("ts", "TIMESTAMP"), ("session", "VARCHAR"), ("prompt", "VARCHAR"),
        ("depth", "INTEGER"), ("context_tokens", "BIGINT")],
    "labels": [
        ("prompt_id", "VARCHAR"), ("ts", "TIMESTAMP"), ("task_type", "VARCHAR"), ("complexity", "VARCHAR"),
        ("strong", "BOOLEAN"), ("source", "VARCHAR")],
}


def test_fresh_database_has_exactly_this_schema(tmp_path: Path) -> None:
    con = connect(tmp_path / "log.duckdb")
    rows = con.execute("""SELECT table_name, column_name, data_type FROM information_schema.columns
                          ORDER BY table_name, ordinal_position""").fetchall()
    found: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        found.setdefault(table, []).append((column, kind))
    assert found == SCHEMA
    assert [r[0] for r in con.execute("SELECT name FROM migrations").fetchall()] == [m[0] for m in MIGRATIONS]
    con.close()
    again = connect(tmp_path / "log.duckdb")  # applied on every open, recorded once
    assert again.execute("SELECT count(*) FROM migrations").fetchone() == (len(MIGRATIONS),)
    again.close()


PRICED = {"name": "gpt-test", "pricing": {"input": 2.0, "output": 8.0, "cache_read": 0.5, "cache_write": 2.5}}


def config(openai_url: str, anthropic_url: str, **extra: Any) -> dict[str, Any]:
    return {"Providers": [
        {"name": "up", "api_base_url": f"{openai_url}/v1/chat/completions", "api_key": "k", "models": [PRICED]},
        {"name": "ant", "api_base_url": f"{anthropic_url}/v1/messages", "api_key": "k", "transformer": {
            "use": ["anthropic"]}, "models": [{**PRICED, "name": "claude-x"}]}],
        "Router": {"default": "up,gpt-test"}, **extra}


STEP = {"text": "hi", "usage": {"prompt_tokens": 1500, "completion_tokens": 40,
                                "prompt_tokens_details": {"cached_tokens": 1000}}}
ANT_USAGE = {"input_tokens": 300, "output_tokens": 20, "cache_creation_input_tokens": 100,
             "cache_read_input_tokens": 2000}
MESSAGE = {"id": "m", "type": "message", "role": "assistant", "model": "claude-x", "content": [
    {"type": "text", "text": "hi"}], "stop_reason": "end_turn", "stop_sequence": None, "usage": ANT_USAGE}


def openai_script(r: Any) -> Reply:
    return Reply(chunks=stream_step(STEP)) if r.body.get("stream") else Reply(body=whole_step(STEP))


def anthropic_script(r: Any) -> Reply:
    if not r.body.get("stream"):
        return Reply(body=MESSAGE)
    return Reply(content_type="text/event-stream", chunks=anthropic_sse(
        {"type": "message_start", "message": {**MESSAGE, "content": [], "usage": {**ANT_USAGE, "output_tokens": 1}}},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "hi"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 20}},
        {"type": "message_stop"}))


@pytest.fixture
def two_upstreams(upstream: ScriptedUpstream) -> Any:
    upstream.script = openai_script
    other = ScriptedUpstream(anthropic_script).start()
    yield upstream, other
    other.stop()


def ask(router: RouterServer, model: str, stream: bool, key: str = "client-1") -> httpx.Response:
    return httpx.post(router.url + "/v1/messages", headers={"x-api-key": key}, json={
        "model": model, "max_tokens": 50, "stream": stream, "messages": [{"role": "user", "content": "hi"}]})


def rows(sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(log_path()), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# (model, stream, tokens in/out/cache read/cache write, cost)
CASES = [
    ("up,gpt-test", False, (500, 40, 1000, 0), (500 * 2 + 40 * 8 + 1000 * 0.5) / 1e6),
    ("up,gpt-test", True, (500, 40, 1000, 0), (500 * 2 + 40 * 8 + 1000 * 0.5) / 1e6),
    ("ant,claude-x", False, (300, 20, 2000, 100), (300 * 2 + 20 * 8 + 2000 * 0.5 + 100 * 2.5) / 1e6),
    ("ant,claude-x", True, (300, 20, 2000, 100), (300 * 2 + 20 * 8 + 2000 * 0.5 + 100 * 2.5) / 1e6),
]


@pytest.mark.parametrize(("model", "stream", "tokens", "cost"), CASES)
def test_each_request_logs_one_decision_and_one_outcome(
    model: str, stream: bool, tokens: tuple[int, ...], cost: float, two_upstreams: Any, make_router: MakeRouter,
) -> None:
    openai_up, anthropic_up = two_upstreams
    router = make_router(config(openai_up.url, anthropic_up.url))
    resp = ask(router, model, stream)
    assert resp.status_code == 200
    _ = resp.text
    router.stop()  # a graceful stop writes everything
    decisions = rows("SELECT request_id, signal, target, key_id, requested_model FROM decisions")
    outcomes = rows("""SELECT request_id, status, deployment, streamed, input_tokens, output_tokens,
                       cache_read_tokens, cache_write_tokens, cost_usd, fallback_hops FROM outcomes""")
    assert len(decisions) == len(outcomes) == 1
    assert decisions[0][0] == outcomes[0][0]
    assert decisions[0][1:3] == ("explicit", model) and decisions[0][4] == model and len(decisions[0][3]) == 12
    assert outcomes[0][1:4] == (200, model, stream)
    assert outcomes[0][4:8] == tokens
    assert outcomes[0][8] == pytest.approx(cost)
    assert outcomes[0][9] == 0


def test_failures_and_fallbacks_are_logged(two_upstreams: Any, make_router: MakeRouter) -> None:
    openai_up, anthropic_up = two_upstreams
    down = f"http://127.0.0.1:{free_port()}"
    cfg = config(openai_up.url, anthropic_up.url, retry={"retries": 0})
    cfg["Providers"].append({"name": "down", "api_base_url": down, "api_key": "k", "models": ["m"]})
    cfg["Router"] = {"default": "down,m", "fallback": {"default": ["up,gpt-test"]}}
    router = make_router(cfg)
    assert ask(router, "claude-sonnet-4-6", False).status_code == 200
    assert ask(router, "down,m", False).status_code == 200  # explicit: falls back too
    assert ask(router, "nope,x", False).status_code == 404  # never routed: no decision to log
    router.stop()
    logged = rows("SELECT status, deployment, fallback_hops, hops FROM outcomes ORDER BY ts")
    assert [r[:3] for r in logged] == [(200, "up,gpt-test", 1), (200, "up,gpt-test", 1)]
    assert json.loads(logged[0][3])[0]["deployment"] == "down,m"


def test_nothing_is_lost_across_a_graceful_restart(two_upstreams: Any) -> None:
    openai_up, anthropic_up = two_upstreams
    first = RouterServer(config(openai_up.url, anthropic_up.url)).start()
    for i in range(30):
        assert ask(first, "up,gpt-test", i % 2 == 0).status_code == 200
    first.stop()
    assert rows("SELECT count(*) FROM outcomes") == [(30,)]
    second = RouterServer(config(openai_up.url, anthropic_up.url)).start()
    try:
        for _ in range(5):
            ask(second, "ant,claude-x", False)
        stats = httpx.get(second.url + "/v1/ccr/stats").json()  # read through the running server
        assert stats["requests"] == 35 and stats["by_deployment"] == {"up,gpt-test": 30, "ant,claude-x": 5}
        by_model = httpx.get(second.url + "/v1/ccr/costs?by=model").json()
        assert [(r["group"], r["requests"]) for r in by_model] == [("ant,claude-x", 5), ("up,gpt-test", 30)]
        assert httpx.get(second.url + "/v1/ccr/costs?by=week").status_code == 400
    finally:
        second.stop()
    assert rows("SELECT count(*) FROM decisions") == [(35,)]
    assert rows("SELECT count(*) FROM migrations") == [(len(MIGRATIONS),)]


def test_cli_reads_the_file_when_the_router_is_stopped(two_upstreams: Any, ccr_home: Path) -> None:
    openai_up, anthropic_up = two_upstreams
    router = RouterServer(config(openai_up.url, anthropic_up.url)).start()
    ask(router, "up,gpt-test", False)
    ask(router, "ant,claude-x", True, key="client-2")
    router.stop()
    run = [sys.executable, "-m", "router"]
    costs = json.loads(subprocess.run([*run, "costs", "--by", "key", "--json"], capture_output=True, text=True,
                                      check=True).stdout)
    assert len(costs) == 2 and {r["requests"] for r in costs} == {1}
    table = subprocess.run([*run, "costs", "--by", "model"], capture_output=True, text=True, check=True).stdout
    assert "ant,claude-x" in table and "up,gpt-test" in table and table.splitlines()[-1].startswith("total")
    stats = subprocess.run([*run, "stats"], capture_output=True, text=True, check=True).stdout
    assert "requests:        2 (0 failed" in stats


def test_cli_without_a_log_says_so(ccr_home: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "router", "stats"], capture_output=True, text=True)
    assert result.returncode == 1 and "no decision log" in result.stderr


def test_a_bad_row_does_not_take_its_batch_with_it(tmp_path: Path) -> None:
    from router.decisions.store import DecisionLog

    store = DecisionLog(tmp_path / "log.duckdb")
    store.start()
    now = datetime.datetime(2026, 11, 21, 12, 0)
    row = (("r1", now, None, None, None, "m", "default", "t", "[]", "{}", "[]", None, None, None, None, None, 0.1,
            None, None),
           ("r1", now, 200, None, None, None, None, None, False, "[]", 0, None, None, None, None, None, 1.0, None,
            False))
    store.record(*row)
    store.record(*row)  # the same request id again: this row cannot be written
    store.record((("r2", *row[0][1:])), (("r2", *row[1][1:])))
    store.stop()
    con = duckdb.connect(str(tmp_path / "log.duckdb"), read_only=True)
    assert con.execute("SELECT request_id FROM outcomes ORDER BY 1").fetchall() == [("r1",), ("r2",)]
    con.close()


def test_a_log_held_by_another_process_does_not_stop_the_router(two_upstreams: Any, ccr_home: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", (
        "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(30)"),
        str(log_path())], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        openai_up, anthropic_up = two_upstreams
        router = RouterServer(config(openai_up.url, anthropic_up.url)).start()
        try:
            assert ask(router, "up,gpt-test", False).status_code == 200
            assert "lock" in httpx.get(router.url + "/health").json()["decision_log"].lower()
        finally:
            router.stop()
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


@pytest.mark.parametrize("stream", [False, True])
def test_no_usage_from_the_provider_is_estimated_and_marked(two_upstreams: Any, make_router: MakeRouter,
                                                            stream: bool) -> None:
    """A provider that reports no usage must not make requests free for the budgets: the log gets ccr's
    estimate, its cost, and the mark that it is one."""
    openai_up, anthropic_up = two_upstreams
    if stream:
        openai_up.script = lambda r: Reply(chunks=sse({"choices": [{"index": 0, "delta": {"content": "hi there"}}]},
                                                      {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
                                                      "[DONE]"))
    else:
        openai_up.script = lambda r: Reply(body={"choices": [{"index": 0, "message": {"content": "hi there"},
                                                              "finish_reason": "stop"}]})
    router = make_router(config(openai_up.url, anthropic_up.url))
    assert ask(router, "up,gpt-test", stream).status_code == 200
    router.stop()
    ((inputs, outputs, cost, estimated),) = rows(
        "SELECT input_tokens, output_tokens, cost_usd, usage_estimated FROM outcomes")
    assert inputs > 0 and outputs > 0 and cost is not None and cost > 0 and estimated is True


def _start_readers(read: Callable[[], None], count: int = 3) -> tuple[list[Any], list[BaseException]]:
    """`count` threads running `read`; what any of them raised is collected (a thread's own exception would be lost)."""
    import threading

    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            read()
        except BaseException as exc:
            errors.append(exc)
    threads = [threading.Thread(target=guarded) for _ in range(count)]
    for t in threads:
        t.start()
    return threads, errors


def test_purge_waits_for_readers_and_keeps_the_log_open(tmp_path: Path) -> None:
    """Stats and prompt queries run on cursors of the writer's connection: the purge, which replaces the file
    and the connection, waits for them, and they for it."""
    import threading

    from router.decisions.store import DecisionLog

    log = DecisionLog(tmp_path / "ccr.duckdb")
    log.start()
    try:
        log.execute("INSERT INTO prompts VALUES ('p1', now(), 's', 'SECRET-PROMPT-TEXT', 1, 10)", [])
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                log.query("SELECT count(*) FROM decisions, range(20000)")
        readers, errors = _start_readers(read)
        assert log.purge_prompts() == 1
        stop.set()
        for t in readers:
            t.join(10)
        assert errors == [] and log.problem is None
        assert log.query("SELECT count(*) FROM prompts") == [(0,)]
    finally:
        log.stop()
    assert b"SECRET-PROMPT-TEXT" not in (tmp_path / "ccr.duckdb").read_bytes()


def _pair(request_id: str, ts: datetime.datetime) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    decision = (request_id, ts, "s", None, None, "m", "default", "t", "[]", "{}", "[]", None, None, None, None, None,
                0.1, None, f"p_{request_id}")
    outcome = (request_id, ts, 200, None, None, None, None, None, False, "[]", 0, None, None, None, None, None, 1.0,
               None, False)
    return decision, outcome


def test_a_purge_drops_the_prompts_of_turns_decided_before_it(tmp_path: Path) -> None:
    """A turn's row is recorded when its labels are ready, which can be after the purge began although the turn was
    decided (and answered) before it: its prompt must not be written into the purged log."""
    from router.decisions.store import DecisionLog

    store = DecisionLog(tmp_path / "log.duckdb")
    store.start()
    try:
        before = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        store.record(*_pair("r1", before), ("p_r1", before, "s", "EARLY-SECRET", 1, 10))
        assert store.purge_prompts() == 1
        store.record(*_pair("r2", before), ("p_r2", before, "s", "LATE-SECRET", 1, 10))  # decided before the purge
        after = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + datetime.timedelta(milliseconds=1)
        store.record(*_pair("r3", after), ("p_r3", after, "s", "kept, decided after it", 1, 10))
        assert store.query("SELECT prompt FROM prompts") == [("kept, decided after it",)]
        assert store.query("SELECT count(*) FROM decisions") == [(3,)]  # the turns themselves are kept
    finally:
        store.stop()
    assert b"SECRET" not in (tmp_path / "log.duckdb").read_bytes()


def test_reads_of_a_real_sized_log_fit_its_memory_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every read shares the writer's MEMORY_LIMIT (32 MB): two `ccr label --list --all` at once over long prompts
    failed with DuckDB's out-of-memory error (a 500) before reads took turns, and `ccr label` alone failed on ~600
    long prompts, `ccr train` on fewer with several requests per turn, before they read the text last; the same
    commands on the stopped router's file failed the same way."""
    from router.cli.log_cmd import from_file
    from router.decisions import training
    from router.decisions.store import DecisionLog

    monkeypatch.setenv("CCR_HOME", str(tmp_path))
    store = DecisionLog(tmp_path / "ccr.duckdb")
    store.start()
    try:
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        for i in range(800):  # a turn of four requests (tool rounds) each; the first turn repeated by the second
            for j in range(4):
                decision, outcome = _pair(f"r{i}.{j}", now + datetime.timedelta(seconds=i))
                decision = (*decision[:6], "explicit" if i < 2 else "default", *decision[7:18], f"p_r{i}")
                store.record(decision, outcome, (f"p_r{i}", now + datetime.timedelta(seconds=i), "s",
                                                 ("same" if i < 2 else f"{i} ") + "x" * 16_000, i, 10) if j == 0 else None)
        assert store.query("SELECT count(*) FROM decisions") == [(3200,)]

        def read() -> None:
            for _ in range(3):
                newest = training.to_label(store.query, 20, True)
                assert [n["prompt_id"] for n in newest] == [f"p_r{i}" for i in range(799, 779, -1)]
                assert newest[0]["prompt"] == ("799 " + "x" * 16_000)[:1200] and newest[0]["chars"] == 16_004
                assert len(training.to_label(store.query, 1000, True)) == 800
                # the first turn chose its model (every model strong here): an override, with its whole text;
                # the second repeats it word for word, after a strong model: no retry
                derived = training.derive(store.query, lambda target: 3)
                assert [(d["id"], d["source"], d["prompt"]) for d in derived] == [
                    ("log-p_r0", "override", "same" + "x" * 16_000)]
        readers, errors = _start_readers(read)
        for t in readers:
            t.join(120)
        assert errors == []
    finally:
        store.stop()
    assert len(from_file(lambda run: training.to_label(run, 1000, True), write=True)) == 800  # `ccr label`, stopped
    derived = from_file(lambda run: training.derive(run, lambda target: 3), write=True)  # `ccr train`, stopped
    assert [d["id"] for d in derived] == ["log-p_r0"]


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("short", 12, "short"),
    ("x" * 20, 12, "x" * 12),
    ("字" * 5, 12, "字" * 4),  # three bytes each: a fifth would need 15
    ("ab" + "字" * 4, 12, "ab" + "字" * 3),  # 11 bytes: the cut never splits a character
    ("😀" * 4, 12, "😀" * 3),
    ("😀" * 3, 12, "😀" * 3),
])
def test_a_logged_prompt_is_cut_to_its_bytes_never_inside_a_character(text: str, limit: int, expected: str) -> None:
    from router.decisions.records import clip_utf8

    assert clip_utf8(text, limit) == expected


def test_a_burst_of_the_longest_prompts_is_written_whole(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The longest prompts the log keeps, thousands at once: 5,000 turns of 16,000 characters ran DuckDB's
    checkpoint out of the writer's memory limit (which invalidates the database: every later row was lost), and
    666 of 12,000 bytes in one transaction ran the insert out of it (the batch then crawled row by row)."""
    import random

    from router.decisions.records import PROMPT_BYTES, decision_row, outcome_row, prompt_row
    from router.decisions.store import DecisionLog
    from router.routing.decision import RoutingDecision

    letters = random.Random(7)
    store = DecisionLog(tmp_path / "log.duckdb")
    store.start()
    try:
        for i in range(4500):
            d = RoutingDecision("p,m", "default", ["p,m"], {}, 0.1, session="s", prompt_id=f"p{i}")
            # text that compresses as little as pasted logs do, in one, three and four bytes a character
            alphabet = ("0123456789abcdef", "字汉語", "😀🚀")[i % 3]
            text = "".join(letters.choices(alphabet, k=16_000))
            store.record(decision_row(d, "m", None),
                         outcome_row(d, status=200, streamed=False, latency_ms=1.0, usage={}, cost=None),
                         prompt_row(d, text, 1, 10))
        assert store.flush(120)
        assert store.query("SELECT count(*), max(strlen(prompt)) FROM prompts") == [(4500, PROMPT_BYTES)]
        assert store.query("SELECT count(*) FROM decisions") == [(4500,)]
    finally:
        store.stop()
    assert not [r for r in caplog.records if r.name == "ccr.decisions" and r.levelno >= logging.WARNING]


def test_a_database_duckdb_gave_up_on_is_reported_once_and_not_retried(
        tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    """DuckDB's fatal errors (an automatic checkpoint out of memory, for one) invalidate the database for the rest
    of the process: every retry fails too. The writer says so once, with what to do, where `/health` shows it
    (`problem`), instead of one error per row for the rest of the run. (The failure itself is DuckDB's: here the
    exception it raises, after a first batch written for real.)"""
    from router.decisions.store import DecisionLog

    store = DecisionLog(tmp_path / "log.duckdb")
    store.start()
    real, calls = store._insert, []

    def insert(rows: list[Any]) -> None:
        calls.append(len(rows))
        if len(calls) > 1:
            raise duckdb.FatalException("FATAL Error: Failed to create checkpoint because of error: failed to pin block")
        real(rows)

    monkeypatch.setattr(store, "_insert", insert)
    now = datetime.datetime(2026, 12, 7, 12, 0)
    try:
        store.record(*_pair("r0", now))
        assert store.flush() and store.problem is None
        for i in range(1, 6):
            store.record(*_pair(f"r{i}", now))
        assert store.flush()
        assert store.problem is not None and "until the router restarts" in store.problem
        store.record(*_pair("r9", now))  # no longer queued, so never retried
        assert store.flush() and calls == [1, 5]
        assert store.query("SELECT request_id FROM decisions") == [("r0",)]  # reads still answer
    finally:
        store.stop()
    errors = [r.getMessage() for r in caplog.records if r.name == "ccr.decisions" and r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "ccr restart" in errors[0]
