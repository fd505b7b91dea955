"""What `ccr stats` and `ccr costs` ask of the log (days are UTC days; a client that left, 499, is not an error). The same SQL runs in the server (through the writer's
connection) and in the CLI (on the file, read-only, when the server is stopped)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Query = Callable[[str], list[tuple[Any, ...]]]

GROUPINGS = {
    "day": "CAST(o.ts AS DATE)",
    "model": "coalesce(o.provider || ',' || o.model, '(none)')",
    "task_type": "coalesce(d.task_type, '(unclassified)')",
    "key": "coalesce(d.key_id, '(no key)')",
}
COST_COLUMNS = ("group", "requests", "errors", "input_tokens", "output_tokens", "cache_read_tokens",
                "cache_write_tokens", "cost_usd")


def costs(run: Query, by: str) -> list[dict[str, Any]]:
    group = GROUPINGS[by]
    rows = run(f"""
        SELECT {group} AS grp, count(*), count(*) FILTER (WHERE o.status >= 400 AND o.status <> 499),
               coalesce(sum(o.input_tokens), 0), coalesce(sum(o.output_tokens), 0),
               coalesce(sum(o.cache_read_tokens), 0), coalesce(sum(o.cache_write_tokens), 0),
               round(coalesce(sum(o.cost_usd), 0), 6)
        FROM outcomes o JOIN decisions d USING (request_id)
        GROUP BY grp ORDER BY grp""")
    return [dict(zip(COST_COLUMNS, (str(r[0]), *r[1:]), strict=True)) for r in rows]


def stats(run: Query) -> dict[str, Any]:
    total = run("""
        SELECT count(*), count(*) FILTER (WHERE status >= 400 AND status <> 499), count(*) FILTER (WHERE fallback_hops > 0),
               count(*) FILTER (WHERE streamed), round(coalesce(sum(cost_usd), 0), 6),
               coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0),
               round(coalesce(quantile_cont(latency_ms, 0.5), 0), 1), round(coalesce(quantile_cont(latency_ms, 0.95), 0), 1),
               min(ts), max(ts), count(*) FILTER (WHERE status = 499)
        FROM outcomes""")[0]
    signals = run("SELECT signal, count(*) FROM decisions GROUP BY signal ORDER BY count(*) DESC, signal")
    deployments = run("""SELECT coalesce(deployment, '(none)'), count(*) FROM outcomes
                         GROUP BY 1 ORDER BY count(*) DESC, 1""")
    return {
        "requests": total[0], "errors": total[1], "with_fallback": total[2], "streamed": total[3],
        "cost_usd": total[4], "input_tokens": total[5], "output_tokens": total[6],
        "latency_ms_p50": total[7], "latency_ms_p95": total[8],
        "first": f"{total[9]} UTC" if total[9] else None, "last": f"{total[10]} UTC" if total[10] else None,
        "client_aborted": total[11],
        "by_signal": {s: n for s, n in signals}, "by_deployment": {s: n for s, n in deployments},
    }


def month_spend(run: Callable[..., list[tuple[Any, ...]]], month_start: str) -> list[tuple[Any, ...]]:
    """(key id, UTC day, USD) since `month_start` ('YYYY-MM-01'): what the budgets start from."""
    return run("""
        SELECT d.key_id, strftime(CAST(o.ts AS DATE), '%Y-%m-%d'), sum(o.cost_usd)
        FROM outcomes o JOIN decisions d USING (request_id)
        WHERE o.ts >= CAST(? AS TIMESTAMP) AND o.cost_usd IS NOT NULL
        GROUP BY 1, 2""", [month_start])


def learned(run: Query) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Output tokens per task type, and cache-read share per model, over answered requests."""
    outputs = run("""
        SELECT d.task_type, count(*), sum(o.output_tokens) FROM outcomes o JOIN decisions d USING (request_id)
        WHERE o.status = 200 AND o.output_tokens IS NOT NULL AND d.task_type IS NOT NULL GROUP BY 1""")
    caches = run("""
        SELECT provider || ',' || model, sum(coalesce(cache_read_tokens, 0)),
               sum(coalesce(input_tokens, 0) + coalesce(cache_read_tokens, 0) + coalesce(cache_write_tokens, 0))
        FROM outcomes WHERE status = 200 AND provider IS NOT NULL GROUP BY 1""")
    return outputs, caches
