"""`ccr stats` and `ccr costs`: answered from the decision log, through the running server (DuckDB has one
writing process) or from the file itself when the router is stopped."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from router.cli.common import get_json, load_or_explain, read_state


def fetch(path: str, post: Any = None, timeout: float = 30) -> Any:
    """The answer of the running server, or None when no server runs."""
    state = read_state()
    if state is None:
        return None
    config = load_or_explain(Path(state["config"]), quiet=True)
    data = get_json(state["host"], state["port"], path, timeout=timeout, key=config.apikey if config else None, post=post,
                    errors=True)
    if data is None:
        raise SystemExit(f"ccr: the running router did not answer {path}; see its log (`ccr status` says where)")
    return data


def _open(write: bool) -> Any:
    """The stopped router's log file, opened here."""
    from router.decisions.store import READ_MEMORY_LIMIT, connect, log_path

    path = log_path()
    if not path.exists():
        raise SystemExit(f"ccr: no decision log at {path} yet; it is created when the router first serves")
    import duckdb

    try:
        return connect(path, read_only=not write, memory_limit=READ_MEMORY_LIMIT)
    except duckdb.IOException as exc:
        raise SystemExit(f"ccr: {path} is in use by another process (a router starting or running, or a duckdb "
                         f"shell): {exc}. Ask the running router, or close the other program.") from None


def from_file(ask: Any, write: bool = False) -> Any:
    con = _open(write)
    try:
        return ask(lambda sql, params=None: con.execute(sql, params or []).fetchall())
    finally:
        con.close()


def cmd_stats(args: argparse.Namespace) -> int:
    data = fetch("/v1/ccr/stats")
    if data is None:
        from router.decisions import queries

        data = from_file(queries.stats)
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print(f"requests:        {data['requests']} ({data['errors']} failed, {data['client_aborted']} left by the "
          f"client, {data['with_fallback']} fell back, {data['streamed']} streamed)")
    print(f"tokens:          {data['input_tokens']} in, {data['output_tokens']} out")
    print(f"cost:            ${data['cost_usd']:.4f}")
    print(f"latency:         p50 {data['latency_ms_p50']} ms, p95 {data['latency_ms_p95']} ms")
    print(f"period:          {data['first'] or '-'} → {data['last'] or '-'}")
    for title, key in (("decided by", "by_signal"), ("answered by", "by_deployment")):
        print(f"{title}:")
        for name, count in data[key].items():
            print(f"  {count:>8}  {name}")
    return 0


def cmd_costs(args: argparse.Namespace) -> int:
    data = fetch(f"/v1/ccr/costs?by={args.by}")
    if data is None:
        from router.decisions import queries

        data = from_file(lambda run: queries.costs(run, args.by))
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    if not data:
        print("no requests logged yet")
        return 0
    width = max(len(args.by), *(len(str(r["group"])) for r in data))
    print(f"{args.by:<{width}}  {'requests':>8}  {'errors':>6}  {'input':>10}  {'output':>10}  {'cached':>10}  "
          f"{'cost USD':>10}")
    for r in data:
        print(f"{r['group']:<{width}}  {r['requests']:>8}  {r['errors']:>6}  {r['input_tokens']:>10}  "
              f"{r['output_tokens']:>10}  {r['cache_read_tokens']:>10}  {r['cost_usd']:>10.4f}")
    total = sum(r["cost_usd"] for r in data)
    print(f"{'total':<{width}}  {sum(r['requests'] for r in data):>8}  {'':>6}  {'':>10}  {'':>10}  {'':>10}  "
          f"{total:>10.4f}", file=sys.stdout)
    return 0


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete what the log kept of prompts; the file is rewritten so that the text is gone from the disk too."""
    if not args.prompts:
        print("ccr: say what to purge: `ccr log purge --prompts` deletes every logged prompt", file=sys.stderr)
        return 2
    data = fetch("/v1/ccr/purge", post={"prompts": True}, timeout=180)  # the server allows the rewrite 120 s
    if data is not None:
        deleted = data["prompts_deleted"]
    else:
        from router.decisions.store import log_path, purge_prompts

        deleted = purge_prompts(_open(write=True), log_path())
    print(f"deleted {deleted} logged prompts; the decision log was rewritten without them. To keep none from now "
          'on, set "Classifier": {"logPrompts": false} in the config and `ccr restart`.')
    return 0
