"""The log's schema, as an ordered list of named migrations applied on every open and recorded in
`migrations`. Append new ones; never edit one that has shipped.

decisions: one row per routed request: what was decided and why.
outcomes:  one row per routed request: what happened (status, hops, tokens the upstream reported, cost, time);
           usage_estimated when the upstream reported none and the tokens are ccr's estimate.
prompts:   one row per user turn (prompt_id): the latest human prompt, for `ccr train` and `ccr label`.
labels:    labels given to prompts: by `ccr label` (manual); newest wins.
JSON-valued columns (candidates, features, notes, probabilities, dispatcher, hops) are VARCHAR holding JSON,
so the file opens without any DuckDB extension. Every timestamp is UTC.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

Connection = Any  # duckdb.DuckDBPyConnection, imported lazily: the CLI must start fast


def _decisions_and_outcomes(con: Connection) -> None:
    con.execute("""
        CREATE TABLE decisions (
            request_id        VARCHAR PRIMARY KEY,
            ts                TIMESTAMP NOT NULL,
            session           VARCHAR,
            turn              VARCHAR,
            key_id            VARCHAR,
            requested_model   VARCHAR,
            signal            VARCHAR NOT NULL,
            target            VARCHAR NOT NULL,
            candidates        VARCHAR NOT NULL,
            features          VARCHAR NOT NULL,
            notes             VARCHAR NOT NULL,
            task_type         VARCHAR,
            complexity        VARCHAR,
            difficulty        DOUBLE,
            probabilities     VARCHAR,
            expected_cost_usd DOUBLE,
            routing_ms        DOUBLE NOT NULL,
            dispatcher        VARCHAR
        )""")
    con.execute("""
        CREATE TABLE outcomes (
            request_id         VARCHAR PRIMARY KEY,
            ts                 TIMESTAMP NOT NULL,
            status             INTEGER NOT NULL,
            error_type         VARCHAR,
            error              VARCHAR,
            deployment         VARCHAR,
            provider           VARCHAR,
            model              VARCHAR,
            streamed           BOOLEAN NOT NULL,
            hops               VARCHAR NOT NULL,
            fallback_hops      INTEGER NOT NULL,
            input_tokens       BIGINT,
            output_tokens      BIGINT,
            cache_read_tokens  BIGINT,
            cache_write_tokens BIGINT,
            cost_usd           DOUBLE,
            latency_ms         DOUBLE NOT NULL,
            ttft_ms            DOUBLE
        )""")


def _prompts_and_labels(con: Connection) -> None:
    con.execute("ALTER TABLE decisions ADD COLUMN prompt_id VARCHAR")
    con.execute("""
        CREATE TABLE prompts (
            prompt_id      VARCHAR PRIMARY KEY,
            ts             TIMESTAMP NOT NULL,
            session        VARCHAR,
            prompt         VARCHAR NOT NULL,
            depth          INTEGER NOT NULL,
            context_tokens BIGINT NOT NULL
        )""")
    con.execute("""
        CREATE TABLE labels (
            prompt_id  VARCHAR NOT NULL,
            ts         TIMESTAMP NOT NULL,
            task_type  VARCHAR,
            complexity VARCHAR,
            strong     BOOLEAN,
            source     VARCHAR NOT NULL
        )""")


def _usage_estimated(con: Connection) -> None:
    con.execute("ALTER TABLE outcomes ADD COLUMN usage_estimated BOOLEAN NOT NULL DEFAULT false")


MIGRATIONS: list[tuple[str, Callable[[Connection], None]]] = [
    ("0001_decisions_and_outcomes", _decisions_and_outcomes),
    ("0002_prompts_and_labels", _prompts_and_labels),
    ("0003_usage_estimated", _usage_estimated),
]


def migrate(con: Connection) -> list[str]:
    """Apply what is missing, each in its own transaction; the names applied now."""
    con.execute("CREATE TABLE IF NOT EXISTS migrations (name VARCHAR PRIMARY KEY, applied_at TIMESTAMP NOT NULL)")
    done = {row[0] for row in con.execute("SELECT name FROM migrations").fetchall()}
    applied = []
    for name, step in MIGRATIONS:
        if name in done:
            continue
        con.execute("BEGIN TRANSACTION")
        try:
            step(con)
            con.execute("INSERT INTO migrations VALUES (?, ?)", [name, dt.datetime.now(dt.UTC).replace(tzinfo=None)])
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        applied.append(name)
    return applied
