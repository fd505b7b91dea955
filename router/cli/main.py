"""`ccr` entry point: parses arguments and hands off to one command module."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _prompt_limit(text: str) -> int:
    from router.decisions.training import MAX_PROMPTS, prompt_limit

    if (limit := prompt_limit(text)) is None:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to {MAX_PROMPTS}, got {text[:40]!r}")
    return limit


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
    classify = sub.add_parser("classify", help="task type, complexity and difficulty of a prompt, as JSON")
    classify.add_argument("prompt", nargs="?", help="the prompt to classify")
    classify.add_argument("--input", help="JSONL file with id and prompt on each line (- reads stdin)")
    classify.add_argument("--output", help="JSONL file to write (default: stdout)")
    evaluate = sub.add_parser("eval", help="precision, recall, F1 and confusion matrix of the active classifier")
    evaluate.add_argument("--data", help="labelled JSONL file (default: the seed set's validation split)")
    evaluate.add_argument("--json", action="store_true", help="print JSON")
    train = sub.add_parser("train", help="retrain the classifier on the seed set and labels from the log")
    train.add_argument("--force", action="store_true", help="activate the new model even if it scores worse")
    train.add_argument("--rollback", nargs="?", const="", metavar="VERSION",
                       help="activate the previous model (or VERSION, or 'default')")
    train.add_argument("--list", action="store_true", help="list kept versions")
    train.add_argument("--seed-only", action="store_true", help="ignore the log")
    train.add_argument("--config", help="config file (for model tiers when the router is stopped)")
    label = sub.add_parser("label", help="review and label logged prompts for `ccr train`")
    label.add_argument("prompt_id", nargs="?", help="label this prompt (else: review the newest, interactively)")
    label.add_argument("--task-type", help="generate, debug, refactor, review, explain, test, document, plan, other")
    label.add_argument("--complexity", help="low, medium or high")
    label.add_argument("--strong", action=argparse.BooleanOptionalAction, default=None,
                       help="a strong model is needed (--no-strong: it is not)")
    label.add_argument("--list", action="store_true", help="list prompts with the classifier's labels")
    label.add_argument("--all", action="store_true", help="include prompts already labelled")
    label.add_argument("--limit", type=_prompt_limit, default=20, help="how many prompts (default 20)")
    log = sub.add_parser("log", help="manage the decision log: `ccr log purge --prompts`")
    log.add_argument("action", choices=["purge"])
    log.add_argument("--prompts", action="store_true", help="delete every logged prompt (the file is rewritten)")
    config = sub.add_parser("config", help="show, validate or locate the config file, or add an APIKEY to it")
    config.add_argument("action", choices=["show", "validate", "path", "apikey"])
    config.add_argument("--config", help="config file to use")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _run(argv)
        sys.stdout.flush()  # here, not at exit: a reader that left is then caught below
        return code
    except BrokenPipeError:  # `ccr stats | head -2`
        from router.cli.common import reader_left

        return reader_left()


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["code"]:  # everything after `code` belongs to claude, options included
        args = argparse.Namespace(command="code", args=argv[1:])
    else:
        args = parser.parse_args(argv)
        # what ccr writes (config, log, models, exports of prompts) is the user's alone; not for `code`, whose
        # umask Claude Code would inherit for the user's own files
        os.umask(0o077)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "config":
        from router.cli import config_cmd

        return config_cmd.run(args.action, args.config)
    if args.command in ("stats", "costs", "log"):
        from router.cli import log_cmd

        return int(getattr(log_cmd, f"cmd_{args.action if args.command == 'log' else args.command}")(args))
    if args.command in ("classify", "eval", "train", "label"):
        from classifier.dataset import DataError
        from router.cli import ml_cmd

        try:
            return int(getattr(ml_cmd, f"cmd_{args.command}")(args))
        except KeyboardInterrupt:
            return 130
        except (DataError, RuntimeError) as exc:  # missing seed data, the model package not installed
            print(f"ccr: {exc}", file=sys.stderr)
            return 1
    from router.cli import server_cmd

    try:
        return int(getattr(server_cmd, f"cmd_{args.command}")(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
