"""`ccr` entry point: parses arguments and hands off to one command module."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ccr", description="Route Claude Code to any model provider.")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    start = sub.add_parser("start", help="start the router (in the background unless --foreground)")
    restart = sub.add_parser("restart", help="stop the router if running, then start it")
    for cmd in (start, restart):
        cmd.add_argument("--config", help="config file (default: $CCR_HOME/config.json, ~/.ccr/config.json)")
        cmd.add_argument("--port", type=int, help="port to listen on (default: PORT from the config, 3456)")
        cmd.add_argument("--host", help="address to bind (default: HOST from the config, 127.0.0.1)")
        cmd.add_argument("--foreground", action="store_true", help="serve in this terminal")
    sub.add_parser("stop", help="stop the running router")
    sub.add_parser("status", help="say whether the router runs, with pid, port, uptime and config")
    code = sub.add_parser("code", help="start the router if needed and run Claude Code through it")
    code.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to claude")
    sub.add_parser("activate", help='print shell exports for Claude Code: eval "$(ccr activate)"')
    stats = sub.add_parser("stats", help="what the router decided and how it went, from the decision log")
    stats.add_argument("--json", action="store_true", help="print JSON")
    costs = sub.add_parser("costs", help="tokens and cost from the decision log, grouped")
    costs.add_argument("--by", choices=["day", "model", "task_type", "key"], default="day")
    costs.add_argument("--json", action="store_true", help="print JSON")
    config = sub.add_parser("config", help="show, validate or locate the config file")
    config.add_argument("action", choices=["show", "validate", "path"])
    config.add_argument("--config", help="config file to use")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["code"]:  # everything after `code` belongs to claude, options included
        args = argparse.Namespace(command="code", args=argv[1:])
    else:
        args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "config":
        from router.cli import config_cmd

        return config_cmd.run(args.action, args.config)
    if args.command in ("stats", "costs"):
        from router.cli import log_cmd

        return int(getattr(log_cmd, f"cmd_{args.command}")(args))
    from router.cli import server_cmd

    try:
        return int(getattr(server_cmd, f"cmd_{args.command}")(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
